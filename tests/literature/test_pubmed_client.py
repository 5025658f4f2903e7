"""E-utilities client against a real loopback E-utilities server (tests/support/eutils_server.py):
search, POST batches, date slicing, faults, secrets, resumable sync into a real DuckDB file."""
from __future__ import annotations

import datetime as dt
import logging

import pytest

from tests.support.eutils_server import EutilsTestServer
from trialpanorama_dagster.literature.pubmed_sync import sync_pubmed
from trialpanorama_dagster.resources.pubmed import (MAX_SEARCH, EutilsClient, LocalPubmed, PubmedApiError,
                                                    redact)
from trialpanorama_dagster.warehouse.db import connect
from trialpanorama_dagster.warehouse.fetch import get_state

pytestmark = pytest.mark.slow

FAST = dict(requests_per_second=0, backoff_base=0.01, backoff_max=0.05, timeout=2.0)
KEY, EMAIL = "SECRET-key-0123456789abcdef", "someone.secret@example.org"
FIXTURE_PMIDS = 24


@pytest.fixture
def server():
    with EutilsTestServer() as srv:
        yield srv


def client_for(srv, **kw) -> EutilsClient:
    return EutilsClient(base_url=srv.base_url, env={}, **{**FAST, **kw})


def count(con, sql: str) -> int:
    return con.execute(sql).fetchone()[0]


def test_esearch_history_and_fetch(server):
    with client_for(server) as client:
        res = client.esearch("all[sb]", retmax=5)
        assert res.count == FIXTURE_PMIDS and len(res.ids) == 5 and res.webenv and res.query_key == "1"
        assert client.search_pmids("NCT02149199[si]") == ["29768149"]
        got = client.fetch(["29768149", "21933749", "1"])
        assert [a.pmid for a in got.articles] == ["29768149", "21933749"] and got.missing == ["1"]
        nejm = got.articles[0]
        assert nejm.title == "Inhaled Combined Budesonide-Formoterol as Needed in Mild Asthma."
        assert nejm.databank_ids == ["ClinicalTrials.gov:NCT02149199"]
        page = client.fetch_history(res.webenv, res.query_key, retstart=0, retmax=5)
        assert [a.pmid for a in page.articles] == res.ids
        with pytest.raises(ValueError):
            client.fetch([str(i) for i in range(201)])
    search, fetch = server.to("esearch.fcgi")[0], server.to("efetch.fcgi")[0]
    assert search.method == "POST" and search.params["usehistory"] == "y" and search.params["db"] == "pubmed"
    assert fetch.method == "POST" and fetch.params["id"] == "29768149,21933749,1"
    history = server.to("efetch.fcgi")[1]
    assert history.method == "POST" and history.params["WebEnv"] == res.webenv and history.params["retmax"] == "5"


def test_efetch_posts_batches_of_200_and_stores_them(server, tmp_path):
    server.add_synthetic(426, dt.date(2019, 1, 1), dt.date(2019, 12, 31))
    con = connect(tmp_path / "wh.duckdb")
    seen = []
    with client_for(server) as client:
        stats = sync_pubmed(con, client, term="all[sb]", on_batch=lambda s: seen.append(s.fetched))
    fetches = server.to("efetch.fcgi")
    assert [len(r.ids) for r in fetches] == [200, 200, 50] and {r.method for r in fetches} == {"POST"}
    assert all(r.query == "" for r in fetches)
    assert seen == [200, 400, 450]
    assert stats.found == 450 and stats.articles == FIXTURE_PMIDS and stats.missing == 426 and stats.done
    assert stats.links["links"] == 8
    assert count(con, "SELECT count(*) FROM literature WHERE source = 'pubmed'") == FIXTURE_PMIDS
    assert count(con, "SELECT count(*) FROM relations WHERE origin = 'pubmed'") == 8
    assert get_state(con, "resume_key", "pubmed") is None and get_state(con, "last_sync", "pubmed")
    con.close()


@pytest.mark.parametrize("fault", ["429", "500", "503", "truncated", "drop", "badxml", "error", "timeout"])
def test_faults_are_retried(fault):
    delays: list[float] = []
    with EutilsTestServer(faults={"esearch": fault, "efetch": [fault, fault]}, retry_after="7",
                          timeout_sleep=1.5) as srv:
        with client_for(srv, sleep=delays.append, timeout=0.5) as client:
            assert client.search_pmids("NCT02149199[si]") == ["29768149"]
            got = client.fetch(["29768149", "26231464"])
        assert [a.pmid for a in got.articles] == ["29768149", "26231464"]
        assert [r.fault for r in srv.requests] == [fault, None, fault, fault, None]
    assert len(delays) == 3
    if fault == "429":
        assert delays == [0.05, 0.05, 0.05]         # Retry-After 7 s, capped by backoff_max
    else:
        assert all(0 <= d <= 0.05 for d in delays)


def test_retry_after_is_honoured_up_to_backoff_max():
    delays: list[float] = []
    with EutilsTestServer(faults={"efetch": "429"}, retry_after="7") as srv:
        with client_for(srv, sleep=delays.append, backoff_max=60) as client:
            client.fetch(["29768149"])
    assert delays == [7.0]


def test_secrets_never_logged_nor_in_errors(monkeypatch, caplog):
    monkeypatch.setenv("NCBI_API_KEY", KEY)
    monkeypatch.setenv("NCBI_EMAIL", EMAIL)
    monkeypatch.setenv("NCBI_TOOL", "tp-secret-tool")
    caplog.set_level(logging.DEBUG)
    messages: list[str] = []
    with EutilsTestServer(faults={"efetch": ["500", "429", "truncated", "drop"]}, require_api_key=KEY) as srv:
        client = EutilsClient(base_url=srv.base_url, log=messages.append, **FAST)
        assert client.has_api_key
        assert KEY not in repr(client) and EMAIL not in repr(client)
        client.search_pmids("all[sb]")
        assert len(client.fetch(["29768149"]).articles) == 1
        # the server got the key, in the POST body only (never in a URL)
        assert all(r.params.get("api_key") == KEY and r.params.get("email") == EMAIL for r in srv.requests)
        assert all(KEY not in r.query and EMAIL not in r.query for r in srv.requests)
        # a bad key: NCBI answers 400 with a JSON body that echoes it
        bad = EutilsClient(base_url=srv.base_url, api_key=KEY + "-wrong", env={}, log=messages.append, **FAST)
        with pytest.raises(PubmedApiError) as err:
            bad.fetch(["29768149"])
        assert "HTTP 400" in str(err.value) and "API key invalid" in str(err.value)
        # retries exhausted
        srv.set_faults({"efetch": ["500"] * 3})
        worn = EutilsClient(base_url=srv.base_url, log=messages.append, max_retries=2, **FAST)
        with pytest.raises(PubmedApiError) as err2:
            worn.fetch(["29768149"])
        assert "failed after 3 attempts" in str(err2.value)
    text = caplog.text + "\n".join(messages)
    assert "retry" in text and "api_key=***" in text
    for secret in (KEY, EMAIL, "tp-secret-tool", KEY + "-wrong"):
        for blob in (text, str(err.value), repr(err.value), str(err2.value), repr(bad), repr(worn)):
            assert secret not in blob
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_redact():
    assert redact("x?api_key=abc123&email=a%40b.org&term=y", ()) == "x?api_key=***&email=***&term=y"
    assert redact('{"api-key": "K-123456"}', ()) == '{"api-key": "***"}'
    assert redact("key K-123456 in prose", ("K-123456",)) == "key *** in prose"


def test_pacing_three_per_second_without_key_ten_with(server):
    t = [0.0]
    sleeps: list[float] = []

    def sleep(s):
        sleeps.append(s)
        t[0] += s

    plain = EutilsClient(base_url=server.base_url, env={}, sleep=sleep, clock=lambda: t[0])
    for _ in range(3):
        plain.esearch("all[sb]")
    assert plain.requests_per_second == 3.0 and sleeps == pytest.approx([1 / 3, 1 / 3])
    sleeps.clear()
    keyed = EutilsClient(base_url=server.base_url, env={"NCBI_API_KEY": "k-123"}, sleep=sleep, clock=lambda: t[0])
    for _ in range(3):
        keyed.esearch("all[sb]")
    assert keyed.requests_per_second == 10.0 and sleeps == pytest.approx([0.1, 0.1])


def test_date_slicing_when_a_query_finds_more_than_10000(server):
    ids = server.add_synthetic(25_000, dt.date(2020, 1, 1), dt.date(2020, 12, 31))
    with client_for(server) as client:
        got = client.search_pmids("synthrecord")
    assert sorted(got) == sorted(ids) and len(set(got)) == 25_000
    searches = server.to("esearch.fcgi")
    assert "mindate" not in searches[0].params            # the plain query first: 25,000 hits
    sliced = searches[1:]
    assert all(r.params["datetype"] == "edat" and r.params["retstart"] == "0" for r in sliced)
    assert all(int(r.params["retmax"]) <= MAX_SEARCH for r in searches)
    assert client.truncated_days == []
    # with explicit dates: only that window, sliced the same way
    with client_for(server) as client:
        window = client.search_pmids("synthrecord", mindate="2020/03/01", maxdate="2020/08/31")
    expected = [r.pmid for r in server.records
                if r.text == "synthrecord" and dt.date(2020, 3, 1) <= r.edat <= dt.date(2020, 8, 31)]
    assert sorted(window) == sorted(expected) and len(expected) > MAX_SEARCH


def test_one_day_above_10000_keeps_the_reachable_first_10000(server):
    server.add_synthetic(10_050, dt.date(2021, 5, 5), dt.date(2021, 5, 5))
    with client_for(server) as client:
        got = client.search_pmids("synthrecord", mindate="2021/05/01", maxdate="2021/05/09")
    assert len(got) == MAX_SEARCH and client.truncated_days == [dt.date(2021, 5, 5)]


def test_interrupted_sync_resumes_where_it_stopped(tmp_path):
    db = tmp_path / "wh.duckdb"
    with EutilsTestServer() as srv:
        srv.set_faults({5: ["drop"], 6: ["drop"], 7: ["drop"]})   # request 5 = the 4th efetch, and its retries
        con = connect(db)
        client = client_for(srv, batch_size=5, max_retries=2)
        with pytest.raises(PubmedApiError):
            sync_pubmed(con, client, term="all[sb]")
        assert get_state(con, "resume_position", "pubmed") == "15"
        assert count(con, "SELECT count(*) FROM literature") == 15
        all_ids = get_state(con, "resume_pmids", "pubmed").split(",")
        con.close()

        before = len(srv.requests)
        con = connect(db)                                   # a new process, the same command
        stats = sync_pubmed(con, client_for(srv, batch_size=5), term="all[sb]")
        later = srv.requests[before:]
        assert [r.path.rsplit("/", 1)[-1] for r in later] == ["efetch.fcgi"] * 2   # no new search
        assert [r.ids for r in later] == [all_ids[15:20], all_ids[20:]]
        assert stats.resumed_at == 15 and stats.fetched == 9 and stats.articles == 9 and stats.done
        assert count(con, "SELECT count(*) FROM literature") == FIXTURE_PMIDS
        assert count(con, "SELECT count(DISTINCT article_id) FROM literature") == FIXTURE_PMIDS
        assert get_state(con, "resume_key", "pubmed") is None
        assert stats.links["links"] == 8
        # a finished run leaves nothing to resume: the next run searches again
        sync_pubmed(con, client_for(srv, batch_size=5), term="all[sb]")
        assert srv.requests[-6].path.endswith("esearch.fcgi")
        con.close()


def test_max_batches_then_resume_and_a_different_query_starts_afresh(server, tmp_path):
    con = connect(tmp_path / "wh.duckdb")
    client = client_for(server, batch_size=10)
    first = sync_pubmed(con, client, pmids=["29768149", "21933749"] + [str(i) for i in range(1, 19)], max_batches=1)
    assert not first.done and first.fetched == 10 and get_state(con, "resume_position", "pubmed") == "10"
    other = sync_pubmed(con, client, term="NCT02149199[si]")
    assert other.resumed_at is None and other.found == 1 and other.done
    again = sync_pubmed(con, client, pmids=["29768149", "21933749"] + [str(i) for i in range(1, 19)])
    assert again.resumed_at is None and again.fetched == 20            # its cursor was replaced
    con.close()


def test_local_pubmed_has_the_same_interface(tmp_path):
    local = LocalPubmed()                                            # the embedded files
    assert len(local.search_pmids()) == FIXTURE_PMIDS and len(local.files) == 3
    assert local.search_pmids("NCT02149199[si]") == ["29768149"]
    assert local.search_pmids("ISRCTN69423238") == ["25998582"]
    assert local.search_pmids("29768149, 1, 21933749[uid]") == ["29768149", "21933749"]
    assert local.search_pmids("crizotinib survival") == ["21933749"]
    assert local.search_pmids("all", mindate="2017", maxdate="2018/12/31") == ["29768149", "28786991"]
    assert local.esearch("NCT00585195").count == 1
    got = local.fetch(["21933749", "2"])
    assert [a.pmid for a in got.articles] == ["21933749"] and got.missing == ["2"]
    con = connect(tmp_path / "wh.duckdb")
    stats = sync_pubmed(con, local, term="all")
    assert stats.articles == FIXTURE_PMIDS and stats.links["links"] == 8
    con.close()
