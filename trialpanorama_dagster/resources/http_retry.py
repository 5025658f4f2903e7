"""Shared core of the live registry clients: paced, retrying HTTP plus the ``Page`` they yield.

``RetryingHttp.get/post(path, validate=...)`` sends one logical request until it yields a good
body: requests are paced to ``requests_per_minute`` (``<= 0`` disables pacing); 429, 5xx, other
non-200 non-4xx statuses, timeouts, transport errors, bodies shorter than their
``Content-Length`` and bodies the ``validate`` callable rejects (by raising ``Retryable``) are
retried with exponential backoff and full jitter (attempt k sleeps U(0, min(backoff_max,
backoff_base * 2**k))); ``Retry-After`` (seconds) on a 429 replaces the jittered delay, capped by
``backoff_max``. A 4xx other than 429, or retries exhausted, raises ``error_cls`` (a
``RegistryApiError``) with a one-line message. ``headers`` are sent with every request (a client
whose headers carry a secret redacts it in ``clean``). Plain Python + httpx, no Dagster.
"""
from __future__ import annotations

import datetime as dt
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import httpx
import orjson

from ..registries.formats import RawItem


logger = logging.getLogger(__name__)


@dataclass
class Page:
    """One page of a live registry walk.

    ClinicalTrials.gov fills ``studies``/``payloads`` (``total_count`` on the first page only);
    the other registries fill ``items`` with ready-to-load ``RawItem``s (``total_count`` where the
    registry reports it). ``next_page_token`` is None on the last page; ``page_token`` is the
    token that fetched this page (None for the first page); both are opaque strings.
    """
    studies: list[dict] = field(default_factory=list)
    payloads: list[bytes] = field(default_factory=list)   # each study re-serialised with orjson.dumps
    next_page_token: str | None = None
    page_token: str | None = None
    total_count: int | None = None
    url: str = ""
    items: list[RawItem] = field(default_factory=list)


class RegistryApiError(RuntimeError):
    """A non-retryable registry API failure (4xx other than 429) or retries exhausted."""


class Retryable(Exception):
    """Raised by a body validator (or internally) for a failure worth asking again."""

    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.retry_after = retry_after


def iso_date(d: Any) -> str:
    if isinstance(d, dt.datetime):
        d = d.date()
    return d.isoformat() if isinstance(d, dt.date) else str(d)


def one_line(text: str, limit: int = 200) -> str:
    return " ".join(text.split())[:limit]


def decode_json(content: bytes) -> Any:
    """orjson-decode a body; invalid JSON is retryable."""
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        raise Retryable(f"invalid JSON body ({len(content)} bytes)") from None


def json_object(content: bytes) -> dict:
    body = decode_json(content)
    if not isinstance(body, dict):
        raise Retryable("response body is not a JSON object")
    return body


class RetryingHttp:
    def __init__(
        self,
        base_url: str,
        *,
        name: str,
        log_prefix: str,
        requests_per_minute: float = 50.0,
        max_retries: int = 8,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
        timeout: float = 60.0,
        user_agent: str = "trialpanorama-dagster",
        accept: str = "application/json",
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        log: Callable[[str], None] | None = None,
        error_cls: type[RegistryApiError] = RegistryApiError,
        headers: dict[str, str] | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.name, self.log_prefix, self.error_cls = name, log_prefix, error_cls
        self.min_interval = 60.0 / requests_per_minute if requests_per_minute > 0 else 0.0
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._sleep, self._clock, self._log = sleep, clock, log
        self._last_start: float | None = None
        self._rng = random.Random()
        self._http = httpx.Client(
            base_url=self.base_url, transport=transport, timeout=timeout, follow_redirects=True,
            headers={"User-Agent": user_agent, "Accept": accept, **(headers or {})},
        )

    # -- public -------------------------------------------------------------------------------
    def get(self, path: str, params: dict | None = None, validate: Callable[[bytes], Any] = json_object,
            what: str | None = None) -> tuple[Any, str]:
        """GET until ``validate(body_bytes)`` returns; -> (its result, the final request URL)."""
        return self.request("GET", path, params=params, validate=validate, what=what)

    def post(self, path: str, json: Any = None, params: dict | None = None,
             validate: Callable[[bytes], Any] = json_object, what: str | None = None) -> tuple[Any, str]:
        """POST a JSON body (the same bytes on every attempt); -> (validated body, request URL)."""
        return self.request("POST", path, params=params, json=json, validate=validate, what=what)

    def request(self, method: str, path: str, *, params: dict | None = None, json: Any = None,
                data: dict | None = None, validate: Callable[[bytes], Any] = json_object,
                what: str | None = None) -> tuple[Any, str]:
        """``json``: a JSON body; ``data``: a form body (the same bytes on every attempt)."""
        url = f"{self.base_url}{path}"
        kw: dict[str, Any] = {"params": params or {}}
        if json is not None:
            kw["content"] = orjson.dumps(json)
            kw["headers"] = {"Content-Type": "application/json"}
        if data is not None:
            kw["data"] = data
        for attempt in range(self.max_retries + 1):
            self._pace()
            try:
                resp = self._http.request(method, path, **kw)
                url = self.clean(str(resp.request.url))
                return self._decode(resp, validate), url
            except Retryable as exc:
                reason, retry_after = str(exc), exc.retry_after
            except httpx.TimeoutException as exc:
                reason, retry_after = f"timeout ({type(exc).__name__})", None
            except httpx.TransportError as exc:
                reason, retry_after = f"transport error ({type(exc).__name__}: {one_line(str(exc), 120)})", None
            except RegistryApiError as exc:
                text = str(exc)
                if self.clean(text) == text:
                    raise
                raise type(exc)(self.clean(text)) from None
            if attempt >= self.max_retries:
                raise self.error_cls(self.clean(
                    f"{self.name} {path} failed after {attempt + 1} attempts: {reason} ({url})"))
            delay = self._backoff(attempt, retry_after)
            message = self.clean(f"{self.log_prefix}: {reason} on {what or path}; "
                                 f"retry {attempt + 1}/{self.max_retries} in {delay:.2f}s")
            logger.warning(message)
            if self._log:
                self._log(message)
            self._sleep(delay)
        raise AssertionError("unreachable")

    def clean(self, text: str) -> str:
        """What may be shown of a text in logs and errors (a client whose requests carry secrets
        redacts them here)."""
        return text

    def close(self) -> None:
        self._http.close()

    # -- internals ----------------------------------------------------------------------------
    def _pace(self) -> None:
        if self._last_start is not None and self.min_interval > 0:
            wait = self._last_start + self.min_interval - self._clock()
            if wait > 0:
                self._sleep(wait)
        self._last_start = self._clock()

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(self.backoff_max, max(0.0, retry_after))
        return self._rng.uniform(0.0, min(self.backoff_max, self.backoff_base * 2 ** attempt))

    def _decode(self, resp: httpx.Response, validate: Callable[[bytes], Any]) -> Any:
        status = resp.status_code
        if status == 429 or status >= 500:
            retry_after = None
            if status == 429:
                try:
                    retry_after = float(resp.headers.get("Retry-After", ""))
                except ValueError:
                    pass
            raise Retryable(f"HTTP {status}", retry_after)
        if status >= 400:
            raise self.error_cls(f"{self.name} HTTP {status} for {resp.request.url}: {one_line(resp.text)}")
        if status != 200:
            raise Retryable(f"unexpected HTTP {status}")
        content = resp.content
        declared = resp.headers.get("Content-Length")
        if declared is not None and "Content-Encoding" not in resp.headers:
            if declared.strip() != str(len(content)):
                raise Retryable(f"truncated body ({len(content)} of {declared} bytes)")
        return validate(content)


class LiveClientBase:
    """Shared plumbing of the registry clients: the constructor knobs, one ``RetryingHttp``,
    logging, context manager. A client sets the class attributes and adds its own options."""

    NAME = "registry"
    LOG_PREFIX = "registry"
    ACCEPT = "*/*"
    DEFAULT_BASE_URL = ""
    DEFAULT_PAGE_SIZE = 100
    MAX_PAGE_SIZE: int | None = 1000
    DEFAULT_REQUESTS_PER_MINUTE = 60.0
    DEFAULT_TIMEOUT = 60.0
    ERROR_CLS: type[RegistryApiError] = RegistryApiError

    def __init__(self, base_url: str | None = None, page_size: int | None = None,
                 requests_per_minute: float | None = None, max_retries: int = 8, backoff_base: float = 1.0,
                 backoff_max: float = 60.0, timeout: float | None = None,
                 user_agent: str = "trialpanorama-dagster", *, transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
                 log: Callable[[str], None] | None = None):
        page_size = self.DEFAULT_PAGE_SIZE if page_size is None else page_size
        if page_size < 1 or (self.MAX_PAGE_SIZE is not None and page_size > self.MAX_PAGE_SIZE):
            bound = f"in 1..{self.MAX_PAGE_SIZE}" if self.MAX_PAGE_SIZE is not None else ">= 1"
            raise ValueError(f"page_size must be {bound}, got {page_size}")
        self.page_size = page_size
        self.base_url = (base_url or self.DEFAULT_BASE_URL).rstrip("/")
        self._log = log
        self._http = RetryingHttp(
            self.base_url, name=self.NAME, log_prefix=self.LOG_PREFIX,
            requests_per_minute=self.DEFAULT_REQUESTS_PER_MINUTE if requests_per_minute is None else requests_per_minute,
            max_retries=max_retries, backoff_base=backoff_base, backoff_max=backoff_max,
            timeout=self.DEFAULT_TIMEOUT if timeout is None else timeout, user_agent=user_agent,
            accept=self.ACCEPT, transport=transport, sleep=sleep, clock=clock, log=log, error_cls=self.ERROR_CLS)

    def _note(self, message: str) -> None:
        if self._log:
            self._log(f"{self.LOG_PREFIX}: {message}")

    def close(self) -> None:
        self._http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def int_token(token: str | None, default: int, minimum: int, what: str) -> int:
    """Decode one of the clients' integer page tokens (None -> ``default``)."""
    if token is None:
        return default
    try:
        value = int(token)
    except ValueError:
        raise ValueError(f"invalid {what} page token {token[:40]!r}") from None
    if value < minimum:
        raise ValueError(f"invalid {what} page token {token[:40]!r}")
    return value
