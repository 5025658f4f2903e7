"""PubMed / MEDLINE XML -> :class:`Article` (efetch output, annual baseline and daily update files).

Reads both layouts: the current ``PubmedArticleSet/PubmedArticle{MedlineCitation, PubmedData}``
and the pre-2017 baseline ``MedlineCitationSet/MedlineCitation``. ``PubmedBookArticle`` records
are counted and skipped; ``DeleteCitation`` PMIDs (update files) are reported, not returned.

* Streaming: ``iter_articles(source, report)`` walks a path, bytes or binary file object with
  ``lxml.etree.iterparse`` and clears every finished record; gzip input (``.xml.gz`` or gzip
  magic bytes) is decompressed on the fly.
* Safety: entities are never resolved and nothing is loaded from the network (a DOCTYPE that
  declares ``<!ENTITY x SYSTEM "file:///...">`` leaves ``&x;`` unexpanded; its text is dropped).
* Robustness: a record without a usable PMID or ``Article`` is skipped with its reason in
  ``ParseReport.skipped``. A file that is not well-formed XML is read record by record from the
  point of the error (each ``<PubmedArticle>`` / ``<MedlineCitation>`` parsed on its own), so one
  broken record costs that record only.
"""
from __future__ import annotations

import gzip
import io
import os
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterator, Union

from lxml import etree

from .store import Article, article_id_for, payload_hash

Source = Union[str, os.PathLike, bytes, bytearray, BinaryIO]
RECORD_TAGS = ("PubmedArticle", "PubmedBookArticle", "MedlineCitation", "DeleteCitation")
_YEAR = re.compile(r"(?<!\d)(1[6-9]\d\d|20\d\d)(?!\d)")
_SLICE = re.compile(rb"<(PubmedArticle|PubmedBookArticle|MedlineCitation|DeleteCitation)[\s>].*?</\1\s*>", re.S)
_PMID_IN = re.compile(rb"<PMID[^>]*>\s*(\d+)\s*</PMID>")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True,
                          remove_comments=True, remove_pis=True)


class PubmedRecordError(ValueError):
    """One citation that cannot become an Article (the reason is the message)."""


@dataclass
class ParseReport:
    articles: int = 0
    books: int = 0
    deleted: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)   # (PMID or "#<n>" position, reason)
    errors: list[str] = field(default_factory=list)                # file-level problems (syntax errors)

    def merge(self, other: "ParseReport") -> None:
        self.articles += other.articles
        self.books += other.books
        self.deleted += other.deleted
        self.skipped += other.skipped
        self.errors += other.errors


# -- text helpers ---------------------------------------------------------------------------------
def _squash(text: str) -> str:
    return " ".join(text.split())


def element_text(el) -> str:
    """All text inside ``el`` with inline markup (<i>, <sup>, <b>, …) kept as plain text;
    unexpanded entity references, comments and processing instructions contribute nothing."""
    parts: list[str] = []

    def walk(node) -> None:
        if isinstance(node.tag, str):
            parts.append(node.text or "")
            for child in node:
                walk(child)
                parts.append(child.tail or "")

    walk(el)
    return _squash("".join(parts))


def _text(el, path: str) -> str | None:
    found = el.find(path) if el is not None else None
    if found is None:
        return None
    return element_text(found) or None


# -- one record --------------------------------------------------------------------------------------
def _abstract(article) -> str | None:
    parts = []
    for node in article.iterfind("Abstract/AbstractText"):
        text = element_text(node)
        label = (node.get("Label") or "").strip()
        if text or label:
            parts.append(f"{label}: {text}".strip() if label else text)
    return " ".join(p for p in parts if p) or None


def _year(article) -> int | None:
    pub = article.find("Journal/JournalIssue/PubDate")
    for value in (_text(pub, "Year"), _text(pub, "MedlineDate"), _text(article, "ArticleDate/Year")):
        m = _YEAR.search(value or "")
        if m:
            return int(m[1])
    return None


def _article_ids(record) -> dict[str, str]:
    """``PubmedData/ArticleIdList`` of the record itself (never the ReferenceList's ids)."""
    out: dict[str, str] = {}
    for node in record.iterfind("PubmedData/ArticleIdList/ArticleId"):
        kind, value = (node.get("IdType") or "").lower(), (node.text or "").strip()
        if kind and value:
            out.setdefault(kind, value)
    return out


def parse_record(record) -> Article:
    """One ``<PubmedArticle>`` or bare ``<MedlineCitation>`` element -> Article (PubmedRecordError if unusable)."""
    citation = record.find("MedlineCitation") if record.tag == "PubmedArticle" else record
    if citation is None or citation.tag != "MedlineCitation":
        raise PubmedRecordError(f"<{record.tag}> has no MedlineCitation")
    pmid = (citation.findtext("PMID") or "").strip()
    if not pmid:
        raise PubmedRecordError("no PMID")
    if not pmid.isdigit():
        raise PubmedRecordError(f"PMID is not a number: {pmid[:40]!r}")
    article = citation.find("Article")
    if article is None:
        raise PubmedRecordError("no Article element")
    ids = _article_ids(record)
    doi = ids.get("doi")
    if not doi:
        doi = next((_squash(e.text or "") for e in article.iterfind("ELocationID")
                    if (e.get("EIdType") or "").lower() == "doi" and (e.text or "").strip()), None)
    pmcid = ids.get("pmc") or next((_squash(o.text or "") for o in citation.iterfind("OtherID")
                                    if (o.text or "").strip().startswith("PMC")), None)
    mesh_ids, mesh_terms = [], []
    for d in citation.iterfind("MeshHeadingList/MeshHeading/DescriptorName"):
        mesh_ids.append((d.get("UI") or "").strip())
        mesh_terms.append(element_text(d))
    databanks = []
    for bank in article.iterfind("DataBankList/DataBank"):
        name = _squash(bank.findtext("DataBankName") or "")
        for acc in bank.iterfind("AccessionNumberList/AccessionNumber"):
            value = _squash(acc.text or "")
            if name and value:
                databanks.append(f"{name}:{value}")
    title = _text(article, "ArticleTitle") or _text(article, "VernacularTitle")
    return Article(
        article_id=article_id_for(pmid=pmid), pmid=pmid, doi=doi, pmcid=pmcid, title=title,
        abstract=_abstract(article),
        journal=_text(article, "Journal/Title") or _text(citation, "MedlineJournalInfo/MedlineTA"),
        year=_year(article),
        publication_types=[t for t in map(element_text, article.iterfind("PublicationTypeList/PublicationType")) if t],
        mesh_ids=mesh_ids, mesh_terms=mesh_terms, databank_ids=list(dict.fromkeys(databanks)),
        language=_text(article, "Language"), source="pubmed",
        payload_hash=payload_hash(etree.tostring(record, encoding="utf-8", with_tail=False)))


# -- records of a file ----------------------------------------------------------------------------------
def _handle(el, position: int, report: ParseReport) -> Article | None:
    if el.tag == "DeleteCitation":
        report.deleted.extend(p.strip() for p in (x.text or "" for x in el.iterfind("PMID")) if p.strip())
        return None
    if el.tag == "PubmedBookArticle":
        report.books += 1
        return None
    try:
        art = parse_record(el)
    except PubmedRecordError as exc:
        report.skipped.append((_record_key(el, position), str(exc)))
        return None
    report.articles += 1
    return art


def _record_key(el, position: int) -> str:
    """The first PMID inside a record (its own), else its position ``#<n>``."""
    first = next(el.iter("PMID"), None)
    value = (first.text or "").strip() if first is not None else ""
    return value if value.isdigit() else f"#{position}"


def _is_top(el) -> bool:
    parent = el.getparent()
    return not (el.tag == "MedlineCitation" and parent is not None and parent.tag == "PubmedArticle")


def _open(source: Source) -> BinaryIO:
    """A binary stream of the document, gunzipped when it starts with the gzip magic bytes."""
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as probe:
            gz = probe.read(2) == b"\x1f\x8b"
        return gzip.open(source, "rb") if gz else open(source, "rb")
    fh: BinaryIO = io.BytesIO(bytes(source)) if isinstance(source, (bytes, bytearray)) else source
    head = fh.peek(2)[:2] if hasattr(fh, "peek") else b""
    if not head and hasattr(fh, "seekable") and fh.seekable():
        pos = fh.tell()
        head = fh.read(2)
        fh.seek(pos)
    return gzip.GzipFile(fileobj=fh) if head == b"\x1f\x8b" else fh


def iter_articles(source: Source, report: ParseReport | None = None) -> Iterator[Article]:
    """Stream the Articles of one PubMed/MEDLINE XML document (path, bytes or binary file object)."""
    report = report if report is not None else ParseReport()
    fh = _open(source)
    seen: set[str] = set()
    position = 0
    try:
        try:
            for _, el in etree.iterparse(fh, events=("end",), tag=RECORD_TAGS, resolve_entities=False,
                                         no_network=True, load_dtd=False, huge_tree=True,
                                         remove_comments=True, remove_pis=True):
                if not _is_top(el):
                    continue
                position += 1
                art = _handle(el, position, report)
                seen.add(_record_key(el, position))
                el.clear(keep_tail=False)
                while el.getprevious() is not None:
                    del el.getparent()[0]
                if art is not None:
                    yield art
        except etree.XMLSyntaxError as exc:
            report.errors.append(f"XML syntax error: {str(exc)[:200]}; reading the remaining records one by one")
            yield from _recover(source, seen, report)
        except (EOFError, OSError, zlib.error) as exc:
            report.errors.append(f"input ended early or is corrupt ({type(exc).__name__}: {str(exc)[:160]}); "
                                 "keeping the complete records read")
            yield from _recover(source, seen, report)
    finally:
        if fh is not source:
            fh.close()


def _recover(source: Source, done: set[str], report: ParseReport) -> Iterator[Article]:
    """Second pass over a broken document: each record element parsed on its own."""
    if isinstance(source, (str, os.PathLike, bytes, bytearray)):
        chunks: list[bytes] = []
        with _open(source) as fh:
            try:
                while block := fh.read(1 << 20):
                    chunks.append(block)
            except (EOFError, OSError, zlib.error):
                pass                  # a truncated gzip: what was decompressed is kept
        data = b"".join(chunks)
    else:
        report.errors.append("input is a stream: records after the syntax error were not read")
        return
    for position, m in enumerate(_SLICE.finditer(data), start=1):
        chunk = m.group(0)
        pm = _PMID_IN.search(chunk)
        key = pm[1].decode() if pm else f"#{position}"
        if key in done:
            continue
        done.add(key)
        try:
            el = etree.fromstring(chunk, _PARSER)
        except etree.XMLSyntaxError as exc:
            report.skipped.append((key, f"malformed XML: {str(exc)[:160]}"))
            continue
        art = _handle(el, position, report)
        if art is not None:
            yield art


def parse_pubmed(source: Source) -> tuple[list[Article], ParseReport]:
    """All Articles of one document, with its report."""
    report = ParseReport()
    return list(iter_articles(source, report)), report


def parse_root(root) -> tuple[list[Article], ParseReport]:
    """Articles of an already parsed ``<PubmedArticleSet>`` / ``<MedlineCitationSet>`` tree."""
    report, out = ParseReport(), []
    for position, el in enumerate((c for c in root if isinstance(c.tag, str) and c.tag in RECORD_TAGS), start=1):
        art = _handle(el, position, report)
        if art is not None:
            out.append(art)
    return out, report


def safe_root(data: bytes):
    """Parse a whole document safely (no entities, no network); XMLSyntaxError on malformed input."""
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return etree.fromstring(bytes(data), _PARSER)


def pubmed_files(paths) -> list[Path]:
    """Files named ``*.xml`` / ``*.xml.gz`` given directly or found (recursively) in given folders."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.name.lower().endswith((".xml", ".xml.gz"))))
        elif p.exists():
            out.append(p)
        else:
            raise FileNotFoundError(f"no such file or folder: {p}")
    return out
