"""Live extract into DuckDB against a real API v2 server on 127.0.0.1: faults, resume, cursor."""
import copy

import duckdb
import pytest

from trialpanorama_dagster.cli import main
from trialpanorama_dagster.resources.ctgov_live import CtgovApiError, CtgovLiveClient
from trialpanorama_dagster.warehouse.ctgov_fetch import fetch_ctgov, get_state
from trialpanorama_dagster.warehouse.db import connect
from tests.support.ctgov_server import last_update


def q(con_or_db, sql):
    if isinstance(con_or_db, duckdb.DuckDBPyConnection):
        return con_or_db.execute(sql).fetchall()
    con = duckdb.connect(str(con_or_db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def client(srv, **kw):
    opts = dict(base_url=srv.base_url, page_size=7, requests_per_minute=0, backoff_base=0.01,
                backoff_max=0.05, timeout=0.5)
    opts.update(kw)
    return CtgovLiveClient(**opts)


def assert_each_study_once(con, studies):
    expected = sorted(s["protocolSection"]["identificationModule"]["nctId"] for s in studies)
    assert [r[0] for r in q(con, "SELECT study_id FROM studies ORDER BY 1")] == expected
    assert q(con, "SELECT count(*), count(DISTINCT source_id) FROM raw_records") == [(len(expected), len(expected))]


def test_cli_fetch_loads_every_study_and_stores_the_cursor(tmp_path, ctgov_server, ctgov_studies, capsys):
    db = tmp_path / "w.duckdb"
    code = main(["fetch", "ctgov", "--db", str(db), "--base-url", ctgov_server.base_url, "--page-size", "50",
                 "--requests-per-minute", "6000", "--quiet"])
    assert code == 0
    assert "170 loaded" in capsys.readouterr().out
    con = connect(db)
    assert_each_study_once(con, ctgov_studies)
    assert get_state(con, "last_update_date") == max(last_update(s) for s in ctgov_studies)
    assert get_state(con, "resume_page_token") is None


def test_faults_on_every_kind_lose_and_duplicate_nothing(tmp_path, make_ctgov_server, ctgov_studies):
    faults = {"offset:7": "429", "offset:21": "500", "offset:35": "timeout", "offset:49": "truncated",
              "offset:63": "badjson", "offset:77": "drop", "offset:91": ["503", "503"]}
    srv = make_ctgov_server(faults=faults, timeout_sleep=1.5)
    con = connect(tmp_path / "w.duckdb")
    with client(srv) as c:
        stats = fetch_ctgov(con, c)
    assert stats.loaded == 170 and stats.quarantined == 0
    assert_each_study_once(con, ctgov_studies)
    assert len(srv.faults_fired()) == 8


def test_interrupted_run_resumes_from_the_last_committed_page(tmp_path, make_ctgov_server, ctgov_studies):
    srv = make_ctgov_server(faults={"offset:70": ["500"] * 10})
    con = connect(tmp_path / "w.duckdb")
    with client(srv, max_retries=2) as c, pytest.raises(CtgovApiError):
        fetch_ctgov(con, c)
    assert q(con, "SELECT count(*) FROM studies") == [(70,)]     # ten committed pages of 7
    token = get_state(con, "resume_page_token")
    assert token and q(con, "SELECT status FROM load_events") == [("failed",)]
    srv.set_faults({})
    n_before = len(srv.requests)
    with client(srv) as c:
        stats = fetch_ctgov(con, c)
    assert srv.requests[n_before].params.get("pageToken") == token   # resumed, not restarted
    assert stats.seen == 100
    assert_each_study_once(con, ctgov_studies)
    assert get_state(con, "resume_page_token") is None


def test_incremental_run_asks_from_the_cursor_and_replaces_changed_studies(tmp_path, make_ctgov_server, ctgov_studies):
    srv = make_ctgov_server()
    con = connect(tmp_path / "w.duckdb")
    with client(srv) as c:
        fetch_ctgov(con, c)
    cursor = get_state(con, "last_update_date")
    changed = copy.deepcopy(ctgov_studies)
    target = next(s for s in changed if s["protocolSection"]["identificationModule"]["nctId"] == "NCT03275402")
    target["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"]["date"] = "2031-02-01"
    target["protocolSection"]["conditionsModule"]["conditions"] = ["Neuroblastoma"]
    srv.set_studies(changed)
    n_before = len(srv.requests)
    with client(srv) as c:
        stats = fetch_ctgov(con, c)
    first = srv.requests[n_before].params
    assert first["filter.advanced"] == f"AREA[LastUpdatePostDate]RANGE[{cursor},MAX]"
    expected_seen = sum(1 for s in changed if last_update(s) >= cursor)
    assert stats.seen == expected_seen and stats.loaded == 1 and stats.unchanged == expected_seen - 1
    assert q(con, "SELECT condition_name FROM conditions WHERE study_id = 'NCT03275402'") == [("Neuroblastoma",)]
    assert get_state(con, "last_update_date") == "2031-02-01"
    assert q(con, "SELECT count(*) FROM raw_records WHERE source_id = 'NCT03275402'") == [(2,)]


@pytest.mark.parametrize("name", ["isrctn", "ctis", "euctr"])
def test_other_registries_fetch_into_the_warehouse_through_faults_and_resume(tmp_path, name):
    """The same fetch discipline for every live registry: parsed rows land, an interrupted run resumes."""
    from tests.resources.test_registry_live import REGS, FAST
    from trialpanorama_dagster.resources.http_retry import RegistryApiError
    from trialpanorama_dagster.warehouse.fetch import fetch_source
    reg = REGS[name]
    srv = reg.server_cls(faults={reg.page_key(1): ["500"] * 5}, timeout_sleep=1.5, **reg.server_kw).start()
    try:
        con = connect(tmp_path / "w.duckdb")
        with reg.client_cls(base_url=srv.base_url, page_size=reg.page_size, **{**FAST, "max_retries": 1}) as c, \
                pytest.raises(RegistryApiError):
            fetch_source(con, c, name)
        assert get_state(con, "resume_page_token", name)
        srv.set_faults({})
        with reg.client_cls(base_url=srv.base_url, page_size=reg.page_size, **FAST) as c:
            fetch_source(con, c, name)
        expected = reg.ids(srv)
        raw = [r[0] for r in q(con, f"SELECT source_id FROM raw_records WHERE source = '{name}' ORDER BY 1")]
        assert len(raw) == len(expected) and len(set(raw)) == len(raw)
        assert q(con, f"SELECT count(*) FROM studies WHERE study_source = '{name}'") == [(len(expected),)]
        assert q(con, "SELECT count(*) FROM quarantine") == [(0,)]
        assert get_state(con, "resume_page_token", name) is None
    finally:
        srv.stop()
