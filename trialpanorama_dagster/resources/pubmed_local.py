"""PubMed from local XML / XML.gz files: the ``EutilsClient`` interface without a network.

Also the result types both clients return and the embedded default folder (``PUBMED_EMBEDDED``:
three real PubMed/MEDLINE files shipped with the package, see its PROVENANCE.md).
"""
from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ..literature.pubmed_xml import ParseReport, parse_pubmed, pubmed_files
from ..literature.store import Article
from ..literature.trial_links import article_trial_links, text_ids

BATCH_SIZE = 200
PUBMED_EMBEDDED = Path(__file__).resolve().parents[1] / "data" / "literature" / "pubmed"


@dataclass
class SearchResult:
    count: int
    ids: list[str] = field(default_factory=list)
    webenv: str | None = None
    query_key: str | None = None


@dataclass
class FetchResult:
    articles: list[Article]
    report: ParseReport
    requested: list[str] = field(default_factory=list)

    @property
    def missing(self) -> list[str]:
        got = {a.pmid for a in self.articles} | {k for k, _ in self.report.skipped} | set(self.report.deleted)
        return [p for p in self.requested if p not in got]


def parse_date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    text = str(value).strip().replace("/", "-")
    parts = (text.split("-") + ["01", "01"])[:3]       # "2020", "2020/05", "2020/05/17"
    return dt.date(int(parts[0]), int(parts[1]), int(parts[2]))


_PMID_LIST = re.compile(r"^\s*\d+(?:\[(?:uid|pmid)\])?(?:[\s,;]+\d+(?:\[(?:uid|pmid)\])?)*\s*$", re.I)


class LocalPubmed:
    """The client interface over PubMed XML / XML.gz files (default: the embedded fixtures).

    ``search_pmids(term)``: ``None``/``""``/``*``/``all`` -> every PMID; a PMID list ("1 2,3",
    "1[uid]") -> those present; a trial id ("NCT02149199[si]") -> the articles linked to it;
    any other term -> articles whose title or abstract holds every word. ``mindate``/``maxdate``
    filter on the publication year."""

    def __init__(self, paths: Iterable[str | os.PathLike] | str | os.PathLike | None = None,
                 batch_size: int = BATCH_SIZE):
        paths = [PUBMED_EMBEDDED] if paths is None else ([paths] if isinstance(paths, (str, os.PathLike)) else list(paths))
        self.files = pubmed_files(paths)
        self.batch_size = batch_size
        self.report = ParseReport()
        self._articles: dict[str, Article] | None = None

    def __repr__(self) -> str:
        return f"LocalPubmed({len(self.files)} files)"

    @property
    def articles(self) -> dict[str, Article]:
        if self._articles is None:
            self._articles = {}
            for path in self.files:
                arts, report = parse_pubmed(path)
                self.report.merge(report)
                self._articles.update((a.pmid, a) for a in arts)
        return self._articles

    def esearch(self, term: str | None, *, mindate: Any = None, maxdate: Any = None, **_ignored) -> SearchResult:
        ids = self.search_pmids(term, mindate=mindate, maxdate=maxdate)
        return SearchResult(len(ids), ids)

    def search_pmids(self, term: str | None = None, *, mindate: Any = None, maxdate: Any = None) -> list[str]:
        arts = self.articles
        term = (term or "").strip()
        if term.lower() in ("", "*", "all", "all[sb]"):
            found = list(arts)
        elif _PMID_LIST.match(term):
            found = [p for p in re.findall(r"\d+", re.sub(r"\[\w+\]", "", term)) if p in arts]
        elif trials := {rid.id for rid in text_ids(term)}:
            found = [p for p, a in arts.items() if trials & {link.trial_id for link in article_trial_links(a)}]
        else:
            words = [w.lower() for w in re.findall(r"\w+", term)]
            found = [p for p, a in arts.items()
                     if all(w in f"{a.title or ''} {a.abstract or ''}".lower() for w in words)]
        lo, hi = parse_date(mindate), parse_date(maxdate)
        if lo or hi:
            found = [p for p in found if arts[p].year is not None and (lo is None or arts[p].year >= lo.year)
                     and (hi is None or arts[p].year <= hi.year)]
        return list(dict.fromkeys(found))

    search = search_pmids

    def fetch(self, pmids: list[str]) -> FetchResult:
        pmids = [str(p).strip() for p in pmids if str(p).strip()]
        found = [self.articles[p] for p in pmids if p in self.articles]
        report = ParseReport(articles=len(found))
        return FetchResult(found, report, pmids)

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
