"""A real loopback HTTP server shaped like NCBI E-utilities (esearch + efetch), with scripted faults.

Usage::

    with EutilsTestServer(faults={"efetch": ["429", "drop"]}) as srv:
        client = EutilsClient(base_url=srv.base_url, requests_per_second=0)
        srv.requests     # Req(n, method, path, params (query and form merged), fault, status)

Records are the real PubMed fixtures (``fixtures/literature/pubmed``; the old MedlineCitationSet
citations wrapped in ``<PubmedArticle>`` as efetch would return them), each with an Entrez date
(its PubMed entrez date, else its publication year). ``add_synthetic(n, start, end)`` adds ``n``
id-only records spread evenly over a date range (for counts above 10,000; efetch returns nothing
for them, as for a withdrawn PMID).

* ``esearch.fcgi`` (GET or POST): ``term`` = ``all[sb]`` / ``*`` (everything), ``synthrecord`` (the
  synthetic records), ``<id>[si]`` (a DataBank accession) or words (all in title/abstract/
  accessions); ``datetype=edat`` with ``mindate``/``maxdate`` (``YYYY/MM/DD``, inclusive);
  ``retstart``/``retmax`` (400 past 10,000, like the real backend); ``usehistory=y`` -> WebEnv +
  QueryKey. Ids newest first.
* ``efetch.fcgi``: ``id`` (comma list; GET at most 200) or ``WebEnv``+``query_key``+``retstart``+
  ``retmax`` -> ``<PubmedArticleSet>`` of the records found, in the order asked.
* ``require_api_key``: a request without that ``api_key`` gets NCBI's 400 JSON, which echoes the key.

Faults: keys are an ``int`` n (the n-th request) or ``"esearch"`` / ``"efetch"`` (the next such
requests); values are one kind or a list consumed in turn. Kinds: a 3-digit status (``"429"``
carries ``Retry-After``), ``"truncated"`` (full Content-Length, half the body, close), ``"drop"``
(close without answering), ``"badxml"`` (a 200 with half the body and a matching length),
``"error"`` (a 200 ``<ERROR>`` answer), ``"timeout"`` (sleeps ``timeout_sleep`` first).
"""
from __future__ import annotations

import datetime as dt
import json
import re
import socket
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from lxml import etree

from .paths import shared_fixtures
from .registry_servers import _LoopbackServer

PUBMED_FIXTURES = ("pubmed-29768149.xml", "test_current_medline_2024dtd.xml", "medline16n0902_subset.xml")
FAULT_KINDS = {"truncated", "drop", "badxml", "error", "timeout"}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
_HEAD = (b'<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2024//EN" '
         b'"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_240101.dtd">\n<PubmedArticleSet>\n')


@dataclass
class Record:
    pmid: str
    edat: dt.date
    xml: bytes | None = None
    text: str = ""
    accessions: tuple[str, ...] = ()


@dataclass
class Req:
    n: int
    method: str
    path: str
    params: dict
    fault: str | None = None
    status: int | None = None
    query: str = ""               # the raw URL query string (secrets must never be in it)

    @property
    def ids(self) -> list[str]:
        return [p for p in self.params.get("id", "").split(",") if p]


def _edat(el) -> dt.date:
    for d in el.iterfind("PubmedData/History/PubMedPubDate"):
        if d.get("PubStatus") == "entrez":
            return dt.date(int(d.findtext("Year")), int(d.findtext("Month")), int(d.findtext("Day")))
    text = " ".join(el.find(".//Article/Journal/JournalIssue/PubDate").itertext())
    return dt.date(int(re.search(r"\d{4}", text)[0]), 1, 15)


def fixture_records() -> list[Record]:
    out = []
    for name in PUBMED_FIXTURES:
        root = etree.parse(str(shared_fixtures() / "literature" / "pubmed" / name), _PARSER).getroot()
        for el in root:
            if el.tag == "MedlineCitation":           # old baseline layout -> what efetch returns today
                wrapped = etree.Element("PubmedArticle")
                wrapped.append(el)
                data = etree.SubElement(etree.SubElement(wrapped, "PubmedData"), "ArticleIdList")
                etree.SubElement(data, "ArticleId", IdType="pubmed").text = el.findtext("PMID")
                el = wrapped
            if el.tag != "PubmedArticle":
                continue
            cit = el.find("MedlineCitation")
            title = " ".join(cit.find("Article/ArticleTitle").itertext())
            abstract = " ".join(" ".join(a.itertext()) for a in cit.iterfind("Article/Abstract/AbstractText"))
            acc = tuple(a.text for a in cit.iterfind("Article/DataBankList/DataBank/AccessionNumberList/AccessionNumber"))
            out.append(Record(cit.findtext("PMID"), _edat(el), etree.tostring(el, encoding="utf-8"),
                              f"{title} {abstract} {' '.join(acc)}".lower(), acc))
    return out


class EutilsTestServer(_LoopbackServer):
    PREFIX = "/entrez/eutils"
    FAULT_KINDS = FAULT_KINDS

    def __init__(self, faults: dict | None = None, *, records: list[Record] | None = None, retry_after: str = "0",
                 require_api_key: str | None = None, timeout_sleep: float = 1.0):
        self.records = list(fixture_records() if records is None else records)
        self.require_api_key = require_api_key
        self.history: dict[str, list[str]] = {}
        super().__init__(faults, timeout_sleep=timeout_sleep, retry_after=retry_after)
        self.requests: list[Req] = []

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        return _handler(self)

    def add_synthetic(self, n: int, start: dt.date, end: dt.date, first_pmid: int = 90_000_000) -> list[str]:
        span = (end - start).days + 1
        new = [Record(str(first_pmid + i), start + dt.timedelta(days=i * span // n), None, "synthrecord")
               for i in range(n)]
        self.records += new
        return [r.pmid for r in new]

    def to(self, endpoint: str) -> list[Req]:
        return [r for r in self.requests if r.path.endswith(endpoint)]

    # -- endpoints ------------------------------------------------------------------------------
    def _match(self, term: str) -> list[Record]:
        term = term.strip().lower()
        if term in ("all[sb]", "*"):
            return list(self.records)
        if m := re.fullmatch(r"(\S+)\[si\]", term):
            return [r for r in self.records if m[1] in (a.lower() for a in r.accessions)]
        words = re.findall(r"\w+", term)
        return [r for r in self.records if all(w in r.text for w in words)]

    def esearch(self, p: dict) -> tuple[int, str, bytes]:
        found = self._match(p.get("term", ""))
        if p.get("mindate") or p.get("maxdate"):
            if p.get("datetype", "pdat") != "edat":
                return 400, "application/json", b'{"error": "test server: datetype must be edat"}'
            lo = dt.date(*map(int, p.get("mindate", "1000/01/01").split("/")))
            hi = dt.date(*map(int, p.get("maxdate", "3000/12/31").split("/")))
            found = [r for r in found if lo <= r.edat <= hi]
        found.sort(key=lambda r: (r.edat, int(r.pmid)), reverse=True)
        start, size = int(p.get("retstart", 0)), int(p.get("retmax", 20))
        if start > 9_998 or size > 10_000:
            return 400, "application/json", b'{"error": "Search Backend failed: cannot page past 10000"}'
        hist = ""
        if p.get("usehistory") == "y":
            with self._lock:
                webenv = f"MCID_test_{len(self.history) + 1}"
                self.history[webenv] = [r.pmid for r in found]
            hist = f"<QueryKey>1</QueryKey><WebEnv>{webenv}</WebEnv>"
        ids = "".join(f"<Id>{r.pmid}</Id>" for r in found[start:start + size])
        body = (f'<?xml version="1.0" encoding="UTF-8" ?>\n<eSearchResult><Count>{len(found)}</Count>'
                f"<RetMax>{len(found[start:start + size])}</RetMax><RetStart>{start}</RetStart>{hist}"
                f"<IdList>{ids}</IdList></eSearchResult>\n")
        return 200, "text/xml; charset=UTF-8", body.encode()

    def efetch(self, method: str, p: dict) -> tuple[int, str, bytes]:
        if p.get("WebEnv"):
            ids = self.history.get(p["WebEnv"], [])
            start = int(p.get("retstart", 0))
            ids = ids[start:start + int(p.get("retmax", 20))]
        else:
            ids = [i for i in p.get("id", "").split(",") if i]
            if method == "GET" and len(ids) > 200:
                return 414, "text/plain", b"Request-URI Too Long"
        by_id = {r.pmid: r for r in self.records}
        found = [by_id[i].xml for i in ids if i in by_id and by_id[i].xml]
        return 200, "text/xml; charset=UTF-8", _HEAD + b"\n".join(found) + b"\n</PubmedArticleSet>\n"

    def _take_fault(self, req: Req, endpoint: str) -> str | None:
        with self._lock:
            for key in (req.n, endpoint):
                if self._faults.get(key):
                    return self._faults[key].pop(0)
        return None


def _handler(server: EutilsTestServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def do_GET(self):  # noqa: N802
            self._handle("GET")

        def do_POST(self):  # noqa: N802
            self._handle("POST")

        def _send(self, req: Req, status: int, ctype: str, body: bytes, declared: int | None = None,
                  extra: dict | None = None, close: bool = False) -> None:
            req.status = status
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body) if declared is None else declared))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            if close:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)

        def _handle(self, method: str) -> None:
            try:
                self._serve(method)
            except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, OSError):
                self.close_connection = True

        def _serve(self, method: str) -> None:
            parts = urlsplit(self.path)
            params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            if method == "POST":
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                params.update({k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()})
            endpoint = parts.path.rsplit("/", 1)[-1].removesuffix(".fcgi")
            with server._lock:
                req = Req(len(server.requests) + 1, method, parts.path, params, query=parts.query)
                server.requests.append(req)
            req.fault = fault = server._take_fault(req, endpoint)
            if fault == "drop":
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if fault == "timeout":
                server._stop.wait(server.timeout_sleep)
            if fault and fault.isdigit():
                extra = {"Retry-After": server.retry_after} if fault == "429" else None
                body = json.dumps({"error": f"injected {fault}"}).encode()
                self._send(req, int(fault), "application/json", body, extra=extra)
                return
            if fault == "error":
                self._send(req, 200, "text/xml",
                           b"<eSearchResult><ERROR>Search Backend failed: injected</ERROR></eSearchResult>")
                return
            if server.require_api_key and params.get("api_key") != server.require_api_key:
                echo = {"error": "API key invalid", "api-key": params.get("api_key", ""), "type": "invalid",
                        "status": "unknown"}
                self._send(req, 400, "application/json", json.dumps(echo).encode())
                return
            if params.get("db") != "pubmed":
                status, ctype, body = 400, "application/json", b'{"error": "db must be pubmed"}'
            elif endpoint == "esearch":
                status, ctype, body = server.esearch(params)
            elif endpoint == "efetch":
                status, ctype, body = server.efetch(method, params)
            else:
                status, ctype, body = 404, "text/plain", b"no such E-utility"
            if fault == "truncated":
                self._send(req, status, ctype, body[: len(body) // 2], declared=len(body), close=True)
            elif fault == "badxml":
                self._send(req, status, ctype, body[: len(body) // 2])
            else:
                self._send(req, status, ctype, body)

    return Handler
