"""Live ClinicalTrials.gov API v2 client: paged, paced, retrying. Plain Python + httpx, no Dagster.

``CtgovLiveClient.iter_pages(since=...)`` walks ``GET /studies`` page by page (``pageToken`` →
``nextPageToken``, all other params identical), sorted by ``LastUpdatePostDate`` ascending so an
incremental run is a stable, resumable stream. Requests are paced to ``requests_per_minute``;
429, 5xx, timeouts, transport errors and truncated/invalid bodies are retried with exponential
backoff and full jitter, always re-requesting the same page token, so a study is never lost or
duplicated. Non-retryable failures raise ``CtgovApiError``. ``requests_per_minute <= 0`` disables
pacing; ``Retry-After`` (seconds) on a 429 replaces the jittered delay, capped by ``backoff_max``.
The pacing/retry machinery is the shared ``http_retry.RetryingHttp``.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Iterator

import orjson

from .http_retry import LiveClientBase, Page, RegistryApiError, Retryable, json_object
from .http_retry import iso_date as _iso

__all__ = ["CtgovApiError", "CtgovLiveClient", "Page", "DEFAULT_BASE_URL", "SORT_ASC"]

DEFAULT_BASE_URL = "https://clinicaltrials.gov/api/v2"
SORT_ASC = "LastUpdatePostDate:asc"


class CtgovApiError(RegistryApiError):
    """A non-retryable API failure (4xx other than 429) or retries exhausted."""


class CtgovLiveClient(LiveClientBase):
    NAME = "ClinicalTrials.gov"
    LOG_PREFIX = "ctgov"
    ACCEPT = "application/json"
    DEFAULT_BASE_URL = DEFAULT_BASE_URL
    DEFAULT_PAGE_SIZE = 1000
    DEFAULT_REQUESTS_PER_MINUTE = 50.0
    ERROR_CLS = CtgovApiError

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.min_interval = self._http.min_interval
        self.max_retries, self.backoff_base, self.backoff_max = (
            self._http.max_retries, self._http.backoff_base, self._http.backoff_max)

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
        return self._get_json("/version", {}, json_object)[0]


    # -- internals ----------------------------------------------------------------------------
    def _get_json(self, path: str, params: dict, validate: Callable[[bytes], Any]) -> tuple[Any, str]:
        what = f"{path} token={params.get('pageToken')!s:.40}"
        return self._http.get(path, params, validate, what=what)


def _check_studies(content: bytes) -> dict:
    body = json_object(content)
    if not isinstance(body.get("studies"), list):
        raise Retryable("response body has no 'studies' list")
    token = body.get("nextPageToken")
    if token is not None and not isinstance(token, str):
        raise Retryable("response nextPageToken is not a string")
    return body
