"""CtgovLiveClient against a real loopback ClinicalTrials.gov v2 imitation (tests/support/ctgov_server.py)."""
from __future__ import annotations

import datetime as dt

import httpx
import orjson
import pytest

from tests.support.ctgov_fixtures import ctgov_server, ctgov_studies, make_ctgov_server  # noqa: F401
from tests.support.ctgov_server import CtgovTestServer, last_update, nct_id
from trialpanorama_dagster.resources.ctgov_live import CtgovApiError, CtgovLiveClient, Page

pytestmark = pytest.mark.slow

FAST = dict(requests_per_minute=6000, backoff_base=0.01, backoff_max=0.05, timeout=5.0)


def client_for(srv: CtgovTestServer, page_size: int = 7, **kw) -> CtgovLiveClient:
    return CtgovLiveClient(base_url=srv.base_url, page_size=page_size, **{**FAST, **kw})


def ids_of(pages: list[Page]) -> list[str]:
    return [nct_id(s) for p in pages for s in p.studies]


def test_pages_through_every_study_once(ctgov_server, ctgov_studies):
    with client_for(ctgov_server) as client:
        pages = list(client.iter_pages())
    expected = sorted(nct_id(s) for s in ctgov_studies)
    assert len(expected) >= 150
    got = ids_of(pages)
    assert sorted(got) == expected and len(set(got)) == len(got)
    assert len(pages) == -(-len(expected) // 7)
    assert all(len(p.studies) == 7 for p in pages[:-1])
    # stable incremental order: ascending last-update date
    dates = [last_update(s) for p in pages for s in p.studies]
    assert dates == sorted(dates)
    # tokens chain; total only on the first page; payloads are the studies re-serialised
    assert pages[0].page_token is None and pages[0].total_count == len(expected)
    assert all(p.total_count is None for p in pages[1:])
    assert [p.page_token for p in pages[1:]] == [p.next_page_token for p in pages[:-1]]
    assert pages[-1].next_page_token is None
    assert all(orjson.loads(b) == s for p in pages for b, s in zip(p.payloads, p.studies))
    assert pages[0].url.startswith(ctgov_server.base_url + "/studies?")
    # params identical across pages except pageToken/countTotal
    reqs = ctgov_server.study_requests()
    assert len(reqs) == len(pages)
    assert reqs[0].params["countTotal"] == "true" and "pageToken" not in reqs[0].params
    assert all("countTotal" not in r.params for r in reqs[1:])
    strip = lambda p: {k: v for k, v in p.items() if k not in ("pageToken", "countTotal")}  # noqa: E731
    assert all(strip(r.params) == {"format": "json", "pageSize": "7", "sort": "LastUpdatePostDate:asc"}
               for r in reqs)


@pytest.mark.parametrize("kind", ["429", "500", "503", "timeout", "truncated", "badjson", "nostudies", "drop"])
def test_each_fault_kind_is_retried(make_ctgov_server, ctgov_studies, kind):
    srv = make_ctgov_server(faults={3: kind}, timeout_sleep=1.5)
    with client_for(srv, timeout=0.5) as client:
        got = ids_of(list(client.iter_pages()))
    assert sorted(got) == sorted(nct_id(s) for s in ctgov_studies)
    reqs = srv.study_requests()
    assert srv.faults_fired() == [(3, kind)]
    assert reqs[2].fault == kind and reqs[3].params == reqs[2].params  # same page re-requested
    assert len(reqs) == -(-len(ctgov_studies) // 7) + 1


def test_mixed_faults_on_different_pages_lose_and_duplicate_nothing(make_ctgov_server, ctgov_studies):
    faults = {2: "429", 3: "500", 5: "timeout", 7: "truncated", 10: "badjson",
              "offset:70": ["500", "429", "drop"], None: "503"}
    srv = make_ctgov_server(faults=faults, timeout_sleep=1.5)
    logs: list[str] = []
    with client_for(srv, timeout=0.5, log=logs.append) as client:
        pages = list(client.iter_pages())
    got = ids_of(pages)
    assert len(got) == len(set(got)) == len(ctgov_studies)
    assert set(got) == {nct_id(s) for s in ctgov_studies}
    fired = srv.faults_fired()
    assert [k for _, k in fired] == ["503", "429", "500", "timeout", "truncated", "badjson", "500", "429", "drop"]
    reqs = srv.study_requests()
    assert len(reqs) == len(pages) + len(fired)
    by_n = {r.n: r for r in reqs}
    for n, _ in fired:  # every faulted request was followed by the same request again
        assert by_n[n + 1].params == by_n[n].params
    assert sum("retry" in line for line in logs) == len(fired)


def test_client_error_raises_without_retry(make_ctgov_server):
    slept: list[float] = []
    srv = make_ctgov_server(faults={1: "404"})
    with client_for(srv, sleep=slept.append) as client:
        with pytest.raises(CtgovApiError, match="HTTP 404"):
            list(client.iter_pages())
    assert len(srv.requests) == 1 and slept == []


def test_unknown_page_token_is_a_400_without_retry(ctgov_server):
    with client_for(ctgov_server) as client:
        with pytest.raises(CtgovApiError, match="HTTP 400.*invalid pageToken"):
            list(client.iter_pages(page_token="bm90LWEtdG9rZW4"))
    assert len(ctgov_server.requests) == 1


def test_token_reused_with_other_params_is_rejected(ctgov_server):
    with client_for(ctgov_server) as client:
        token = next(iter(client.iter_pages())).next_page_token
        with pytest.raises(CtgovApiError, match="HTTP 400"):
            list(client.iter_pages(since=dt.date(2020, 1, 1), page_token=token))


def test_exhausted_retries_raise(make_ctgov_server):
    srv = make_ctgov_server(faults={None: ["500"] * 10})
    slept: list[float] = []
    with client_for(srv, max_retries=3, sleep=slept.append, requests_per_minute=0) as client:
        with pytest.raises(CtgovApiError, match="after 4 attempts: HTTP 500") as err:
            list(client.iter_pages())
    assert "\n" not in str(err.value)
    assert len(srv.requests) == 4
    # full jitter: attempt k sleeps within [0, min(backoff_max, base * 2**k)]
    assert len(slept) == 3  # no pacing (requests_per_minute=0): only the backoff sleeps
    assert all(0 <= s <= min(0.05, 0.01 * 2 ** k) for k, s in enumerate(slept))


def test_retry_after_is_honoured_and_capped(make_ctgov_server):
    srv = make_ctgov_server(faults={1: "429", 2: "429"}, retry_after="7")
    slept: list[float] = []
    with client_for(srv, backoff_max=0.02, sleep=slept.append, requests_per_minute=0) as client:
        assert len(ids_of(list(client.iter_pages()))) == len(srv.studies)
    assert slept == [0.02, 0.02]


def test_incremental_since_and_until(make_ctgov_server, ctgov_studies):
    dates = sorted(last_update(s) for s in ctgov_studies)
    since = dt.date.fromisoformat(dates[len(dates) // 2])
    until = dt.date.fromisoformat(dates[(3 * len(dates)) // 4])
    srv = make_ctgov_server()
    with client_for(srv) as client:
        got = ids_of(list(client.iter_pages(since=since)))
        expected = {nct_id(s) for s in ctgov_studies if last_update(s) >= since.isoformat()}
        assert 0 < len(expected) < len(ctgov_studies)
        assert sorted(got) == sorted(expected)
        assert srv.requests[0].params["filter.advanced"] == f"AREA[LastUpdatePostDate]RANGE[{since},MAX]"

        got = ids_of(list(client.iter_pages(since=since, until=until)))
        expected = {nct_id(s) for s in ctgov_studies if since.isoformat() <= last_update(s) <= until.isoformat()}
        assert sorted(got) == sorted(expected)

        assert ids_of(list(client.iter_pages(since=dt.date(2100, 1, 1)))) == []


def test_resume_from_midway_token_yields_exactly_the_rest(make_ctgov_server, ctgov_studies):
    since = dt.date.fromisoformat(sorted(last_update(s) for s in ctgov_studies)[20])
    srv = make_ctgov_server()
    with client_for(srv) as client:
        first_run: list[Page] = []
        for page in client.iter_pages(since=since):  # interrupted after 4 pages
            first_run.append(page)
            if len(first_run) == 4:
                break
        token = first_run[-1].next_page_token
        assert token
    with client_for(srv) as client:  # a new process resumes from the checkpointed token
        rest = list(client.iter_pages(since=since, page_token=token))
    assert rest[0].page_token == token and rest[0].total_count is None
    before, after = ids_of(first_run), ids_of(rest)
    assert not set(before) & set(after)
    expected = {nct_id(s) for s in ctgov_studies if last_update(s) >= since.isoformat()}
    assert sorted(before + after) == sorted(expected)


class FakeTime:
    def __init__(self):
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class ClockAdvancingTransport(httpx.BaseTransport):
    """Real HTTP transport whose every request takes ``cost`` seconds of fake time."""

    def __init__(self, fake: FakeTime, cost: float):
        self.inner, self.fake, self.cost = httpx.HTTPTransport(), fake, cost

    def handle_request(self, request):
        self.fake.now += self.cost
        return self.inner.handle_request(request)

    def close(self):
        self.inner.close()


@pytest.mark.parametrize("cost,expected_sleep", [(0.0, 0.1), (0.03, 0.07), (0.25, None)])
def test_pacing_uses_injected_clock_and_sleep(ctgov_server, ctgov_studies, cost, expected_sleep):
    fake = FakeTime()
    client = CtgovLiveClient(base_url=ctgov_server.base_url, page_size=20, requests_per_minute=600,
                             transport=ClockAdvancingTransport(fake, cost), sleep=fake.sleep, clock=fake.clock)
    with client:
        pages = list(client.iter_pages())
    n = len(pages)
    assert n == -(-len(ctgov_studies) // 20)
    if expected_sleep is None:
        assert fake.sleeps == []
    else:
        assert fake.sleeps == pytest.approx([expected_sleep] * (n - 1))


def test_build_params_and_version(ctgov_server):
    with client_for(ctgov_server, page_size=1000) as client:
        p = client.build_params(dt.date(2024, 1, 2), None, None)
        assert p == {"format": "json", "pageSize": "1000", "sort": "LastUpdatePostDate:asc",
                     "filter.advanced": "AREA[LastUpdatePostDate]RANGE[2024-01-02,MAX]", "countTotal": "true"}
        p = client.build_params(dt.date(2024, 1, 2), dt.date(2024, 2, 1), "TOK")
        assert p["pageToken"] == "TOK" and "countTotal" not in p
        assert p["filter.advanced"] == "AREA[LastUpdatePostDate]RANGE[2024-01-02,2024-02-01]"
        v = client.fetch_version()
        assert v["dataTimestamp"] == ctgov_server.data_timestamp
    with pytest.raises(ValueError):
        CtgovLiveClient(page_size=1001)
