"""``pubmed load|fetch`` through ``cli_pubmed.register`` on a fresh argparse parser (and a fresh process)."""
from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from tests.support.eutils_server import EutilsTestServer
from tests.support.paths import ROOT, shared_fixtures
from trialpanorama_dagster.cli_pubmed import register
from trialpanorama_dagster.warehouse.db import connect

PUBMED = shared_fixtures() / "literature" / "pubmed"


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="trialpanorama")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def literature_count(db) -> int:
    con = connect(db, read_only=True)
    try:
        return con.execute("SELECT count(*) FROM literature").fetchone()[0]
    finally:
        con.close()


def test_load_files_and_folders(tmp_path, capsys):
    db = tmp_path / "wh.duckdb"
    assert run(["pubmed", "load", str(PUBMED / "pubmed-29768149.xml"), "--db", str(db), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "articles: 1 stored" in out and "links: 1 " in out and "skipped: 0" in out
    assert run(["pubmed", "load", str(PUBMED), "--db", str(db), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "articles: 24 stored" in out and "links: 8 " in out and literature_count(db) == 24


def test_load_defaults_to_the_embedded_files_and_reports_errors(tmp_path, capsys):
    db = tmp_path / "wh.duckdb"
    assert run(["pubmed", "load", "--db", str(db), "--quiet"]) == 0
    assert "articles: 24 stored" in capsys.readouterr().out
    assert run(["pubmed", "load", str(tmp_path / "nope.xml"), "--db", str(db), "--quiet"]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>x</PMID>"
                    b"</MedlineCitation></PubmedArticle></PubmedArticleSet>")
    assert run(["pubmed", "load", str(bad), "--db", str(db), "--quiet"]) == 1
    captured = capsys.readouterr()
    assert "skipped: 1" in captured.out and "PMID is not a number" in captured.out


@pytest.mark.slow
def test_fetch_live_by_pmid_list_and_term(tmp_path, capsys, monkeypatch):
    for var in ("NCBI_API_KEY", "NCBI_EMAIL", "NCBI_TOOL"):
        monkeypatch.delenv(var, raising=False)
    db = tmp_path / "wh.duckdb"
    ids = tmp_path / "pmids.txt"
    ids.write_text("29768149\n21933749, 25998582\n")
    with EutilsTestServer(faults={"efetch": "500"}) as srv:
        common = ["--db", str(db), "--base-url", srv.base_url, "--requests-per-second", "0", "--quiet"]
        assert run(["pubmed", "fetch", "--pmids", str(ids), *common]) == 0
        out = capsys.readouterr().out
        assert "articles: 3 stored (3 found)" in out and "links: 4 " in out
        assert [r.ids for r in srv.to("efetch.fcgi")] == [["29768149", "21933749", "25998582"]] * 2
        assert run(["pubmed", "fetch", "--term", "NCT02149199[si]", "--mindate", "2018", "--maxdate", "2018/12/31",
                    *common]) == 0
        assert "articles: 1 stored (1 found)" in capsys.readouterr().out
        assert srv.to("esearch.fcgi")[-1].params["mindate"] == "2018/01/01"
        srv.set_faults({"efetch": ["drop"] * 2})
        assert run(["pubmed", "fetch", "--term", "all[sb]", "--max-retries", "1", *common]) == 1
        assert "run the same command again to resume" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run(["pubmed", "fetch", "--db", str(db)])                  # --term or --pmids is required
    with pytest.raises(SystemExit):
        run(["pubmed", "fetch", "--term", "x", "--pmids", str(ids), "--db", str(db)])


def test_fetch_from_local_files(tmp_path, capsys):
    db = tmp_path / "wh.duckdb"
    assert run(["pubmed", "fetch", "--term", "ISRCTN69423238", "--local", str(PUBMED), "--db", str(db), "--quiet"]) == 0
    assert "articles: 1 stored (1 found), links: 2 " in capsys.readouterr().out


def test_register_in_a_fresh_process(tmp_path):
    db = tmp_path / "wh.duckdb"
    code = ("import argparse, sys; from trialpanorama_dagster.cli_pubmed import register; "
            "p = argparse.ArgumentParser(); register(p.add_subparsers(dest='command', required=True)); "
            "a = p.parse_args(sys.argv[1:]); sys.exit(a.func(a))")
    done = subprocess.run([sys.executable, "-c", code, "pubmed", "load", str(PUBMED), "--db", str(db)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "articles: 24 stored" in done.stdout and "links: 8 " in done.stdout
    helped = subprocess.run([sys.executable, "-c", code, "pubmed", "fetch", "--help"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert helped.returncode == 0 and "--term" in helped.stdout and "--pmids" in helped.stdout
