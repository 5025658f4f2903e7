"""PubMed through NCBI E-utilities (``EutilsClient``) or a folder of PubMed XML files (``LocalPubmed``).

Both offer the same calls: ``search_pmids(term, mindate=, maxdate=) -> [pmid]``,
``esearch(term, …) -> SearchResult`` and ``fetch(pmids) -> FetchResult`` (parsed Articles plus
the parse report and the PMIDs that came back with nothing), with ``batch_size`` PMIDs a fetch.

``EutilsClient``
* ``esearch.fcgi`` (``usehistory=y``) gives Count, WebEnv, QueryKey and up to 10,000 ids. A query
  with more hits is sliced by Entrez date (``datetype=edat``, ``mindate``/``maxdate``): a date
  range is bisected until each slice holds <= 10,000 (a single day above that keeps its first
  10,000 and is named in ``truncated_days``).
* ``efetch.fcgi`` by POST (form body) with <= 200 PMIDs (``fetch``), or from the history server
  with ``WebEnv``/``query_key``/``retstart``/``retmax`` (``fetch_history``). Every request is a
  POST, so no parameter (the API key included) is ever part of a URL.
* ``api_key``, ``tool`` and ``email`` come from ``NCBI_API_KEY``, ``NCBI_TOOL``, ``NCBI_EMAIL``
  (or the constructor). They travel in POST bodies only, and are redacted from every log line,
  exception and repr. Pacing: 3 requests/s without a key, 10 with one.
* Retries (429 + Retry-After, 5xx, timeouts, dropped connections, truncated or unparsable bodies,
  ``<ERROR>`` answers) are ``http_retry.RetryingHttp``'s.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import re
import time
from typing import Any, Callable, Iterable
from urllib.parse import quote_plus

import httpx
from lxml import etree

from ..literature.pubmed_xml import ParseReport, parse_root, safe_root
from ..literature.store import Article
from .http_retry import RegistryApiError, Retryable, RetryingHttp, one_line
from .pubmed_local import BATCH_SIZE, PUBMED_EMBEDDED, FetchResult, LocalPubmed, SearchResult, parse_date

__all__ = ["EutilsClient", "LocalPubmed", "PubmedApiError", "SearchResult", "FetchResult", "PUBMED_EMBEDDED",
           "BATCH_SIZE", "MAX_SEARCH", "redact"]

DEFAULT_BASE_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils"
ESEARCH, EFETCH = "/esearch.fcgi", "/efetch.fcgi"
MAX_SEARCH = 10_000
FLOOR_DATE = dt.date(1781, 1, 1)
logger = logging.getLogger(__name__)


class PubmedApiError(RegistryApiError):
    """E-utilities failed for good (4xx other than 429, or retries exhausted); secrets redacted."""


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret value (raw or URL-encoded) and any ``api_key=``/``email=`` value masked."""
    for s in sorted((s for s in secrets if s and len(s) >= 3), key=len, reverse=True):
        text = text.replace(s, "***").replace(quote_plus(s), "***")
    return re.sub(r"(?i)\b(api[_-]?key|email)(\"?\s*[=:]\s*\"?)[^&\s\"',;)]+", r"\1\2***", text)


def _eutils_date(d: dt.date) -> str:
    return f"{d.year:04d}/{d.month:02d}/{d.day:02d}"


def _xml(content: bytes):
    try:
        return safe_root(content)
    except (etree.XMLSyntaxError, OSError, EOFError) as exc:
        raise Retryable(f"unparsable XML body ({len(content)} bytes: {one_line(str(exc), 80)})") from None


def _search_body(content: bytes) -> SearchResult:
    root = _xml(content)
    count = root.findtext("Count")
    if root.tag != "eSearchResult" or count is None or not count.strip().isdigit():
        error = root.findtext("ERROR") or f"unexpected answer <{root.tag}>"
        raise Retryable(f"esearch: {one_line(error, 120)}")
    return SearchResult(int(count), [i.text.strip() for i in root.iterfind("IdList/Id") if i.text],
                        (root.findtext("WebEnv") or "").strip() or None, (root.findtext("QueryKey") or "").strip() or None)


def _fetch_body(content: bytes) -> tuple[list[Article], ParseReport]:
    root = _xml(content)
    if root.tag not in ("PubmedArticleSet", "MedlineCitationSet"):
        error = root.findtext(".//ERROR") or f"unexpected answer <{root.tag}>"
        raise Retryable(f"efetch: {one_line(error, 120)}")
    return parse_root(root)


class _EutilsHttp(RetryingHttp):
    """RetryingHttp that sends form bodies and never lets a secret out (log, exception, URL)."""

    def __init__(self, *args, secrets: tuple[str, ...] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self._secrets = secrets

    def clean(self, text: str) -> str:
        return redact(text, self._secrets)

    def send(self, method: str, path: str, form: dict[str, str], validate: Callable[[bytes], Any],
             what: str) -> tuple[Any, str]:
        """One E-utilities call with a form body, retried by the shared core; the form (secrets
        redacted) is named in retry messages."""
        shown = one_line(self.clean("&".join(f"{k}={quote_plus(str(v))}" for k, v in form.items())), 300)
        return self.request(method, path, data=form if method == "POST" else None,
                            params=form if method != "POST" else None, validate=validate,
                            what=f"{what} ({method} {path} {shown})")


class EutilsClient:
    """Live PubMed over E-utilities (see the module docstring)."""

    def __init__(self, base_url: str | None = None, *, api_key: str | None = None, tool: str | None = None,
                 email: str | None = None, requests_per_second: float | None = None, batch_size: int = BATCH_SIZE,
                 max_retries: int = 8, backoff_base: float = 1.0, backoff_max: float = 60.0, timeout: float = 120.0,
                 transport: httpx.BaseTransport | None = None, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic, log: Callable[[str], None] | None = None,
                 env: dict | None = None):
        env = os.environ if env is None else env
        if not 1 <= batch_size <= MAX_SEARCH:
            raise ValueError(f"batch_size must be in 1..{MAX_SEARCH}, got {batch_size}")
        self.base_url = (base_url or env.get("NCBI_EUTILS_URL") or DEFAULT_BASE_URL).rstrip("/")
        self.batch_size = batch_size
        self._api_key = api_key or env.get("NCBI_API_KEY") or None
        self._tool = tool or env.get("NCBI_TOOL") or "trialpanorama-dagster"
        self._email = email or env.get("NCBI_EMAIL") or None
        if requests_per_second is None:
            requests_per_second = 10.0 if self._api_key else 3.0
        self.requests_per_second = requests_per_second
        self.truncated_days: list[dt.date] = []
        self._log = log
        secrets = tuple(s for s in (self._api_key, self._email, tool or env.get("NCBI_TOOL")) if s)
        self._http = _EutilsHttp(self.base_url, name="PubMed E-utilities", log_prefix="pubmed",
                                 requests_per_minute=60.0 * requests_per_second, max_retries=max_retries,
                                 backoff_base=backoff_base, backoff_max=backoff_max, timeout=timeout,
                                 accept="application/xml", transport=transport, sleep=sleep, clock=clock, log=log,
                                 error_cls=PubmedApiError, secrets=secrets)

    def __repr__(self) -> str:
        return (f"EutilsClient(base_url={self.base_url!r}, api_key={'set' if self._api_key else 'unset'}, "
                f"requests_per_second={self.requests_per_second})")

    @property
    def has_api_key(self) -> bool:
        return bool(self._api_key)

    def _form(self, **params) -> dict[str, str]:
        form = {"db": "pubmed", **{k: str(v) for k, v in params.items() if v is not None}}
        for key, value in (("api_key", self._api_key), ("tool", self._tool), ("email", self._email)):
            if value:
                form[key] = value
        return form

    def _note(self, message: str) -> None:
        message = self._http.clean(f"pubmed: {message}")
        logger.info(message)
        if self._log:
            self._log(message)

    # -- search -----------------------------------------------------------------------------------
    def esearch(self, term: str, *, mindate: Any = None, maxdate: Any = None, retstart: int = 0,
                retmax: int = 0, usehistory: bool = True) -> SearchResult:
        lo, hi = parse_date(mindate), parse_date(maxdate)
        if (lo is None) != (hi is None):
            lo, hi = lo or FLOOR_DATE, hi or dt.date.today()
        dates = {"datetype": "edat", "mindate": _eutils_date(lo), "maxdate": _eutils_date(hi)} if lo else {}
        form = self._form(term=term, retmode="xml", retstart=retstart, retmax=retmax,
                          usehistory="y" if usehistory else None, **dates)
        what = f"esearch {dates.get('mindate', '')}..{dates.get('maxdate', '')}".replace(" ..", "")
        result, _ = self._http.send("POST", ESEARCH, form, _search_body, what)
        return result

    def search_pmids(self, term: str, *, mindate: Any = None, maxdate: Any = None) -> list[str]:
        """Every PMID the query finds, slicing by Entrez date where it finds more than 10,000."""
        lo, hi = parse_date(mindate), parse_date(maxdate)
        if lo is None and hi is None:
            first = self.esearch(term, retmax=MAX_SEARCH)
            if first.count <= MAX_SEARCH:
                return list(dict.fromkeys(first.ids))
            self._note(f"{first.count} hits: slicing the query by Entrez date")
        stack = [(lo or FLOOR_DATE, hi or dt.date.today())]
        out: dict[str, None] = {}
        while stack:
            a, b = stack.pop()
            res = self.esearch(term, mindate=a, maxdate=b, retmax=MAX_SEARCH)
            if res.count > MAX_SEARCH and a < b:
                mid = a + (b - a) // 2
                stack += [(mid + dt.timedelta(days=1), b), (a, mid)]
                continue
            if res.count > MAX_SEARCH:
                self.truncated_days.append(a)
                self._note(f"{a}: {res.count} hits on one day; only the first {MAX_SEARCH} are reachable")
            out.update(dict.fromkeys(res.ids))
        return list(out)

    search = search_pmids

    # -- fetch ------------------------------------------------------------------------------------
    def fetch(self, pmids: list[str]) -> FetchResult:
        """One efetch POST of up to ``batch_size`` PMIDs."""
        pmids = [str(p).strip() for p in pmids if str(p).strip()]
        if len(pmids) > self.batch_size:
            raise ValueError(f"at most {self.batch_size} PMIDs a fetch, got {len(pmids)}")
        if not pmids:
            return FetchResult([], ParseReport(), [])
        form = self._form(id=",".join(pmids), retmode="xml")
        (articles, report), _ = self._http.send("POST", EFETCH, form, _fetch_body, f"efetch of {len(pmids)} PMIDs")
        return FetchResult(articles, report, pmids)

    def fetch_history(self, webenv: str, query_key: str, retstart: int, retmax: int | None = None) -> FetchResult:
        """One efetch page from the history server (an esearch run with ``usehistory=y``)."""
        form = self._form(WebEnv=webenv, query_key=query_key, retstart=retstart,
                          retmax=retmax or self.batch_size, retmode="xml")
        (articles, report), _ = self._http.send("POST", EFETCH, form, _fetch_body, f"efetch history at {retstart}")
        return FetchResult(articles, report, [])

    def close(self) -> None:
        self._http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
