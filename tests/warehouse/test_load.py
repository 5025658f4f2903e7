"""`trialpanorama load` on real ClinicalTrials.gov records: formats, idempotence, quarantine, versions."""
import json
import shutil
import zipfile

import pytest

from trialpanorama_dagster.cli import main
from trialpanorama_dagster.warehouse.db import connect
from trialpanorama_dagster.warehouse.rebuild import sync_core
from trialpanorama_dagster.warehouse.schema import STUDY_TABLES
from tests.support.db import q, snapshot
from tests.support.paths import CTGOV_BULK_JSON, CTGOV_LEGACY_XML, CTGOV_V2_STUDIES, EMBEDDED_CTGOV


def load(*args) -> int:
    return main(["load", *map(str, args), "--quiet"])


def test_embedded_records_load_once_and_reload_changes_nothing(tmp_path, capsys):
    db = tmp_path / "w.duckdb"
    assert load(EMBEDDED_CTGOV, "--db", db) == 0
    out = capsys.readouterr().out
    assert "216 loaded" in out and "0 quarantined" in out
    assert q(db, "SELECT count(*), count(DISTINCT study_source) FROM studies") == [(216, 1)]
    first = snapshot(db)
    assert load(EMBEDDED_CTGOV, "--db", db) == 0
    assert "0 loaded, 216 unchanged" in capsys.readouterr().out
    assert snapshot(db) == first
    # the core tables are derived: a full rebuild from raw gives the same rows
    con = connect(db)
    sync_core(con, "ctgov", full=True)
    con.close()
    core = [t.name for t in STUDY_TABLES]
    assert snapshot(db, core) == {n: first[n] for n in core}


def test_raw_payload_is_kept_byte_for_byte(tmp_path):
    db = tmp_path / "w.duckdb"
    assert load(CTGOV_V2_STUDIES / "NCT00007696.json", CTGOV_LEGACY_XML / "NCT02654730.xml", "--db", db) == 0
    raw = dict(q(db, "SELECT source_id, payload FROM raw_records"))
    assert raw["NCT00007696"].encode() == (CTGOV_V2_STUDIES / "NCT00007696.json").read_bytes()
    assert raw["NCT02654730"].encode() == (CTGOV_LEGACY_XML / "NCT02654730.xml").read_bytes()
    assert q(db, "SELECT why_terminated FROM outcomes WHERE study_id = 'NCT02654730'")[0][0]


def test_bulk_array_download_and_full_download_zip(tmp_path):
    db = tmp_path / "w.duckdb"
    assert load(CTGOV_BULK_JSON, "--db", db) == 0
    ids = [r[0] for r in q(db, "SELECT study_id FROM studies ORDER BY study_id")]
    assert len(ids) == 10 and "NCT00410098" in ids
    z = tmp_path / "ctg-studies.json.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(CTGOV_V2_STUDIES.glob("*.json"))[:40]:
            zf.write(p, p.name)
    db2 = tmp_path / "z.duckdb"
    assert load(z, "--db", db2) == 0
    assert q(db2, "SELECT count(*) FROM studies") == [(40,)]


def _bad_folder(tmp_path):
    good = json.loads((CTGOV_V2_STUDIES / "NCT03275402.json").read_text())
    d = tmp_path / "in"
    d.mkdir()
    shutil.copy(CTGOV_V2_STUDIES / "NCT00007696.json", d)
    (d / "invalid.json").write_text('{"protocolSection": {"identificationModule": ')
    (d / "NCT09999901.json").write_text(json.dumps({"derivedSection": {}, "hasResults": False}))
    wrong = json.loads(json.dumps(good))
    wrong["protocolSection"]["designModule"]["enrollmentInfo"]["count"] = "fifty"
    (d / "wrong_type.json").write_text(json.dumps(wrong))
    date = json.loads(json.dumps(good))
    date["protocolSection"]["statusModule"]["startDateStruct"]["date"] = "2018-13-01"
    (d / "bad_date.json").write_text(json.dumps(date))
    # a zip whose second member's compressed bytes are damaged
    z = d / "download.zip"
    members = sorted(CTGOV_V2_STUDIES.glob("*.json"))[10:13]
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in members:
            zf.write(p, p.name)
    with zipfile.ZipFile(z) as zf:
        info = zf.infolist()[1]
    data = bytearray(z.read_bytes())
    start = info.header_offset + 30 + len(info.filename) + 40
    data[start:start + 64] = b"\x00" * 64
    z.write_bytes(bytes(data))
    return d, [m.stem for m in members]


def test_bad_input_is_quarantined_with_reasons_and_the_rest_loads(tmp_path, capsys):
    d, members = _bad_folder(tmp_path)
    db = tmp_path / "w.duckdb"
    assert load(d, "--db", db) == 0
    out = capsys.readouterr().out
    assert "5 quarantined" in out
    reasons = dict(q(db, "SELECT regexp_extract(origin, '[^/]+$'), reason FROM quarantine"))
    assert "invalid JSON" in reasons["invalid.json"]
    assert reasons["NCT09999901.json"] == "study has no protocolSection"
    assert "enrollmentInfo.count" in reasons["wrong_type.json"]
    assert "impossible date '2018-13-01'" in reasons["bad_date.json"]
    assert "truncated or corrupt zip member" in reasons[f"download.zip!{members[1]}.json"]
    loaded = {r[0] for r in q(db, "SELECT study_id FROM studies")}
    assert loaded == {"NCT00007696", members[0], members[2]}
    before = snapshot(db)
    assert load(d, "--db", db) == 0          # loading the same bad files again adds nothing
    assert snapshot(db) == before


def test_truncated_zip_download_recovers_whole_members(tmp_path):
    z = tmp_path / "cut.zip"
    members = sorted(CTGOV_V2_STUDIES.glob("*.json"))[:20]
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in members:
            zf.write(p, p.name)
    data = z.read_bytes()
    z.write_bytes(data[: len(data) // 2])   # the central directory and later members are gone
    db = tmp_path / "w.duckdb"
    assert load(z, "--db", db) == 0
    n = q(db, "SELECT count(*) FROM studies")[0][0]
    assert 5 <= n < 20
    assert q(db, "SELECT count(*) FROM quarantine WHERE reason LIKE '%cut short%'") == [(1,)]


def test_nothing_usable_is_a_one_line_error(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2")
    assert load(bad, "--db", tmp_path / "w.duckdb") == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nothing usable" in err[0]
    assert load(tmp_path / "missing.json", "--db", tmp_path / "w.duckdb") == 2
    assert "no such file" in capsys.readouterr().err


def test_changed_study_replaces_its_rows_and_an_older_version_does_not(tmp_path):
    src = json.loads((CTGOV_V2_STUDIES / "NCT03275402.json").read_text())
    db = tmp_path / "w.duckdb"
    v1 = tmp_path / "v1" / "NCT03275402.json"
    v1.parent.mkdir()
    v1.write_text(json.dumps(src))
    assert load(v1, "--db", db) == 0
    new = json.loads(json.dumps(src))
    status = new["protocolSection"]["statusModule"]
    status["lastUpdatePostDateStruct"]["date"] = "2031-01-15"
    new["protocolSection"]["conditionsModule"]["conditions"] = ["Neuroblastoma"]
    new["protocolSection"]["outcomesModule"]["primaryOutcomes"] = []
    v2 = tmp_path / "v2" / "NCT03275402.json"
    v2.parent.mkdir()
    v2.write_text(json.dumps(new))
    assert load(v2, "--db", db) == 0
    assert q(db, "SELECT condition_name FROM conditions") == [("Neuroblastoma",)]
    assert q(db, "SELECT count(*) FROM endpoints WHERE endpoint_type = 'PRIMARY'") == [(0,)]
    assert q(db, "SELECT source_version FROM studies") == [("2031-01-15",)]
    assert q(db, "SELECT count(*) FROM raw_records") == [(2,)]
    # the older version again (different bytes): kept in raw, core stays on the newest
    v1.write_text(json.dumps(src, indent=2))
    assert load(v1, "--db", db) == 0
    assert q(db, "SELECT count(*) FROM raw_records") == [(3,)]
    assert q(db, "SELECT source_version, (SELECT count(*) FROM conditions) FROM studies") == [("2031-01-15", 1)]


@pytest.mark.parametrize("source, expected", [("ctgov-xml", 0), ("ctgov", 1)])
def test_forced_source_format(tmp_path, source, expected, capsys):
    db = tmp_path / "w.duckdb"
    code = main(["load", str(CTGOV_V2_STUDIES / "NCT00007696.json"), "--db", str(db), "--source", source, "--quiet"])
    # forcing XML on a JSON file quarantines it (exit 1: nothing usable); forcing JSON loads it
    assert code == (1 if expected == 0 else 0)
    assert q(db, "SELECT count(*) FROM studies") == [(expected,)]
