"""A real loopback HTTP server that imitates ClinicalTrials.gov API v2, with fault injection.

Usage::

    from tests.support.ctgov_server import CtgovTestServer, load_fixture_studies

    with CtgovTestServer(load_fixture_studies(), faults={2: "429", "offset:14": "truncated"}) as srv:
        client = CtgovLiveClient(base_url=srv.base_url, page_size=7)   # srv.base_url ends in /api/v2
        ...
        srv.requests            # every request: RecordedRequest(n, path, params, fault, status)

Endpoints (under ``/api/v2``):

* ``GET /studies`` - params ``format`` (json only), ``pageSize`` (1..1000, default 10),
  ``pageToken``, ``countTotal`` (``totalCount`` on the page when true), ``sort``
  (``LastUpdatePostDate:asc|desc``; default = NCT id order), ``filter.advanced`` (only
  ``AREA[LastUpdatePostDate]RANGE[lo,hi]`` terms joined by `` AND ``; lo/hi are ``MIN``/``MAX``,
  ``YYYY-MM`` or ``YYYY-MM-DD``), ``filter.ids`` (comma list). Any other param -> 400, like the
  real API's strict validation. The last page has no ``nextPageToken``.
* ``GET /studies/<nctId>`` - one study or 404.  ``GET /version`` - ``{apiVersion, dataTimestamp}``.

Page tokens are opaque (urlsafe base64 of ``offset:fingerprint``) where the fingerprint is a hash
of the query params other than pageToken/pageSize/countTotal: a token that does not decode, points
past the result set or was issued for different params -> 400 (so a client that changes its
params while paging fails loudly). ``srv.token_for(offset, params)`` computes a token.

Faults (``faults=`` or ``srv.set_faults(...)``), a dict whose keys select requests:

* ``int`` n - the n-th request the server receives (1-based, every path counts);
* ``"offset:<k>"`` - ``/studies`` requests for the page starting at result offset k (first page = 0);
* any other ``str`` - ``/studies`` requests carrying exactly that ``pageToken``;
* ``None`` - ``/studies`` requests without a ``pageToken`` (first page).

A value is one fault kind or a list of kinds consumed by successive matching requests (a str key
with ``"500"`` fires once; ``["500"] * 20`` fails 20 times in a row). Kinds:

* ``"429"`` - 429 with ``Retry-After: <retry_after>`` (default "0"); any other 3-digit code -> that
  status with a JSON error body (e.g. ``"500"``, ``"503"``, ``"404"``, ``"400"``);
* ``"timeout"`` - sleeps ``timeout_sleep`` seconds (> the client's timeout), then answers normally;
* ``"truncated"`` - correct ``Content-Length`` header, only half the body, then closes the connection;
* ``"badjson"`` - 200 whose body is the first half of the JSON, with a matching ``Content-Length``;
* ``"nostudies"`` - 200 with valid JSON lacking ``studies``;
* ``"drop"`` - closes the connection without any response.

``srv.set_studies(...)`` replaces the data set (e.g. to simulate updates between incremental runs).
"""
from __future__ import annotations

import base64
import glob
import hashlib
import json
import os
import re
import socket
import threading
from pathlib import Path
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterable
from urllib.parse import parse_qs, urlsplit

def write_response(handler: BaseHTTPRequestHandler, rec, status: int, ctype: str, body: bytes,
                   extra: dict | None = None, declared: int | None = None, close: bool = False) -> None:
    """Answer one request; ``declared`` lies about Content-Length and ``close`` drops the connection
    after the body (how the servers fake truncated pages)."""
    rec.status = status
    handler.send_response(status)
    handler.send_header("Content-Type", ctype)
    handler.send_header("Content-Length", str(len(body) if declared is None else declared))
    for k, v in (extra or {}).items():
        handler.send_header(k, v)
    if close:
        handler.send_header("Connection", "close")
    handler.end_headers()
    handler.wfile.write(body)
    handler.wfile.flush()
    if close:
        handler.close_connection = True
        try:
            handler.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


FIXTURE_DIR = str(Path(__file__).resolve().parents[2] / "trialpanorama_dagster" / "data" / "ctgov" / "api_v2_studies")
API_PREFIX = "/api/v2"
PAGING_PARAMS = {"pageToken", "pageSize", "countTotal"}
ALLOWED_PARAMS = PAGING_PARAMS | {"format", "sort", "filter.advanced", "filter.ids", "markupFormat"}
_RANGE = re.compile(r"^AREA\[LastUpdatePostDate\]RANGE\[\s*([^,\]]+?)\s*,\s*([^\]]+?)\s*\]$")
FAULT_KINDS = {"timeout", "truncated", "badjson", "nostudies", "drop"}
_DATE = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")


def load_fixture_studies(directory: str = FIXTURE_DIR) -> list[dict]:
    """The fixture studies (one JSON file per study), in file-name (NCT id) order."""
    out = []
    for path in sorted(glob.glob(os.path.join(directory, "*.json"))):
        with open(path, "rb") as fh:
            out.append(json.load(fh))
    return out


def nct_id(study: dict) -> str | None:
    try:
        return study["protocolSection"]["identificationModule"]["nctId"]
    except (KeyError, TypeError):
        return None


def last_update(study: dict) -> str | None:
    try:
        return study["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"]["date"]
    except (KeyError, TypeError):
        return None


def in_range(date: str | None, lo: str, hi: str) -> bool:
    """Whether a YYYY-MM[-DD] date lies in RANGE[lo,hi] (inclusive; partial dates: day 01 for the
    study date and the lower bound, whole month for the upper bound)."""
    if not date:
        return False
    d = date if len(date) == 10 else date[:7] + "-01"
    if lo != "MIN" and d < (lo if len(lo) == 10 else lo + "-01"):
        return False
    if hi != "MAX" and d > (hi if len(hi) == 10 else hi + "-31"):
        return False
    return True


@dataclass
class RecordedRequest:
    n: int                    # 1-based request number
    path: str                 # e.g. "/api/v2/studies"
    params: dict[str, str]    # query params (last value wins)
    fault: str | None         # the injected fault, if any
    status: int | None = None  # the status sent (None for drop/truncated-before-status)


class _BadRequest(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class CtgovTestServer:
    def __init__(
        self,
        studies: Iterable[dict] | None = None,
        faults: dict | None = None,
        *,
        timeout_sleep: float = 2.0,
        retry_after: str = "0",
        data_timestamp: str = "2026-01-01T00:00:00",
        host: str = "127.0.0.1",
        port: int = 0,
    ):
        self.timeout_sleep = timeout_sleep
        self.retry_after = retry_after
        self.data_timestamp = data_timestamp
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.set_studies(load_fixture_studies() if studies is None else studies)
        self.set_faults(faults or {})
        self._httpd = ThreadingHTTPServer((host, port), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """What to pass as the client's base_url (``http://127.0.0.1:<port>/api/v2``)."""
        return self.root_url + API_PREFIX

    def start(self) -> "CtgovTestServer":
        if self._thread is None:
            self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                            name=f"ctgov-test-server-{self.port}", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()  # wakes handlers sleeping in a "timeout" fault
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> "CtgovTestServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- configuration ------------------------------------------------------------------------
    def set_studies(self, studies: Iterable[dict]) -> None:
        with self._lock:
            self._studies = list(studies)

    def set_faults(self, faults: dict) -> None:
        """Replace the fault script (see the module docstring); unknown kinds raise ValueError."""
        for kinds in faults.values():
            for kind in [kinds] if isinstance(kinds, str) else kinds:
                if kind not in FAULT_KINDS and not (kind.isdigit() and len(kind) == 3):
                    raise ValueError(f"unknown fault kind {kind!r}")
        with self._lock:
            self._faults = {k: ([v] if isinstance(v, str) else list(v)) for k, v in faults.items()}

    @property
    def studies(self) -> list[dict]:
        with self._lock:
            return list(self._studies)

    # -- inspection ---------------------------------------------------------------------------
    def study_requests(self) -> list[RecordedRequest]:
        """Recorded requests to ``/api/v2/studies`` (the list endpoint only)."""
        with self._lock:
            return [r for r in self.requests if r.path == API_PREFIX + "/studies"]

    def faults_fired(self) -> list[tuple[int, str]]:
        with self._lock:
            return [(r.n, r.fault) for r in self.requests if r.fault]

    @staticmethod
    def fingerprint(params: dict[str, str]) -> str:
        items = sorted((k, v) for k, v in params.items() if k not in PAGING_PARAMS)
        return hashlib.sha256(json.dumps(items).encode()).hexdigest()[:12]

    def token_for(self, offset: int, params: dict[str, str] | None = None) -> str:
        raw = f"{offset}:{self.fingerprint(params or {})}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def decode_token(self, token: str, params: dict[str, str]) -> int:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            off_s, fp = raw.split(":")
            offset = int(off_s)
        except Exception:
            raise _BadRequest(400, f"invalid pageToken {token[:40]!r}") from None
        if fp != self.fingerprint(params):
            raise _BadRequest(400, "pageToken was issued for different query parameters")
        if offset <= 0:
            raise _BadRequest(400, f"invalid pageToken {token[:40]!r}")
        return offset

    # -- request handling (called from handler threads) ---------------------------------------
    def _record(self, path: str, params: dict[str, str]) -> tuple[RecordedRequest, str | None]:
        with self._lock:
            rec = RecordedRequest(len(self.requests) + 1, path, params, None)
            self.requests.append(rec)
            keys: list[Any] = [rec.n]
            if path == API_PREFIX + "/studies":
                tok = params.get("pageToken")
                keys.append(tok)
                offset = 0 if tok is None else _offset_or_none(tok)
                if offset is not None:
                    keys.append(f"offset:{offset}")
            for key in keys:
                queue = self._faults.get(key)
                if queue:
                    rec.fault = queue.pop(0)
                    break
            return rec, rec.fault

    def _search(self, params: dict[str, str]) -> dict:
        unknown = sorted(set(params) - ALLOWED_PARAMS)
        if unknown:
            raise _BadRequest(400, f"unknown parameter(s): {', '.join(unknown)}")
        if params.get("format", "json") != "json":
            raise _BadRequest(400, "only format=json is supported by the test server")
        try:
            size = int(params.get("pageSize", "10"))
        except ValueError:
            raise _BadRequest(400, "pageSize must be an integer") from None
        if not 1 <= size <= 1000:
            raise _BadRequest(400, "pageSize must be in 1..1000")
        with self._lock:
            rows = list(self._studies)
        ids = params.get("filter.ids")
        if ids:
            wanted = {x.strip().upper() for x in ids.split(",") if x.strip()}
            rows = [s for s in rows if (nct_id(s) or "").upper() in wanted]
        adv = params.get("filter.advanced")
        if adv:
            for term in adv.split(" AND "):
                m = _RANGE.match(term.strip())
                if not m or not all(b in ("MIN", "MAX") or _DATE.match(b) for b in m.groups()):
                    raise _BadRequest(400, f"unsupported filter.advanced term {term.strip()[:80]!r}")
                lo, hi = m.groups()
                rows = [s for s in rows if in_range(last_update(s), lo, hi)]
        sort = params.get("sort")
        if sort in ("LastUpdatePostDate:asc", "LastUpdatePostDate", "LastUpdatePostDate:desc"):
            rows.sort(key=lambda s: (last_update(s) or "", nct_id(s) or ""),
                      reverse=sort.endswith(":desc"))
        elif sort:
            raise _BadRequest(400, f"unsupported sort {sort!r}")
        else:
            rows.sort(key=lambda s: nct_id(s) or "")
        tok = params.get("pageToken")
        offset = 0 if tok is None else self.decode_token(tok, params)
        if tok is not None and offset >= len(rows):
            raise _BadRequest(400, "pageToken points past the end of the result set")
        body: dict[str, Any] = {"studies": rows[offset:offset + size]}
        if offset + size < len(rows):
            body["nextPageToken"] = self.token_for(offset + size, params)
        if params.get("countTotal", "false").lower() == "true":
            body["totalCount"] = len(rows)
        return body

    def _respond_json(self, path: str, params: dict[str, str]) -> tuple[int, Any]:
        sub = path[len(API_PREFIX):] if path.startswith(API_PREFIX) else None
        if sub == "/version":
            return 200, {"apiVersion": "2.0.5-test", "dataTimestamp": self.data_timestamp}
        if sub == "/studies":
            return 200, self._search(params)
        if sub and sub.startswith("/studies/"):
            wanted = sub.split("/")[2].upper()
            with self._lock:
                for s in self._studies:
                    if (nct_id(s) or "").upper() == wanted:
                        return 200, s
            return 404, {"message": f"study {wanted} not found"}
        return 404, {"message": f"no such endpoint {path}"}


def _offset_or_none(token: str) -> int | None:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        return int(raw.split(":")[0])
    except Exception:
        return None


def _make_handler(server: CtgovTestServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "CtgovTestServer/1.0"

        def log_message(self, *args) -> None:  # keep test output quiet
            pass

        def _send(self, status: int, body: bytes, rec: RecordedRequest, extra: dict | None = None,
                  declared: int | None = None, close: bool = False) -> None:
            write_response(self, rec, status, "application/json", body, extra, declared, close)

        def do_GET(self) -> None:  # noqa: N802
            try:
                self._handle()
            except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
                self.close_connection = True

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            rec, fault = server._record(parts.path, params)
            if fault == "drop":
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if fault and fault.isdigit() and len(fault) == 3:
                extra = {"Retry-After": server.retry_after} if fault == "429" else None
                msg = json.dumps({"message": f"injected HTTP {fault}"}).encode()
                self._send(int(fault), msg, rec, extra)
                return
            if fault == "timeout":
                server._stop.wait(server.timeout_sleep)
            try:
                status, obj = server._respond_json(parts.path, params)
            except _BadRequest as exc:
                status, obj = exc.status, {"message": str(exc)}
            body = json.dumps(obj).encode()
            if fault == "truncated":
                self._send(status, body[: len(body) // 2], rec, declared=len(body), close=True)
            elif fault == "badjson":
                self._send(status, body[: len(body) // 2], rec)
            elif fault == "nostudies":
                self._send(200, b'{"message": "no studies here"}', rec)
            elif fault in (None, "timeout"):
                self._send(status, body, rec)
            else:
                raise ValueError(f"unknown fault kind {fault!r}")

    return Handler
