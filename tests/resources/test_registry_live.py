"""ISRCTN, CTIS and EU CTR live clients against real loopback servers (tests/support/registry_servers.py)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Callable

import orjson
import pytest
from lxml import etree

from tests.support.registry_servers import (CtisTestServer, EuctrTestServer, IsrctnTestServer, euctr_entered,
                                            load_euctr_trials)
from trialpanorama_dagster.resources import ctis_live
from trialpanorama_dagster.resources.ctgov_live import CtgovApiError
from trialpanorama_dagster.resources.ctis_live import CtisLiveClient, updated_since
from trialpanorama_dagster.resources.euctr_live import EuctrLiveClient
from trialpanorama_dagster.resources.http_retry import Page, RegistryApiError
from trialpanorama_dagster.resources.isrctn_live import IsrctnLiveClient

pytestmark = pytest.mark.slow

FAST = dict(requests_per_minute=0, backoff_base=0.01, backoff_max=0.05, timeout=0.5)


@dataclass
class Reg:
    name: str
    server_cls: type
    client_cls: type
    page_size: int
    listing: str                        # path (under the server prefix) of the paged request
    page_key: Callable[[int], str]      # fault key of the k-th (0-based) listed page
    ids: Callable[[Any], list[str]]
    fmt: str
    server_kw: dict


REGS = {
    "isrctn": Reg("isrctn", IsrctnTestServer, IsrctnLiveClient, 2, IsrctnTestServer.QUERY,
                  lambda k: f"offset:{2 * k}", lambda s: sorted(s.elements), "isrctn-xml", {}),
    "ctis": Reg("ctis", CtisTestServer, CtisLiveClient, 1, "/search",
                lambda k: f"page:{k + 1}", lambda s: sorted(s.trials), "ctis-json", {}),
    "euctr": Reg("euctr", EuctrTestServer, EuctrLiveClient, 3, EuctrTestServer.DOWNLOAD,
                 lambda k: f"page:{k + 1}", lambda s: sorted(n for n, _ in s.trials), "euctr-text", {"page_size": 3}),
}


@pytest.fixture
def make_server():
    servers = []

    def make(reg: Reg, faults=None, **kw):
        srv = reg.server_cls(faults=faults, timeout_sleep=1.5, **{**reg.server_kw, **kw}).start()
        servers.append(srv)
        return srv

    yield make
    for srv in servers:
        srv.stop()


def client_for(reg: Reg, srv, **kw):
    return reg.client_cls(base_url=srv.base_url, page_size=reg.page_size, **{**FAST, **kw})


def ids_of(pages: list[Page]) -> list[str]:
    return [item.source_id for p in pages for item in p.items]


def listing_requests(reg: Reg, srv):
    return srv.requests_to(reg.listing)


def same_request(a, b) -> bool:
    return (a.method, a.path, a.params, a.body) == (b.method, b.path, b.params, b.body)


@pytest.mark.parametrize("name", sorted(REGS))
def test_pages_through_every_trial_once(make_server, name):
    reg = REGS[name]
    srv = make_server(reg)
    with client_for(reg, srv) as client:
        pages = list(client.iter_pages())
    expected = reg.ids(srv)
    got = ids_of(pages)
    assert len(expected) >= 4 and sorted(got) == expected and len(set(got)) == len(got)
    assert len(pages) == -(-len(expected) // reg.page_size) == len(listing_requests(reg, srv))
    assert all(len(p.items) == reg.page_size for p in pages[:-1])
    assert pages[0].page_token is None and pages[-1].next_page_token is None
    assert [p.page_token for p in pages[1:]] == [p.next_page_token for p in pages[:-1]]
    assert all(p.total_count == len(expected) and p.studies == [] and p.payloads == [] for p in pages)
    for item in (i for p in pages for i in p.items):
        assert (item.source, item.payload_format, item.error) == (name, reg.fmt, None)
        assert item.origin.startswith(srv.base_url + "/")
        if name == "isrctn":
            c14n = etree.tostring(srv.elements[item.source_id], method="c14n")
            assert etree.tostring(etree.fromstring(item.payload), method="c14n") == c14n
            assert etree.fromstring(item.payload).findtext("{*}trial/{*}isrctn") == item.source_id[6:]
        elif name == "ctis":
            assert orjson.loads(item.payload) == srv.trials[item.source_id]
            assert item.origin == f"{srv.base_url}/retrieve/{item.source_id}"
        else:
            assert item.payload == dict(srv.trials)[item.source_id] and item.origin.endswith("#" + item.source_id)
            assert item.payload.startswith(b"Summary\nEudraCT Number: " + item.source_id.encode())


@pytest.mark.parametrize("kind", ["429", "500", "503", "timeout", "truncated", "badjson", "drop"])
@pytest.mark.parametrize("name", sorted(REGS))
def test_each_fault_kind_is_retried(make_server, name, kind):
    reg = REGS[name]
    srv = make_server(reg, faults={reg.page_key(1): kind})
    with client_for(reg, srv) as client:
        got = ids_of(list(client.iter_pages()))
    assert sorted(got) == reg.ids(srv)
    assert [k for _, k in srv.faults_fired()] == [kind]
    reqs = listing_requests(reg, srv)
    assert reqs[1].fault == kind and same_request(reqs[1], reqs[2])  # the same page asked again
    assert len(reqs) == -(-len(got) // reg.page_size) + 1


@pytest.mark.parametrize("name", sorted(REGS))
def test_mixed_faults_on_different_pages_lose_and_duplicate_nothing(make_server, name):
    reg = REGS[name]
    faults = {reg.page_key(0): ["503", "drop"], reg.page_key(1): "timeout", reg.page_key(2): ["badjson", "429"],
              reg.page_key(3): "truncated"}
    if name == "ctis":
        faults["retrieve:2023-505613-24-00"] = ["500", "badjson", "timeout"]
    if name == "euctr":
        faults.update({"search": ["500", "badjson"], reg.page_key(1): ["short", "timeout"]})
    srv = make_server(reg, faults=faults)
    logs: list[str] = []
    with client_for(reg, srv, log=logs.append) as client:
        got = ids_of(list(client.iter_pages()))
    assert sorted(got) == reg.ids(srv) and len(set(got)) == len(got)
    fired = srv.faults_fired()
    assert len(fired) == sum(len(v) if isinstance(v, list) else 1 for v in faults.values())
    by_n = {r.n: r for r in srv.requests}
    for n, _ in fired:
        assert same_request(by_n[n], by_n[n + 1])
    assert sum("retry" in line for line in logs) == len(fired)


@pytest.mark.parametrize("name", sorted(REGS))
def test_client_error_raises_after_one_request(make_server, name):
    reg = REGS[name]
    srv = make_server(reg, faults={1: "404"})
    slept: list[float] = []
    with client_for(reg, srv, sleep=slept.append) as client:
        with pytest.raises(RegistryApiError, match=r"HTTP 404 for http://127\.0\.0\.1") as err:
            list(client.iter_pages())
    assert len(srv.requests) == 1 and slept == [] and "\n" not in str(err.value)


def test_ctis_retrieve_client_error_is_not_retried(make_server):
    srv = make_server(REGS["ctis"], faults={"retrieve:2024-510663-34-00": "410"})
    with client_for(REGS["ctis"], srv) as client:
        with pytest.raises(RegistryApiError, match="CTIS HTTP 410 .*/retrieve/2024-510663-34-00"):
            list(client.iter_pages())
    assert len(srv.requests_to("/retrieve/2024-510663-34-00")) == 1


@pytest.mark.parametrize("name", sorted(REGS))
def test_exhausted_retries_raise(make_server, name):
    reg = REGS[name]
    srv = make_server(reg, faults={reg.page_key(1): ["500"] * 10})
    with client_for(reg, srv, max_retries=3) as client:
        with pytest.raises(RegistryApiError, match="failed after 4 attempts: HTTP 500") as err:
            list(client.iter_pages())
    assert "\n" not in str(err.value) and len(listing_requests(reg, srv)) == 1 + 4


@pytest.mark.parametrize("name", sorted(REGS))
def test_resume_from_page_token_yields_exactly_the_rest(make_server, name):
    reg = REGS[name]
    srv = make_server(reg)
    first: list[Page] = []
    with client_for(reg, srv) as client:
        for page in client.iter_pages():
            first.append(page)
            if len(first) == 2:
                break
    token = first[-1].next_page_token
    assert token
    with client_for(reg, srv) as client:  # a new process resumes from the checkpointed token
        rest = list(client.iter_pages(page_token=token))
    assert rest[0].page_token == token
    before, after = ids_of(first), ids_of(rest)
    assert not set(before) & set(after) and sorted(before + after) == reg.ids(srv)
    with client_for(reg, srv) as client, pytest.raises(ValueError):
        next(iter(client.iter_pages(page_token="not-a-token")))


def test_isrctn_incremental_filters_on_last_edited(make_server):
    srv = make_server(REGS["isrctn"])
    since = dt.date(2021, 5, 15)
    with client_for(REGS["isrctn"], srv) as client:
        got = ids_of(list(client.iter_pages(since=since)))
        assert client.build_query() == "lastEdited GE 1900-01-01T00:00:00.000Z"
    expected = sorted(i for i, when in srv.last_updated.items() if when[:10] >= since.isoformat())
    assert 0 < len(expected) < len(srv.elements) and sorted(got) == expected
    assert {r.params["q"] for r in srv.requests} == {"lastEdited GE 2021-05-15T00:00:00.000Z"}
    with IsrctnLiveClient(base_url=srv.base_url, query="title:x", **FAST) as client:
        assert client.build_query(since) == "(title:x) AND lastEdited GE 2021-05-15T00:00:00.000Z"
        with pytest.raises(RegistryApiError, match="HTTP 400.*unsupported q term"):
            list(client.iter_pages(since=since))


def test_ctis_incremental_retrieves_only_trials_updated_since(make_server):
    srv = make_server(REGS["ctis"])
    since = dt.date(2024, 6, 1)
    with client_for(REGS["ctis"], srv) as client:
        pages = list(client.iter_pages(since=since))
    assert sorted(ids_of(pages)) == ["2023-505613-24-00", "2024-510663-34-00"]
    assert len(pages) == 4  # every search page is still walked (and checkpointed)
    assert sorted(r.path.rsplit("/", 1)[1] for r in srv.requests_to("/retrieve/")) == sorted(ids_of(pages))
    assert all(r.body["searchCriteria"] == {} and r.body["sort"] == {"property": "decisionDate", "direction": "DESC"}
               for r in srv.requests_to("/search"))
    assert updated_since("19/08/2025", dt.date(2025, 8, 19)) and not updated_since("2024-05-06", since)
    assert updated_since(None, since) and updated_since("soon", since)


def test_euctr_incremental_uses_date_from(make_server):
    srv = make_server(REGS["euctr"])
    since = dt.date(2016, 1, 1)
    with client_for(REGS["euctr"], srv) as client:
        got = ids_of(list(client.iter_pages(since=since)))
    expected = sorted(n for n, t in srv.trials if max(euctr_entered(t)) >= since.isoformat())
    assert 0 < len(expected) < len(srv.trials) and sorted(got) == expected
    assert all(r.params["dateFrom"] == "2016-01-01" for r in srv.requests)


def test_euctr_bad_value_blocks_pass_through_the_client(make_server):
    srv = make_server(REGS["euctr"], trials=load_euctr_trials(keep_bad=True, extra=0), page_size=1)
    with EuctrLiveClient(base_url=srv.base_url, page_size=1, **FAST) as client:
        items = [i for p in client.iter_pages() for i in p.items]
    assert [i.source_id for i in items] == ["2022-002568-62", "2021-002179-21"]
    assert all(b"JSON_ERROR_HERE" in i.payload and i.error is None for i in items)
    assert [i.payload.count(b"\nEudraCT Number: ") for i in items] == [3, 7]


def test_euctr_block_without_eudract_number_is_an_error_item(make_server):
    good = load_euctr_trials(extra=1)
    bad = ("2009-999999-99", b"Summary\nNational Competent Authority: Nowhere\n"
                             b"Date on which this record was first entered in the EudraCT database: 2009-01-01\n\n")
    srv = make_server(REGS["euctr"], trials=good + [bad], page_size=2)
    with EuctrLiveClient(base_url=srv.base_url, page_size=2, **FAST) as client:
        items = [i for p in client.iter_pages() for i in p.items]
    assert sorted(i.source_id for i in items if i.source_id) == sorted(n for n, _ in good)
    (err,) = [i for i in items if i.error]
    assert err.payload == bad[1] and "no EudraCT number" in err.error
    assert len(srv.requests_to(EuctrTestServer.DOWNLOAD)) == 2  # accepted as is, not retried


def test_euctr_page_size_mismatch_is_an_error(make_server):
    srv = make_server(REGS["euctr"], page_size=5)
    with client_for(REGS["euctr"], srv) as client:
        with pytest.raises(RegistryApiError, match="page_size must match"):
            list(client.iter_pages())
    assert len(srv.requests_to(EuctrTestServer.DOWNLOAD)) == 1


def test_ctis_search_cap_raises_after_the_reachable_pages(make_server, monkeypatch):
    monkeypatch.setattr(ctis_live, "SEARCH_CAP", 2)
    srv = make_server(REGS["ctis"])
    pages: list[Page] = []
    with client_for(REGS["ctis"], srv) as client:
        with pytest.raises(RegistryApiError, match="at most 2 hits"):
            for page in client.iter_pages():
                pages.append(page)
    assert len(pages) == 2 and pages[-1].next_page_token == "3"


def test_pacing_covers_search_and_retrieve_requests(make_server):
    class Fake:
        now, sleeps = 100.0, []

        def clock(self):
            return self.now

        def sleep(self, s):
            self.sleeps.append(s)
            self.now += s

    fake = Fake()
    srv = make_server(REGS["ctis"])
    with CtisLiveClient(base_url=srv.base_url, page_size=2, requests_per_minute=600,
                        sleep=fake.sleep, clock=fake.clock) as client:
        assert len(ids_of(list(client.iter_pages()))) == 4
    assert len(srv.requests) == 2 + 4 and fake.sleeps == pytest.approx([0.1] * 5)


def test_isrctn_one_trial_and_error_hierarchy(make_server):
    srv = make_server(REGS["isrctn"])
    with client_for(REGS["isrctn"], srv) as client:
        item = client.fetch_trial("ISRCTN61070850")
        assert (item.source_id, item.source) == ("ISRCTN61070850", "isrctn")
        with pytest.raises(RegistryApiError, match="HTTP 404"):
            client.fetch_trial("ISRCTN00000000")
    assert issubclass(CtgovApiError, RegistryApiError)
    assert Page().items == [] and Page().studies == []
    with pytest.raises(ValueError):
        IsrctnLiveClient(page_size=0)
