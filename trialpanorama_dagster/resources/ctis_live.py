"""Live CTIS (EU Clinical Trials Information System) client: search pages, then one retrieve per trial.

``POST /ctis-public-api/search`` with ``{"pagination": {"page": p, "size": n}, "sort":
{"property": "decisionDate", "direction": "DESC"}, "searchCriteria": {...}}`` lists trial
overviews (``data[]`` with ``ctNumber``, ``lastUpdated``, …; ``pagination`` with ``totalRecords``,
``totalPages``, ``nextPage``); each listed trial is then fetched with ``GET /retrieve/<ctNumber>``
and handed over as one ``RawItem`` (source ``ctis``, format ``ctis-json``, the retrieve body bytes
as received, ``source_id`` the ctNumber, ``origin`` the retrieve URL). A failing retrieve is retried
like a page (same pacing, same backoff); a 4xx on it raises.

* Page tokens are the 1-based search page number to fetch next (as a string).
* Incremental: CTIS search has no last-update criterion (its criteria cover decision/start/end
  dates only), so ``since`` is applied client-side to the overview's ``lastUpdated``
  (``dd/mm/yyyy`` or ISO): trials updated before ``since`` are not retrieved; a missing or
  unreadable ``lastUpdated`` counts as updated. The whole search is still paged.
* Sorting by decision date descending (what the portal sends): a trial decided during a run
  pushes the rest down a slot, which can repeat a trial (harmless) but not skip one.
* CTIS serves at most 10,000 hits per query: past that, after yielding what it could reach, the
  client raises ``RegistryApiError`` - narrow ``search_criteria`` (e.g. by ``trialRegion``).
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any, Callable, Iterator


from ..registries.formats import RawItem
from .http_retry import LiveClientBase, Page, Retryable, int_token, json_object

DEFAULT_BASE_URL = "https://euclinicaltrials.eu/ctis-public-api"
SOURCE = "ctis"
PAYLOAD_FORMAT = "ctis-json"
SEARCH_CAP = 10_000
SORT = {"property": "decisionDate", "direction": "DESC"}
_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})")
_YMD = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")


class CtisLiveClient(LiveClientBase):
    NAME = "CTIS"
    LOG_PREFIX = "ctis"
    ACCEPT = "application/json"

    DEFAULT_BASE_URL = DEFAULT_BASE_URL
    DEFAULT_PAGE_SIZE = 100
    DEFAULT_TIMEOUT = 120.0

    def __init__(self, *args, search_criteria: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.search_criteria = dict(search_criteria or {})

    def build_search_body(self, page: int) -> dict:
        return {"pagination": {"page": page, "size": self.page_size}, "sort": dict(SORT),
                "searchCriteria": dict(self.search_criteria)}

    def iter_pages(self, since: dt.date | None = None, page_token: str | None = None) -> Iterator[Page]:
        """Yield one page per search page from ``page_token`` (None = page 1) to the last."""
        page = int_token(page_token, 1, 1, "CTIS")
        token = page_token
        while True:
            self._check_cap(page)
            body, url = self._http.post("/search", self.build_search_body(page), validate=_check_search,
                                        what=f"search page {page}")
            rows, pagination = body["data"], body.get("pagination") or {}
            total = pagination.get("totalRecords")
            total = total if isinstance(total, int) and not isinstance(total, bool) else None
            wanted = [r["ctNumber"] for r in rows if since is None or updated_since(r.get("lastUpdated"), since)]
            items = [self.fetch_trial(ct) for ct in wanted]
            more = bool(rows) and _has_next(pagination, page, len(rows), self.page_size)
            next_token = str(page + 1) if more else None
            self._note(f"search page {page}: {len(rows)} trials listed, {len(items)} retrieved"
                       + (f" of {total}" if total is not None else "") + ("" if more else " (last page)"))
            yield Page(next_page_token=next_token, page_token=token, total_count=total, url=url, items=items)
            if next_token is None:
                return
            page, token = page + 1, next_token

    def fetch_trial(self, ct_number: str) -> RawItem:
        """``GET /retrieve/<ctNumber>`` -> a RawItem holding the body bytes as received."""
        payload, url = self._http.get(f"/retrieve/{ct_number}", None, _retrieve_check(ct_number),
                                      what=f"retrieve {ct_number}")
        return RawItem(SOURCE, payload, PAYLOAD_FORMAT, url, source_id=ct_number)

    def _check_cap(self, page: int) -> None:
        if (page - 1) * self.page_size >= SEARCH_CAP:
            raise self._http.error_cls(
                f"CTIS search serves at most {SEARCH_CAP} hits per query and this one has more: "
                f"page {page} of size {self.page_size} is out of reach; narrow search_criteria")


def updated_since(value: Any, since: dt.date) -> bool:
    """Whether an overview ``lastUpdated`` (``dd/mm/yyyy`` or ``yyyy-mm-dd…``) is on/after ``since``."""
    if not isinstance(value, str):
        return True
    text = value.strip()
    try:
        if m := _DMY.match(text):
            return dt.date(int(m[3]), int(m[2]), int(m[1])) >= since
        if m := _YMD.match(text):
            return dt.date(int(m[1]), int(m[2]), int(m[3])) >= since
    except ValueError:
        pass
    return True


def _has_next(pagination: dict, page: int, n_rows: int, size: int) -> bool:
    if isinstance(pagination.get("nextPage"), bool):
        return pagination["nextPage"]
    pages, total = pagination.get("totalPages"), pagination.get("totalRecords")
    if isinstance(pages, int):
        return page < pages
    if isinstance(total, int):
        return page * size < total
    return n_rows >= size


def _check_search(content: bytes) -> dict:
    body = json_object(content)
    data = body.get("data")
    if not isinstance(data, list):
        raise Retryable("search response has no 'data' list")
    if not all(isinstance(r, dict) and isinstance(r.get("ctNumber"), str) and r["ctNumber"] for r in data):
        raise Retryable("search response has a trial without ctNumber")
    if not isinstance(body.get("pagination", {}), dict):
        raise Retryable("search response 'pagination' is not an object")
    return body


def _retrieve_check(ct_number: str) -> Callable[[bytes], bytes]:
    def check(content: bytes) -> bytes:
        body = json_object(content)
        got = body.get("ctNumber")
        if got is not None and got != ct_number:
            raise Retryable(f"retrieve answered {str(got)[:20]!r} for {ct_number}")
        return content
    return check
