"""Real loopback HTTP servers imitating ISRCTN, CTIS and the EU CTR, with scripted faults.

Usage (like ``ctgov_server.py``)::

    with IsrctnTestServer(faults={2: "429", "offset:4": "truncated"}) as srv:
        client = IsrctnLiveClient(base_url=srv.base_url, page_size=2)
        srv.requests   # RecordedRequest(n, method, path, params, body, fault, status) for every request

* ``IsrctnTestServer`` (``base_url`` = ``…/api``): ``GET /query/format/default`` (``q`` required:
  ``lastEdited GE|GT|LE|LT <ISO datetime>`` terms joined by `` AND ``, anything else -> 400;
  ``limit``, ``offset``) -> ``<allTrials totalCount>`` of ``<fullTrial><trial lastUpdated>``, in
  ISRCTN order; ``GET /trial/ISRCTN<d>/format/default``. Trials are the ctrdata fixture JSON turned
  back into XML; ``lastUpdated`` is synthesised (``last_updated`` maps id -> ISO datetime).
* ``CtisTestServer`` (``…/ctis-public-api``): ``POST /search`` (pagination 1-based, decisionDate
  DESC; ``searchCriteria.number`` filters) -> ``{"pagination": {…}, "data": [overview]}`` with
  ``lastUpdated`` ``dd/mm/yyyy``; ``GET /retrieve/<ctNumber>`` -> the fixture record (404 if unknown).
* ``EuctrTestServer`` (``…/ctr-search``): ``GET /search`` (HTML with "Trials with a EudraCT
  protocol (N)"), ``GET /rest/download/full`` (text of the page's trials, all member-state records);
  ``query`` (empty or EudraCT numbers), ``dateFrom``/``dateTo`` (a trial matches when one of its
  records was first entered in range), ``page``; ``page_size`` trials a page (the register: 20).

Faults: keys are an ``int`` n (the n-th request), or a string naming a request: ``"offset:<k>"``
(ISRCTN query), ``"trial:<id>"`` (ISRCTN one trial), ``"page:<p>"`` (CTIS search page, EU CTR
download page), ``"retrieve:<ctNumber>"`` (CTIS), ``"search"`` (EU CTR search page). Values are one
kind or a list consumed by successive matching requests. Kinds: a 3-digit status (``"429"`` with
``Retry-After``), ``"timeout"`` (sleeps ``timeout_sleep`` then answers), ``"truncated"`` (full
Content-Length, half the body, close), ``"badjson"`` (a 200 whose body is corrupt: half the JSON
or XML; for EU CTR an HTML error page), ``"short"`` (EU CTR: the page's last trial left out),
``"drop"`` (close without answering).
"""
from __future__ import annotations

import copy
import datetime as dt
import json
import re
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from lxml import etree

from .ctgov_server import write_response
from .paths import shared_fixtures

NS = "http://www.67bricks.com/isrctn"
FAULT_KINDS = {"timeout", "truncated", "badjson", "short", "drop"}
_Q_TERM = re.compile(r"^lastEdited (GE|GT|LE|LT) (\d{4}-\d{2}-\d{2}T[0-9:.]+Z?)$")
_EUDRACT = re.compile(r"EudraCT Number:\s*(\d{4}-\d{6}-\d{2})")
_ENTERED = re.compile(rb"(Date on which this record was first entered in the EudraCT database: )(\d{4}-\d{2}-\d{2})")


# -- fixtures ---------------------------------------------------------------------------------
def load_isrctn_trials() -> list[dict]:
    """The ctrdata ISRCTN fixtures (dicts), in file-name order."""
    return [json.loads(p.read_text()) for p in sorted((shared_fixtures() / "registries" / "isrctn").glob("ctrdata_isrctn_*.json"))]


def isrctn_element(record: dict, last_updated: str) -> etree._Element:
    """A ``<fullTrial>`` built back from a ctrdata record (dict -> children, list -> repeats)."""
    full = etree.Element(f"{{{NS}}}fullTrial", nsmap={None: NS})
    trial = etree.SubElement(full, f"{{{NS}}}trial", lastUpdated=last_updated, version="1")

    def add(parent, key, value):
        if isinstance(value, list):
            for v in value:
                add(parent, key, v)
            return
        el = etree.SubElement(parent, f"{{{NS}}}{key}")
        if isinstance(value, dict):
            for k, v in value.items():
                add(el, k, v)
        else:
            el.text = "" if value is None else (str(value).lower() if isinstance(value, bool) else str(value))

    for key, value in record.items():
        if key not in ("ctrname", "record_last_import"):
            add(trial, key, value)
    return full


def load_ctis_trials() -> list[dict]:
    """The ctrdata CTIS fixtures without ctrdata's own fields, in file-name order."""
    out = []
    for p in sorted((shared_fixtures() / "registries" / "ctis").glob("ctrdata_ctis_*.json")):
        rec = json.loads(p.read_text())
        out.append({k: v for k, v in rec.items() if k not in ("ctrname", "record_last_import")})
    return out


def _dmy(value: str) -> str:
    m = re.match(r"(\d{4})-(\d{2})-(\d{2})", value or "")
    return f"{m[3]}/{m[2]}/{m[1]}" if m else (value or "")


def ctis_overview(rec: dict) -> dict:
    decided = rec.get("decisionDateOverall") or _dmy(rec.get("authorizationDate", "")) or _dmy(rec.get("lastUpdated", ""))
    return {"ctNumber": rec["ctNumber"], "ctTitle": rec.get("title") or rec.get("shortTitle"),
            "ctStatus": rec.get("ctStatus"), "decisionDate": decided, "lastUpdated": _dmy(rec.get("lastUpdated", ""))}


def load_euctr_trials(keep_bad: bool = False, extra: int = 10) -> list[tuple[str, bytes]]:
    """(EudraCT number, that trial's member-state records as text) from the full-text fixture, plus
    ``extra`` synthetic trials cloned from them with new numbers and first-entered dates 2010+i."""
    raw = (shared_fixtures() / "registries" / "euctr" / "euctr_full_text_download_ctrdata_test.txt").read_bytes()
    if not keep_bad:
        raw = b"".join(line for line in raw.splitlines(keepends=True) if b"JSON_ERROR_HERE" not in line)
    blocks = raw.split(b"\nSummary\n")[1:]
    trials: dict[str, list[bytes]] = {}
    for block in blocks:
        trials.setdefault(_EUDRACT.search(block.decode()).group(1), []).append(b"Summary\n" + block.rstrip(b"\n") + b"\n\n")
    real = [(k, b"".join(v)) for k, v in trials.items()]
    out = list(real)
    for i in range(extra):
        number, text = real[i % len(real)]
        new = f"{2010 + i}-{900100 + i:06d}-{10 + i:02d}"
        day = iter(range(1, 100))
        text = _ENTERED.sub(lambda m: m[1] + (dt.date(2010 + i, 3, 1) + dt.timedelta(days=next(day))).isoformat().encode(),
                            text.replace(number.encode(), new.encode()))
        out.append((new, text))
    return out


def euctr_entered(text: bytes) -> list[str]:
    return [m[2].decode() for m in _ENTERED.finditer(text)]


# -- the server core --------------------------------------------------------------------------
@dataclass
class RecordedRequest:
    n: int
    method: str
    path: str
    params: dict[str, str]
    body: Any
    fault: str | None
    status: int | None = None
    keys: tuple = ()


class BadRequest(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class _LoopbackServer:
    """A threaded HTTP server on 127.0.0.1 with per-request fault injection; subclasses add endpoints."""
    PREFIX = ""
    FAULT_KINDS = FAULT_KINDS

    def __init__(self, faults: dict | None = None, *, timeout_sleep: float = 2.0, retry_after: str = "0"):
        self.timeout_sleep, self.retry_after = timeout_sleep, retry_after
        self.requests: list[RecordedRequest] = []
        self._lock, self._stop = threading.Lock(), threading.Event()
        self.set_faults(faults or {})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}{self.PREFIX}"

    def start(self):
        if self._thread is None:
            self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        return _make_handler(self)

    def set_faults(self, faults: dict) -> None:
        for kinds in faults.values():
            for kind in [kinds] if isinstance(kinds, str) else kinds:
                if kind not in self.FAULT_KINDS and not (kind.isdigit() and len(kind) == 3):
                    raise ValueError(f"unknown fault kind {kind!r}")
        with self._lock:
            self._faults = {k: ([v] if isinstance(v, str) else list(v)) for k, v in faults.items()}

    def faults_fired(self) -> list[tuple[int, str]]:
        with self._lock:
            return [(r.n, r.fault) for r in self.requests if r.fault]

    def requests_to(self, suffix: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path[len(self.PREFIX):].startswith(suffix)]

    def _record(self, method: str, path: str, params: dict, body: Any) -> RecordedRequest:
        with self._lock:
            rec = RecordedRequest(len(self.requests) + 1, method, path, params, body, None)
            try:
                rec.keys = tuple(self.fault_keys(path[len(self.PREFIX):], params, body))
            except Exception:
                rec.keys = ()
            self.requests.append(rec)
            for key in (rec.n, *rec.keys):
                if self._faults.get(key):
                    rec.fault = self._faults[key].pop(0)
                    break
            return rec

    # subclasses: fault_keys(sub, params, body) -> list[str]; respond(method, sub, params, body, fault)
    def corrupt(self, body: bytes, ctype: str) -> bytes:
        return body[: len(body) // 2]


def _make_handler(server: _LoopbackServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def _send(self, rec, status, ctype, body, extra=None, declared=None, close=False):
            write_response(self, rec, status, ctype, body, extra, declared, close)

        def do_GET(self):  # noqa: N802
            self._guarded("GET")

        def do_POST(self):  # noqa: N802
            self._guarded("POST")

        def _guarded(self, method):
            try:
                self._handle(method)
            except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
                self.close_connection = True

        def _handle(self, method):
            parts = urlsplit(self.path)
            params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)) if method == "POST" else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw
            rec = server._record(method, parts.path, params, body)
            fault = rec.fault
            if fault == "drop":
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if fault and fault.isdigit():
                extra = {"Retry-After": server.retry_after} if fault == "429" else None
                self._send(rec, int(fault), "application/json", json.dumps({"message": f"injected HTTP {fault}"}).encode(), extra)
                return
            if fault == "timeout":
                server._stop.wait(server.timeout_sleep)
            sub = parts.path[len(server.PREFIX):] if parts.path.startswith(server.PREFIX) else None
            try:
                if sub is None:
                    raise BadRequest(404, f"no such endpoint {parts.path}")
                status, ctype, out = server.respond(method, sub, params, body, fault)
            except BadRequest as exc:
                status, ctype, out = exc.status, "application/json", json.dumps({"message": str(exc)}).encode()
            if fault == "truncated":
                self._send(rec, status, ctype, out[: len(out) // 2], declared=len(out), close=True)
            elif fault == "badjson":
                self._send(rec, status, ctype, server.corrupt(out, ctype))
            else:
                self._send(rec, status, ctype, out)

    return Handler


def _int(params: dict, key: str, default: int, lo: int, hi: int) -> int:
    try:
        value = int(params.get(key, default))
    except ValueError:
        raise BadRequest(400, f"{key} must be an integer") from None
    if not lo <= value <= hi:
        raise BadRequest(400, f"{key} must be in {lo}..{hi}")
    return value


def _check_params(params: dict, allowed: set[str]) -> None:
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise BadRequest(400, f"unknown parameter(s): {', '.join(unknown)}")


# -- ISRCTN -----------------------------------------------------------------------------------
class IsrctnTestServer(_LoopbackServer):
    PREFIX = "/api"
    QUERY = "/query/format/default"

    def __init__(self, trials: list[dict] | None = None, faults: dict | None = None,
                 last_updated: dict[str, str] | None = None, **kw):
        super().__init__(faults, **kw)
        self.set_trials(load_isrctn_trials() if trials is None else trials, last_updated)

    def set_trials(self, trials: list[dict], last_updated: dict[str, str] | None = None) -> None:
        trials = sorted(trials, key=lambda t: t["isrctn"])
        self.last_updated = {f"ISRCTN{t['isrctn']}": f"{2017 + i}-{i % 9 + 1:02d}-15T10:20:30.000Z"
                             for i, t in enumerate(trials)}
        self.last_updated.update(last_updated or {})
        self.elements = {f"ISRCTN{t['isrctn']}": isrctn_element(t, self.last_updated[f"ISRCTN{t['isrctn']}"])
                         for t in trials}

    def fault_keys(self, sub, params, body):
        if sub == self.QUERY:
            return [f"offset:{params.get('offset', '0')}"]
        return [f"trial:{sub.split('/')[2]}"] if sub.startswith("/trial/") else []

    def matching(self, q: str) -> list[str]:
        ids = list(self.elements)
        for term in q.split(" AND "):
            m = _Q_TERM.match(term.strip())
            if not m:
                raise BadRequest(400, f"unsupported q term {term.strip()[:80]!r}")
            op, bound = m[1], _when(m[2])
            ok = {"GE": lambda d: d >= bound, "GT": lambda d: d > bound,
                  "LE": lambda d: d <= bound, "LT": lambda d: d < bound}[op]
            ids = [i for i in ids if ok(_when(self.last_updated[i]))]
        return ids

    def respond(self, method, sub, params, body, fault):
        if sub.startswith("/trial/") and sub.endswith("/format/default"):
            el = self.elements.get(sub.split("/")[2].upper())
            if el is None:
                raise BadRequest(404, "no such trial")
            return 200, "application/xml", etree.tostring(el, xml_declaration=True, encoding="UTF-8")
        if sub != self.QUERY or method != "GET":
            raise BadRequest(404, f"no such endpoint {sub}")
        _check_params(params, {"q", "limit", "offset"})
        if "q" not in params:
            raise BadRequest(400, "q is required")
        ids = self.matching(params["q"])
        limit, offset = _int(params, "limit", 10, 0, 100000), _int(params, "offset", 0, 0, 10**9)
        root = etree.Element(f"{{{NS}}}allTrials", nsmap={None: NS}, totalCount=str(len(ids)))
        for i in ids[offset: offset + limit]:
            root.append(copy.deepcopy(self.elements[i]))
        return 200, "application/xml", etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _when(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


# -- CTIS -------------------------------------------------------------------------------------
class CtisTestServer(_LoopbackServer):
    PREFIX = "/ctis-public-api"

    def __init__(self, trials: list[dict] | None = None, faults: dict | None = None, **kw):
        super().__init__(faults, **kw)
        self.set_trials(load_ctis_trials() if trials is None else trials)

    def set_trials(self, trials: list[dict]) -> None:
        self.trials = {t["ctNumber"]: t for t in trials}
        self.overviews = [ctis_overview(t) for t in trials]
        self.overviews.sort(key=lambda o: o["ctNumber"], reverse=True)
        self.overviews.sort(key=lambda o: _dmy_key(o["decisionDate"]), reverse=True)

    def fault_keys(self, sub, params, body):
        if sub == "/search" and isinstance(body, dict):
            return [f"page:{body['pagination']['page']}"]
        return [f"retrieve:{sub.split('/')[2]}"] if sub.startswith("/retrieve/") else []

    def respond(self, method, sub, params, body, fault):
        if sub.startswith("/retrieve/") and method == "GET":
            rec = self.trials.get(sub.split("/")[2])
            if rec is None:
                raise BadRequest(404, "trial not found")
            return 200, "application/json", json.dumps(rec).encode()
        if sub != "/search" or method != "POST":
            raise BadRequest(404, f"no such endpoint {sub}")
        try:
            page, size = int(body["pagination"]["page"]), int(body["pagination"]["size"])
            criteria = body.get("searchCriteria") or {}
        except (TypeError, KeyError, ValueError):
            raise BadRequest(400, "body needs pagination.page and pagination.size") from None
        if not 1 <= size <= 1000 or not isinstance(criteria, dict):
            raise BadRequest(400, "size must be in 1..1000 and searchCriteria an object")
        if body.get("sort") not in (None, {"property": "decisionDate", "direction": "DESC"}):
            raise BadRequest(400, "unsupported sort")
        rows = [o for o in self.overviews if not criteria.get("number") or o["ctNumber"] == criteria["number"]]
        pages = -(-len(rows) // size)
        data = rows[(page - 1) * size: page * size] if page >= 1 else []
        total = len(rows) if page >= 1 else 0  # the real API answers page 0 with 0 records
        pag = {"page": page, "size": size, "totalRecords": total, "totalPages": pages if page >= 1 else 0,
               "nextPage": 1 <= page < pages, "previousPage": page > 1}
        return 200, "application/json", json.dumps({"pagination": pag, "data": data}).encode()


def _dmy_key(value: str) -> str:
    m = re.match(r"(\d{2})/(\d{2})/(\d{4})", value or "")
    return f"{m[3]}-{m[2]}-{m[1]}" if m else ""


# -- EU CTR -----------------------------------------------------------------------------------
class EuctrTestServer(_LoopbackServer):
    PREFIX = "/ctr-search"
    DOWNLOAD = "/rest/download/full"
    PREAMBLE = (b"This file contains full details on each clinical trial selected for download. Where multi-state "
                b"trials have been downloaded full information for each of the member states/countries involved "
                b"in the trial are included separately.\n\n")

    def __init__(self, trials: list[tuple[str, bytes]] | None = None, faults: dict | None = None,
                 page_size: int = 20, **kw):
        super().__init__(faults, **kw)
        self.page_size = page_size
        self.trials = sorted(load_euctr_trials() if trials is None else trials, reverse=True)

    def fault_keys(self, sub, params, body):
        if sub == "/search":
            return ["search"]
        return [f"page:{params.get('page', '1')}"] if sub == self.DOWNLOAD else []

    def matching(self, params: dict) -> list[tuple[str, bytes]]:
        lo, hi = params.get("dateFrom") or "0000-00-00", params.get("dateTo") or "9999-99-99"
        for d in (lo, hi):
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", d) and d not in ("0000-00-00", "9999-99-99"):
                raise BadRequest(400, f"bad date {d[:20]!r}")
        wanted = set(re.findall(r"\d{4}-\d{6}-\d{2}", params.get("query", "")))
        return [(n, t) for n, t in self.trials if (not wanted or n in wanted)
                and any(lo <= d <= hi for d in euctr_entered(t))]

    def respond(self, method, sub, params, body, fault):
        if method != "GET" or sub not in ("/search", self.DOWNLOAD):
            raise BadRequest(404, f"no such endpoint {sub}")
        _check_params(params, {"query", "dateFrom", "dateTo", "page", "mode", "format", "dContent", "number",
                               "submit-download"})
        rows = self.matching(params)
        page = _int(params, "page", 1, 1, 10**6)
        chunk = rows[(page - 1) * self.page_size: page * self.page_size]
        if sub == "/search":
            listing = "".join(f"<tr><td>EudraCT Number: {n}</td></tr>" for n, _ in chunk)
            html = (f"<!DOCTYPE html><html><body><div class='outcome'>{len(rows):,} result(s) found. "
                    f"Trials with a EudraCT protocol ({len(rows):,})</div><table>{listing}</table></body></html>")
            return 200, "text/html; charset=UTF-8", html.encode()
        if fault == "short":
            chunk = chunk[:-1]
        return 200, "text/plain; charset=UTF-8", self.PREAMBLE + b"".join(t for _, t in chunk)

    def corrupt(self, body: bytes, ctype: str) -> bytes:
        return b"<!DOCTYPE html><html><body><h1>Service temporarily unavailable</h1></body></html>"
