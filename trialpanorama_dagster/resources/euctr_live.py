"""Live EU Clinical Trials Register (EudraCT) client: paged full-text downloads, one item per trial.

The search page ``GET /ctr-search/search?query=…&dateFrom=…`` (HTML, 20 trials a page) gives
the hit count ("Trials with a EudraCT protocol (N)"), hence the number of pages; page p is then
downloaded as plain text from ``GET /ctr-search/rest/download/full?query=…&page=p&mode=current_page
&format=text&dContent=full&number=current_page&submit-download=Download``: every member-state
record of the page's trials, each starting with ``Summary`` / ``EudraCT Number: …``. Records are
grouped by EudraCT number into one ``RawItem`` per trial by ``registries.euctr.split`` (source
``euctr``, format ``euctr-text``, the trial's records' bytes as received, concatenated in order;
``source_id`` the EudraCT number; ``origin`` the download URL + ``#<EudraCT number>``).

* Page tokens are the 1-based page number to download next (as a string); every call (also a
  resume) re-reads the hit count from the search page first.
* Incremental: ``since`` becomes ``dateFrom=<since>`` (the register's date filter, on the date
  a record was first entered in EudraCT - the register offers no last-modified filter).
* A download that is HTML, lacks the text preamble or has fewer trials than the page should hold
  is retried like a 5xx. ``page_size`` must equal the register's page size (20).
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Callable, Iterator


from ..registries import euctr
from ..registries.formats import RawItem
from .http_retry import LiveClientBase, Page, RegistryApiError, Retryable, int_token, iso_date

DEFAULT_BASE_URL = "https://www.clinicaltrialsregister.eu/ctr-search"
SOURCE = "euctr"
PAYLOAD_FORMAT = "euctr-text"
DOWNLOAD_PARAMS = {"mode": "current_page", "format": "text", "dContent": "full",
                   "number": "current_page", "submit-download": "Download"}
_COUNT = re.compile(rb"Trials with a EudraCT protocol\s*\(\s*([0-9][0-9,.\s]*)\)")
_PREAMBLE = b"This file contains"


class EuctrLiveClient(LiveClientBase):
    NAME = "EU CTR"
    LOG_PREFIX = "euctr"
    ACCEPT = "text/plain, text/html;q=0.9, */*;q=0.5"

    DEFAULT_BASE_URL = DEFAULT_BASE_URL
    DEFAULT_PAGE_SIZE = 20
    MAX_PAGE_SIZE = None
    DEFAULT_REQUESTS_PER_MINUTE = 30.0
    DEFAULT_TIMEOUT = 180.0

    def __init__(self, *args, query: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.query = query

    def build_params(self, since: dt.date | None = None, page: int | None = None,
                     download: bool = False) -> dict[str, str]:
        params = {"query": self.query}
        if since is not None:
            params["dateFrom"] = iso_date(since)
        if page is not None:
            params["page"] = str(page)
        if download:
            params.update(DOWNLOAD_PARAMS)
        return params

    def count_trials(self, since: dt.date | None = None) -> int:
        """The search's hit count (trials, not member-state records)."""
        return self._http.get("/search", self.build_params(since, 1), _parse_count, what="search page 1")[0]

    def iter_pages(self, since: dt.date | None = None, page_token: str | None = None) -> Iterator[Page]:
        """Yield one page per download page from ``page_token`` (None = page 1) to the last."""
        page = int_token(page_token, 1, 1, "EU CTR")
        token = page_token
        total = self.count_trials(since)
        pages = -(-total // self.page_size)
        if page > max(pages, 1):  # the hit count shrank since the token was stored: nothing is left
            self._note(f"page token {page_token!r} is past the last page ({pages}); nothing left to fetch")
            return
        while True:
            expected = max(0, min(self.page_size, total - (page - 1) * self.page_size))
            items, url = ([], "") if expected == 0 else self._http.get(
                "/rest/download/full", self.build_params(since, page, download=True),
                _download_check(expected, self.page_size), what=f"download page {page}")
            for item in items:  # split() was given origin "": its "#<EudraCT>" fragments follow the URL
                item.origin = url + item.origin
            next_token = str(page + 1) if page < pages else None
            self._note(f"page {page}/{pages}: {len(items)} trials of {total}" + ("" if next_token else " (last page)"))
            yield Page(next_page_token=next_token, page_token=token, total_count=total, url=url, items=items)
            if next_token is None:
                return
            page, token = page + 1, next_token


def _looks_like_html(content: bytes) -> bool:
    head = content[:512].lstrip().lower()
    return head.startswith(b"<!doctype html") or head.startswith(b"<html") or b"<body" in head


def _parse_count(content: bytes) -> int:
    m = _COUNT.search(content)
    if not m:
        raise Retryable("search page shows no 'Trials with a EudraCT protocol' count")
    return int(re.sub(rb"[,.\s]", b"", m.group(1)) or b"0")


def _download_check(expected: int, page_size: int) -> Callable[[bytes], list[RawItem]]:
    """Validate a download and split it with ``registries.euctr.split`` (one item per EudraCT number;
    a record block without one becomes an error item, quarantined by the loader, not retried)."""
    def check(content: bytes) -> list[RawItem]:
        if _looks_like_html(content) or not content.lstrip().startswith(_PREAMBLE):
            raise Retryable(f"download is not the full-text export ({len(content)} bytes)")
        items = list(euctr.split(content, "", PAYLOAD_FORMAT))
        trials = [i for i in items if i.source_id and not i.error]
        if len(trials) > page_size:
            raise RegistryApiError(f"EU CTR download has {len(trials)} trials, more than page_size={page_size}: "
                                   "page_size must match the register's page size")
        if len(items) < expected:  # an id-less block (error item) may stand for a trial
            raise Retryable(f"incomplete download: {len(trials)} of {expected} trials")
        return items
    return check
