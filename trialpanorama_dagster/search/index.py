"""The frozen, local study-search environment: a tantivy index over the warehouse's articles and
trials that executes PubMed boolean queries and returns ranked ids (PMIDs for articles, the
article_id for articles without one, study ids for trials).

Why tantivy (over DuckDB's FTS extension or bm25s): it has boolean, phrase, prefix/regex
(truncation) and per-field queries natively, so a PubMed query becomes one index query (DuckDB
FTS ranks bag-of-words BM25 only: no phrases, no boolean structure, no prefixes; bm25s likewise
scores token bags, in memory); it builds an on-disk index that opens in 0.1 s without loading
it, it releases the GIL while searching, and it is one self-contained wheel. Measured with
``benchmarks/bench_search.py`` on 1.6M synthetic PubMed-like articles (2 cores, other load on
the machine): build 186 s (8,600 docs/s, peak RSS 2.9 GiB, index 1.5 GiB) where DuckDB FTS
indexes 7,700 docs/s (on 200k); version check 7.6 s; 1,000 generated review-style boolean
queries (phrases, tags, truncation, NOT) at 108 queries/s on one thread (p50 6.9 ms, p95
22 ms), 215/s on two, against 0.12/s for the same queries as a DuckDB ILIKE scan.

Determinism: the index stores each document's rank in id order (``ord``); hits are sorted by
BM25 score, then ``ord``, and ties at the k-th place are resolved by fetching until the next
score is lower, so the same warehouse gives the same version and the same ranking whatever the
segment layout. The version is ``documents.content_version``; ``index-info.json`` in the index
folder records it with the counts and the formats.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from importlib.metadata import version as package_version
from pathlib import Path
from typing import NamedTuple

import duckdb
import orjson
import tantivy

from .analysis import ANALYZER, TOKENIZER
from .documents import DOC_FORMAT, MeshTree, SearchDoc, content_version, iter_documents
from .query import parse
from .translate import Translator

INFO_FILE = "index-info.json"
IDS_FILE = "ids.json"
INDEX_FORMAT = f"trialpanorama-search-index/2 tantivy {package_version('tantivy')}"
KINDS = ("article", "study")
TITLE_WEIGHT = 2   # the title's copies in the combined text field (see translate)


@dataclass(frozen=True)
class IndexInfo:
    version: str          # content hash of the indexed documents
    documents: int
    path: Path
    articles: int = 0
    studies: int = 0
    format: str = INDEX_FORMAT


class Hit(NamedTuple):
    id: str
    kind: str
    score: float
    title: str | None


def schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("id", stored=True, tokenizer_name="raw")
    sb.add_text_field("kind", stored=True, tokenizer_name="raw")
    sb.add_integer_field("ord", fast=True)
    sb.add_text_field("title", stored=True, tokenizer_name=TOKENIZER)
    for name in ("text", "abstract", "keywords", "mesh_text", "journal"):
        sb.add_text_field(name, tokenizer_name=TOKENIZER)
    for name in ("mesh", "mesh_exp", "pt"):
        sb.add_text_field(name, tokenizer_name="raw")
    sb.add_integer_field("year", indexed=True, fast=True)
    return sb.build()


def _document(doc: SearchDoc, ord_: int) -> tantivy.Document:
    text = doc.titles * TITLE_WEIGHT + ([doc.abstract] if doc.abstract else []) + doc.keywords
    fields = {"id": doc.id, "kind": doc.kind, "ord": ord_, "title": doc.titles, "abstract": doc.abstract,
              "text": text,
              "keywords": doc.keywords, "mesh_text": doc.mesh, "journal": doc.journal, "mesh": doc.mesh,
              "mesh_exp": doc.mesh_exp, "pt": doc.pt, "year": doc.year}
    return tantivy.Document(**{k: v for k, v in fields.items() if v is not None and v != [] and v != ""})


def read_info(path: str | os.PathLike) -> IndexInfo | None:
    """The info of the index at ``path``; None when there is no complete index there."""
    path = Path(path)
    try:
        raw = orjson.loads((path / INFO_FILE).read_bytes())
    except (OSError, ValueError):
        return None
    return IndexInfo(raw["version"], raw["documents"], path, raw.get("articles", 0), raw.get("studies", 0),
                     raw.get("format", ""))


def build_index(con: duckdb.DuckDBPyConnection, path: str | os.PathLike, *, threads: int = 0,
                heap_bytes: int = 512_000_000) -> IndexInfo:
    """Index every article and trial of the warehouse at ``path`` (replaced atomically; the
    warehouse must not change meanwhile). ``threads``: tantivy indexing threads (0: its default)."""
    path = Path(path)
    if path.exists() and not (path / INFO_FILE).exists() and (not path.is_dir() or any(path.iterdir())):
        raise FileExistsError(f"{path} exists and is not a search index: not replacing it")
    tmp = path.with_name(path.name + ".building")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    tree = MeshTree.load(con)
    ids: list[str] = []
    ords: dict[str, dict[str, int]] = {kind: {} for kind in KINDS}   # rank in (id, kind) order

    def on_key(doc_id: str, kind: str) -> None:
        ords.setdefault(kind, {})[doc_id] = len(ids)
        ids.append(doc_id)

    version, counts = content_version(con, tree, on_key=on_key)
    (tmp / IDS_FILE).write_bytes(orjson.dumps(ids))
    ids.clear()
    index = tantivy.Index(schema(), path=str(tmp), reuse=False)
    index.register_tokenizer(TOKENIZER, ANALYZER)
    writer = index.writer(heap_size=heap_bytes, num_threads=threads)
    for doc in iter_documents(con, tree):
        writer.add_document(_document(doc, ords[doc.kind][doc.id]))
    ords.clear()
    writer.commit()
    writer.wait_merging_threads()
    info = IndexInfo(version, sum(counts.values()), path, counts["article"], counts["study"])
    (tmp / INFO_FILE).write_bytes(orjson.dumps({"version": info.version, "documents": info.documents,
                                                "articles": info.articles, "studies": info.studies,
                                                "format": info.format, "documents_format": DOC_FORMAT},
                                               option=orjson.OPT_INDENT_2))
    old = path.with_name(path.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if path.exists():
        path.rename(old)
    tmp.rename(path)
    shutil.rmtree(old, ignore_errors=True)
    return info


class SearchIndex:
    """An opened index. ``search`` takes a PubMed query (or a multi-line search strategy) and
    raises ``QueryError`` for one it cannot read, nothing else."""

    def __init__(self, path: str | os.PathLike):
        path = Path(path)
        info = read_info(path)
        if info is None:
            raise FileNotFoundError(f"no search index at {path}")
        self.info = info
        self._index = tantivy.Index.open(str(path))
        self._index.register_tokenizer(TOKENIZER, ANALYZER)
        self._schema = self._index.schema
        self._searcher = self._index.searcher()
        self._ids: list[str] | None = None

    @property
    def ids(self) -> list[str]:
        if self._ids is None:
            self._ids = orjson.loads((self.info.path / IDS_FILE).read_bytes())
        return self._ids

    def query(self, text: str, kind: str | None = None) -> tantivy.Query:
        """The tantivy query for ``text`` (restricted to ``kind``: article or study)."""
        q = Translator(self._schema, self._searcher)(parse(text).node)
        if kind is None:
            return q
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS} or None, not {kind!r}")
        others = [tantivy.Query.term_query(self._schema, "kind", k) for k in KINDS if k != kind]
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, q)] + [(tantivy.Occur.MustNot, o) for o in others])

    def _ranked(self, q: tantivy.Query, k: int) -> list[tuple[float, int, tantivy.DocAddress]]:
        if k < 1:
            raise ValueError(f"k must be at least 1, not {k}")
        limit = k + 32
        while True:
            hits = self._searcher.search(q, limit=limit, count=False).hits
            if len(hits) < limit or hits[-1][0] < hits[k - 1][0]:
                break
            limit *= 4
        ords = self._searcher.fast_field_values("ord", [addr for _, addr in hits])
        return sorted(((score, o, addr) for (score, addr), o in zip(hits, ords)), key=lambda h: (-h[0], h[1]))[:k]

    def search(self, query: str, k: int = 100, kind: str | None = None) -> list[str]:
        """Ranked ids of the documents matching ``query`` (best first, at most ``k``)."""
        ids = self.ids
        return [ids[o] for _, o, _ in self._ranked(self.query(query, kind), k)]

    def hits(self, query: str, k: int = 100, kind: str | None = None) -> list[Hit]:
        """``search`` with each document's kind, score and first title."""
        out = []
        for score, o, addr in self._ranked(self.query(query, kind), k):
            doc = self._searcher.doc(addr)
            out.append(Hit(self.ids[o], doc.get_first("kind"), score, doc.get_first("title")))
        return out


def open_index(path: str | os.PathLike) -> SearchIndex:
    return SearchIndex(path)


def default_index_path(db: str | os.PathLike) -> Path:
    """Where the index of a warehouse file lives: ``<db>.search-index/`` next to it."""
    return Path(f"{db}.search-index")


def ensure_index(con: duckdb.DuckDBPyConnection, path: str | os.PathLike,
                 rebuild: bool = False) -> tuple[SearchIndex, bool]:
    """The index at ``path``, (re)built when missing, of another format, or of other content than
    the warehouse holds now. Returns it and whether it was built."""
    info = read_info(path)
    current = (info is not None and not rebuild and info.format == INDEX_FORMAT
               and content_version(con)[0] == info.version)
    if not current:
        build_index(con, path)
    return SearchIndex(path), not current
