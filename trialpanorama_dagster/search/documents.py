"""What the study-search index holds: one document per article and per trial, read from the warehouse.

Articles (``literature``): id = PMID, else ``article_id``; title, abstract, journal, year,
publication types, MeSH headings. Trials (``studies``): id = ``study_id``; title + official title
+ acronym, brief summary as the abstract, keywords with the condition and intervention names,
the condition/intervention MeSH headings (``mesh_terms``: own and ancestors), start year.

``mesh_exp`` (what ``[mh]`` matches: PubMed explodes headings) adds every ancestor of a heading
found in the warehouse's MeSH tree (``ontology_concepts``, tree numbers), so ``Neoplasms[mh]``
finds an article indexed with ``Lung Neoplasms`` when the tree holds both.

The version is a content hash: SHA-256 over the format, the MeSH tree digest and, in id order,
``id kind md5(document)`` (the md5 computed by DuckDB over the document's fields as JSON).
"""
from __future__ import annotations

import hashlib
from collections import Counter
from typing import Iterator, NamedTuple

import duckdb

from .analysis import ANALYZER_VERSION, heading_key

DOC_FORMAT = f"trialpanorama-search-docs/1 ({ANALYZER_VERSION})"

_DOCS = """
WITH cond AS (SELECT study_id, list(condition_name ORDER BY condition_order, condition_name) AS names
              FROM conditions WHERE condition_name IS NOT NULL GROUP BY study_id),
     intv AS (SELECT study_id, list(intervention_name ORDER BY intervention_order, intervention_name) AS names
              FROM interventions WHERE intervention_name IS NOT NULL GROUP BY study_id),
     mesh AS (SELECT study_id,
                     list_sort(list_distinct(list(mesh_term) FILTER (WHERE NOT coalesce(is_ancestor, false)))) AS own,
                     list_sort(list_distinct(list(mesh_term) FILTER (WHERE coalesce(is_ancestor, false)))) AS anc
              FROM mesh_terms WHERE mesh_term IS NOT NULL GROUP BY study_id),
docs AS (
  SELECT coalesce(pmid, article_id) AS id, 'article' AS kind, list_filter([title], x -> x IS NOT NULL) AS titles,
         abstract, []::VARCHAR[] AS keywords, coalesce(mesh_terms, []) AS mesh, []::VARCHAR[] AS mesh_more,
         coalesce(publication_types, []) AS pt, journal, year
  FROM literature
  WHERE article_id IN (SELECT min(article_id) FROM literature GROUP BY coalesce(pmid, article_id))
  UNION ALL
  SELECT s.study_id, 'study',
         list_filter([s.title, CASE WHEN s.official_title IS DISTINCT FROM s.title THEN s.official_title END,
                      s.acronym], x -> x IS NOT NULL),
         s.abstract, list_concat(coalesce(s.keywords, []), coalesce(cond.names, []), coalesce(intv.names, [])),
         coalesce(mesh.own, []), coalesce(mesh.anc, []), []::VARCHAR[], NULL, s.start_year
  FROM studies s LEFT JOIN cond USING (study_id) LEFT JOIN intv USING (study_id) LEFT JOIN mesh USING (study_id)
)"""
_DIGEST = ("md5(CAST(to_json(struct_pack(titles := titles, abstract := abstract, keywords := keywords, mesh := mesh, "
           "mesh_more := mesh_more, pt := pt, journal := journal, year := year)) AS VARCHAR))")
_KEYS_SQL = f"{_DOCS} SELECT id, kind, {_DIGEST} FROM docs ORDER BY id, kind"
# streamed, unordered: no join or sort holds the texts in memory (the index gives each its id rank)
_ROWS_SQL = f"{_DOCS} SELECT id, kind, titles, abstract, keywords, mesh, mesh_more, pt, journal, year FROM docs"
_TREE_SQL = """SELECT name, tree_numbers FROM ontology_concepts
               WHERE ontology = 'mesh' AND name IS NOT NULL AND len(tree_numbers) > 0
                 AND NOT coalesce(obsolete, false) ORDER BY concept_id"""


class SearchDoc(NamedTuple):
    id: str
    kind: str             # article | study
    titles: list[str]
    abstract: str | None
    keywords: list[str]
    mesh: list[str]       # heading keys (``analysis.heading_key``) of the document's own headings
    mesh_exp: list[str]   # own headings, their ancestors
    pt: list[str]         # publication-type keys
    journal: str | None
    year: int | None


class MeshTree:
    """Ancestor headings by heading key, from the MeSH tree numbers in the warehouse."""

    def __init__(self, rows: list[tuple[str, list[str]]]):
        by_number = {tn: name for name, numbers in rows for tn in numbers}
        self.ancestors: dict[str, tuple[str, ...]] = {}
        for name, numbers in rows:
            found: list[str] = []
            for tn in numbers:
                parts = tn.split(".")
                for i in range(1, len(parts)):
                    parent = by_number.get(".".join(parts[:i]))
                    if parent is not None and parent not in found:
                        found.append(parent)
            key = heading_key(name)
            merged = self.ancestors.get(key, ()) + tuple(heading_key(a) for a in found)
            self.ancestors[key] = tuple(dict.fromkeys(merged))
        digest = hashlib.sha256()
        for name, numbers in rows:
            digest.update(f"{name}\t{','.join(sorted(numbers))}\n".encode())
        self.digest = digest.hexdigest()[:16]

    @classmethod
    def load(cls, con: duckdb.DuckDBPyConnection) -> "MeshTree":
        return cls([(name, list(numbers)) for name, numbers in con.execute(_TREE_SQL).fetchall()])

    def explode(self, keys: list[str]) -> list[str]:
        out = dict.fromkeys(keys)
        for key in keys:
            out.update(dict.fromkeys(self.ancestors.get(key, ())))
        return list(out)


def scan_keys(con: duckdb.DuckDBPyConnection, batch: int = 50_000) -> Iterator[tuple[str, str, str]]:
    """``(id, kind, digest)`` of every document in id order."""
    cur = con.cursor()
    cur.execute(_KEYS_SQL)
    while rows := cur.fetchmany(batch):
        yield from rows


def content_version(con: duckdb.DuckDBPyConnection, tree: MeshTree | None = None,
                    on_key=None) -> tuple[str, Counter]:
    """The version of the documents the warehouse gives now, and their count per kind.
    ``on_key(id, kind)`` sees each document in id order (the index writes its id list with it)."""
    tree = tree or MeshTree.load(con)
    h = hashlib.sha256(f"{DOC_FORMAT}\nmesh-tree {tree.digest}\n".encode())
    counts: Counter = Counter()
    for doc_id, kind, digest in scan_keys(con):
        h.update(f"{doc_id}\t{kind}\t{digest}\n".encode())
        counts[kind] += 1
        if on_key is not None:
            on_key(doc_id, kind)
    return h.hexdigest()[:16], counts


def iter_documents(con: duckdb.DuckDBPyConnection, tree: MeshTree, batch: int = 5_000) -> Iterator[SearchDoc]:
    """Every document, in no particular order."""
    for record_batch in con.cursor().execute(_ROWS_SQL).to_arrow_reader(batch):
        columns = record_batch.to_pydict()
        for doc_id, kind, titles, abstract, keywords, mesh, more, pt, journal, year in zip(*columns.values()):
            own = list(dict.fromkeys(k for k in map(heading_key, mesh) if k))
            exp = tree.explode(own + [k for k in map(heading_key, more) if k])
            yield SearchDoc(doc_id, kind, titles, abstract, keywords, own, exp,
                            [k for k in map(heading_key, pt) if k], journal, year)
