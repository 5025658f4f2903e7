"""Live ISRCTN client: ``GET /api/query/format/default?q=…&limit=N&offset=M``, paged, paced, retrying.

Each page is one query call; its ``<allTrials totalCount=…>`` root (namespace
``http://www.67bricks.com/isrctn``) holds ``<fullTrial>`` elements, each handed over as one
``RawItem`` (source ``isrctn``, format ``isrctn-xml``, the element re-serialised on its own with
its namespace, ``source_id`` ``ISRCTN`` + the ``<trial><isrctn>`` digits, ``origin`` the URL).

* ``q``: ``lastEdited GE <since>T00:00:00.000Z`` for an incremental run; a full run uses the same
  term with the floor date 1900-01-01 (the API rejects a query without ``q``), ANDed after the
  optional ``query`` given to the constructor.
* Page tokens are the decimal result offset of the next page (``"0"`` = the first page). The API
  documents no sort order; offsets assume the order is stable for the duration of a run.
* Retries/pacing: ``http_retry.RetryingHttp``; a body that is not well-formed XML with an
  ``allTrials`` root and an integer ``totalCount`` is retried like a 5xx.
"""
from __future__ import annotations

import datetime as dt
from typing import Iterator

from lxml import etree

from ..registries.formats import RawItem
from .http_retry import LiveClientBase, Page, Retryable, int_token, iso_date

DEFAULT_BASE_URL = "https://www.isrctn.com/api"
NS = "http://www.67bricks.com/isrctn"
SOURCE = "isrctn"
PAYLOAD_FORMAT = "isrctn-xml"
FLOOR_DATE = dt.date(1900, 1, 1)
QUERY_PATH = "/query/format/default"

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, remove_blank_text=False)


class IsrctnLiveClient(LiveClientBase):
    NAME = "ISRCTN"
    LOG_PREFIX = "isrctn"
    ACCEPT = "application/xml"

    DEFAULT_BASE_URL = DEFAULT_BASE_URL
    DEFAULT_PAGE_SIZE = 100
    DEFAULT_TIMEOUT = 120.0

    def __init__(self, *args, query: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.query = query

    def build_query(self, since: dt.date | None = None) -> str:
        term = f"lastEdited GE {iso_date(since if since is not None else FLOOR_DATE)}T00:00:00.000Z"
        return f"({self.query}) AND {term}" if self.query else term

    def build_params(self, since: dt.date | None = None, offset: int = 0) -> dict[str, str]:
        return {"q": self.build_query(since), "limit": str(self.page_size), "offset": str(offset)}

    def iter_pages(self, since: dt.date | None = None, page_token: str | None = None) -> Iterator[Page]:
        """Yield pages from the offset in ``page_token`` (None = the first page) to the last page."""
        offset = int_token(page_token, 0, 0, "ISRCTN")
        token = page_token
        while True:
            params = self.build_params(since, offset)
            (total, trials), url = self._http.get(QUERY_PATH, params, _parse_page, what=f"offset {offset}")
            items = [RawItem(SOURCE, payload, PAYLOAD_FORMAT, url, source_id=sid) for sid, payload in trials]
            done = len(items) < self.page_size or offset + len(items) >= total
            next_token = None if done else str(offset + len(items))
            self._note(f"offset {offset}: {len(items)} trials of {total}" + (" (last page)" if done else ""))
            yield Page(next_page_token=next_token, page_token=token, total_count=total, url=url, items=items)
            if next_token is None:
                return
            offset, token = offset + len(items), next_token

    def fetch_trial(self, isrctn: str) -> RawItem:
        """One trial by id (``ISRCTN12345678`` or the digits) from ``/trial/<id>/format/default``."""
        digits = isrctn.upper().removeprefix("ISRCTN")
        (_, trials), url = self._http.get(f"/trial/ISRCTN{digits}/format/default", None, _parse_one)
        if not trials:
            raise self._http.error_cls(f"ISRCTN has no trial ISRCTN{digits} ({url})")
        sid, payload = trials[0]
        return RawItem(SOURCE, payload, PAYLOAD_FORMAT, url, source_id=sid)


def _parse_xml(content: bytes) -> etree._Element:
    try:
        return etree.fromstring(content, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise Retryable(f"invalid XML body ({len(content)} bytes: {str(exc)[:80]})") from None


def _trial_of(full_trial: etree._Element) -> tuple[str | None, bytes]:
    digits = (full_trial.findtext(f"{{{NS}}}trial/{{{NS}}}isrctn") or "").strip()
    sid = f"ISRCTN{digits}" if digits.isdigit() else None
    return sid, etree.tostring(full_trial, encoding="utf-8", with_tail=False)


def _parse_page(content: bytes) -> tuple[int, list[tuple[str | None, bytes]]]:
    root = _parse_xml(content)
    if root.tag != f"{{{NS}}}allTrials":
        raise Retryable(f"unexpected XML root {etree.QName(root).localname!r}")
    try:
        total = int(root.get("totalCount", ""))
    except ValueError:
        raise Retryable("allTrials has no integer totalCount") from None
    return total, [_trial_of(el) for el in root.iterchildren(f"{{{NS}}}fullTrial")]


def _parse_one(content: bytes) -> tuple[int, list[tuple[str | None, bytes]]]:
    root = _parse_xml(content)
    if root.tag == f"{{{NS}}}allTrials":
        return _parse_page(content)
    if root.tag != f"{{{NS}}}fullTrial":
        raise Retryable(f"unexpected XML root {etree.QName(root).localname!r}")
    return 1, [_trial_of(root)]
