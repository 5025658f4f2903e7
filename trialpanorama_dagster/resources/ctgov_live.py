"""Live ClinicalTrials.gov API v2 client: paged, paced, retrying. Plain Python + httpx, no Dagster.

``CtgovLiveClient.iter_pages(since=...)`` walks ``GET /studies`` page by page (``pageToken`` →
``nextPageToken``, all other params identical), sorted by ``LastUpdatePostDate`` ascending so an
incremental run is a stable, resumable stream. Requests are paced to ``requests_per_minute``;
429, 5xx, timeouts, transport errors and truncated/invalid bodies are retried with exponential
backoff and full jitter, always re-requesting the same page token, so a study is never lost or
duplicated. Non-retryable failures raise ``CtgovApiError``. ``requests_per_minute <= 0`` disables
pacing; ``Retry-After`` (seconds) on a 429 replaces the jittered delay, capped by ``backoff_max``.
"""
from __future__ import annotations

import datetime as dt
import random
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import httpx
import orjson

DEFAULT_BASE_URL = "https://clinicaltrials.gov/api/v2"
SORT_ASC = "LastUpdatePostDate:asc"


@dataclass
class Page:
    studies: list[dict]
    payloads: list[bytes]           # each study re-serialised with orjson.dumps
    next_page_token: str | None     # None on the last page
    page_token: str | None          # the token that fetched this page; None for the first page
    total_count: int | None         # only on the first page (countTotal=true)
    url: str


class CtgovApiError(RuntimeError):
    """A non-retryable API failure (4xx other than 429) or retries exhausted."""


class _Retryable(Exception):
    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.retry_after = retry_after


def _iso(d: Any) -> str:
    if isinstance(d, dt.datetime):
        d = d.date()
    return d.isoformat() if isinstance(d, dt.date) else str(d)


def _one_line(text: str, limit: int = 200) -> str:
    return " ".join(text.split())[:limit]


class CtgovLiveClient:
    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        page_size: int = 1000,
        requests_per_minute: float = 50.0,
        max_retries: int = 8,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
        timeout: float = 60.0,
        user_agent: str = "trialpanorama-dagster",
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        log: Callable[[str], None] | None = None,
    ):
        if not 1 <= page_size <= 1000:
            raise ValueError(f"page_size must be in 1..1000, got {page_size}")
        self.base_url = base_url.rstrip("/")
        self.page_size = page_size
        self.min_interval = 60.0 / requests_per_minute if requests_per_minute > 0 else 0.0
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._sleep, self._clock, self._log = sleep, clock, log
        self._last_start: float | None = None
        self._rng = random.Random()
        self._http = httpx.Client(
            base_url=self.base_url, transport=transport, timeout=timeout, follow_redirects=True,
            headers={"User-Agent": user_agent, "Accept": "application/json"},
        )

    # -- public -------------------------------------------------------------------------------
    def build_params(
        self,
        since: dt.date | None = None,
        until: dt.date | None = None,
        page_token: str | None = None,
        extra_params: dict | None = None,
    ) -> dict[str, str]:
        """Query params for one page; identical across pages except pageToken/countTotal."""
        params: dict[str, str] = {"format": "json", "pageSize": str(self.page_size), "sort": SORT_ASC}
        extra = {k: str(v) for k, v in (extra_params or {}).items()}
        terms = [extra.pop("filter.advanced")] if extra.get("filter.advanced") else []
        if since is not None or until is not None:
            lo = _iso(since) if since is not None else "MIN"
            hi = _iso(until) if until is not None else "MAX"
            terms.append(f"AREA[LastUpdatePostDate]RANGE[{lo},{hi}]")
        if terms:
            params["filter.advanced"] = " AND ".join(terms)
        params.update(extra)
        if page_token is None:
            params["countTotal"] = "true"
        else:
            params["pageToken"] = page_token
        return params

    def iter_pages(
        self,
        since: dt.date | None = None,
        until: dt.date | None = None,
        page_token: str | None = None,
        extra_params: dict | None = None,
    ) -> Iterator[Page]:
        """Yield pages from ``page_token`` (None = the first page) to the last page."""
        token, n = page_token, 0
        while True:
            params = self.build_params(since, until, token, extra_params)
            body, url = self._get_json("/studies", params, _check_studies)
            studies = body["studies"]
            next_token = body.get("nextPageToken") or None
            total = body.get("totalCount")
            n += 1
            if self._log:
                self._log(f"ctgov: page {n} {len(studies)} studies"
                          + (f" of {total}" if isinstance(total, int) else "")
                          + ("" if next_token else " (last page)"))
            yield Page(
                studies=studies,
                payloads=[orjson.dumps(s) for s in studies],
                next_page_token=next_token,
                page_token=token,
                total_count=total if isinstance(total, int) else None,
                url=url,
            )
            if next_token is None:
                return
            if next_token == token:
                raise CtgovApiError(f"ClinicalTrials.gov returned the same page token twice ({url})")
            token = next_token

    def fetch_version(self) -> dict:
        """``GET /version``: ``{"apiVersion": ..., "dataTimestamp": ...}``."""
        return self._get_json("/version", {}, _check_object)[0]

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "CtgovLiveClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

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

    def _get_json(self, path: str, params: dict, check: Callable[[Any], None]) -> tuple[Any, str]:
        url = f"{self.base_url}{path}"
        for attempt in range(self.max_retries + 1):
            self._pace()
            try:
                resp = self._http.get(path, params=params)
                url = str(resp.request.url)
                return self._decode(resp, check), url
            except _Retryable as exc:
                reason, retry_after = str(exc), exc.retry_after
            except httpx.TimeoutException as exc:
                reason, retry_after = f"timeout ({type(exc).__name__})", None
            except httpx.TransportError as exc:
                reason, retry_after = f"transport error ({type(exc).__name__}: {_one_line(str(exc), 120)})", None
            if attempt >= self.max_retries:
                raise CtgovApiError(
                    f"ClinicalTrials.gov {path} failed after {attempt + 1} attempts: {reason} ({url})")
            delay = self._backoff(attempt, retry_after)
            if self._log:
                self._log(f"ctgov: {reason} on {path} token={params.get('pageToken')!s:.40}; "
                          f"retry {attempt + 1}/{self.max_retries} in {delay:.2f}s")
            self._sleep(delay)
        raise AssertionError("unreachable")

    @staticmethod
    def _decode(resp: httpx.Response, check: Callable[[Any], None]) -> Any:
        status = resp.status_code
        if status == 429 or status >= 500:
            retry_after = None
            if status == 429:
                try:
                    retry_after = float(resp.headers.get("Retry-After", ""))
                except ValueError:
                    pass
            raise _Retryable(f"HTTP {status}", retry_after)
        if status >= 400:
            raise CtgovApiError(
                f"ClinicalTrials.gov HTTP {status} for {resp.request.url}: {_one_line(resp.text)}")
        if status != 200:
            raise _Retryable(f"unexpected HTTP {status}")
        content = resp.content
        declared = resp.headers.get("Content-Length")
        if declared is not None and "Content-Encoding" not in resp.headers:
            if declared.strip() != str(len(content)):
                raise _Retryable(f"truncated body ({len(content)} of {declared} bytes)")
        try:
            body = orjson.loads(content)
        except orjson.JSONDecodeError:
            raise _Retryable(f"invalid JSON body ({len(content)} bytes)") from None
        check(body)
        return body


def _check_object(body: Any) -> None:
    if not isinstance(body, dict):
        raise _Retryable("response body is not a JSON object")


def _check_studies(body: Any) -> None:
    _check_object(body)
    if not isinstance(body.get("studies"), list):
        raise _Retryable("response body has no 'studies' list")
    token = body.get("nextPageToken")
    if token is not None and not isinstance(token, str):
        raise _Retryable("response nextPageToken is not a string")
