"""Review collections into a real DuckDB warehouse: the embedded default, idempotence, replacing one
review, files that cannot be read, and the ``import-reviews`` verb."""
import argparse
import filecmp
import json
import shutil
import subprocess
import sys

import pytest

from tests.support.db import q, snapshot
from tests.support.paths import ROOT, shared_fixtures
from trialpanorama_dagster.cli_reviews import register
from trialpanorama_dagster.literature.reviews import (EMBEDDED, FORMATS, ReviewFileError, import_reviews,
                                                      read_clef_tar, read_cohen, read_reviews, read_synergy,
                                                      read_trialmind)
from trialpanorama_dagster.warehouse.db import connect

SR = shared_fixtures() / "systematic_reviews"
SHARED_FOLDER = {"synergy": "synergy_v1_release", "cohen": "synergy_cohen", "clef_tar": "clef_tar",
                 "sysrev_seed": "sysrev_seed_collection", "trialmind": "trialmind_slr"}
TABLES = ("reviews", "literature", "relations")


COHEN_ESTROGENS = [SR / "synergy_cohen" / n for n in (
    "Cohen_2006_Estrogens_metadata.json", "Nelson_2002__Cohen_Estrogens_titles_abstracts.csv", "Nelson_2002_ids.csv",
    "reviews.json", "synergy_datasets.toml")]


def cohen_folder(where) -> list:
    """The Estrogens review's Cohen files in a folder of their own (not embedded: licence)."""
    folder = where / "cohen_estrogens"
    folder.mkdir(exist_ok=True)
    for f in COHEN_ESTROGENS:
        shutil.copy(f, folder / f.name)
    return [folder]


def run_import(db, fmt, paths=None) -> dict:
    if fmt == "cohen" and paths is None:
        paths = cohen_folder(db.parent)
    con = connect(db)
    try:
        return import_reviews(con, fmt, paths)
    finally:
        con.close()


# ---------------------------------------------------------------- embedded default

def test_embedded_copies_are_byte_identical_subsets_with_provenance():
    data = EMBEDDED["synergy"][0].parent
    files = [p for p in data.rglob("*") if p.is_file() and p.name != "PROVENANCE.md"]
    assert sum(p.stat().st_size for p in files) < 3.3e6
    provenance = (data / "PROVENANCE.md").read_text()
    for fmt in FORMATS:
        if fmt == "cohen":        # custom licence: never shipped
            assert fmt not in EMBEDDED and not (data / fmt).exists()
        else:
            assert EMBEDDED[fmt] == [data / fmt] and (data / fmt).is_dir()
    for p in files:
        rel = p.relative_to(data)
        shared = SR / SHARED_FOLDER[rel.parts[0]] / rel.relative_to(rel.parts[0])
        assert filecmp.cmp(p, shared, shallow=False), rel
        assert f"| {rel.as_posix()} |" in provenance, rel
    assert not (data / "sysrev_seed" / "candidate_documents.res").exists()
    assert "CC0-1.0" in provenance and "MIT" in provenance and "custom open license" in provenance


def test_embedded_default_imports_every_format_and_twice_changes_nothing(tmp_path):
    db = tmp_path / "w.duckdb"
    first = {fmt: run_import(db, fmt) for fmt in FORMATS}
    before = snapshot(db, TABLES)
    again = {fmt: run_import(db, fmt) for fmt in FORMATS}
    assert snapshot(db, TABLES) == before
    for fmt in FORMATS:
        c = first[fmt]
        assert {k: v for k, v in c.items() if k != "articles_written"} == \
               {k: v for k, v in again[fmt].items() if k != "articles_written"}
        assert q(db, "SELECT count(*) FROM relations WHERE origin = ?", [f"review:{fmt}"])[0][0] == c["relations"]
        assert q(db, "SELECT count(*), sum(candidates), sum(included), sum(included_final) FROM reviews "
                     "WHERE collection = ?", [fmt])[0] == (c["reviews"], c["candidates"], c["included"],
                                                           c["included_final"])
    summary = {fmt: (c["reviews"], c["candidates"], c["included"], c["included_final"], c["excluded"], c["articles"])
               for fmt, c in first.items()}
    assert summary == {"synergy": (2, 624, 95, 95, 529, 624), "cohen": (1, 368, 80, 80, 288, 354),
                       "clef_tar": (5, 1605, 171, 63, 1434, 0), "sysrev_seed": (40, 1137, 1137, 1137, 0, 1481),
                       "trialmind": (20, 619, 619, 619, 0, 444)}
    # the Cohen CSV and the SYNERGY release describe the same Estrogens review; articles are shared
    shared = q(db, "SELECT count(DISTINCT a.tail_id) FROM relations a JOIN relations b USING (tail_id) "
                   "WHERE a.head_id = 'cohen:Estrogens' AND b.head_id = 'synergy:Nelson_2002'")[0][0]
    assert shared > 300
    assert q(db, "SELECT count(*) FROM literature WHERE source IN ('synergy', 'cohen')")[0][0] < 624 + 354


def test_sysrev_embedded_counts_equal_the_jsonl_where_the_qrels_agree(tmp_path):
    c = run_import(tmp_path / "w.duckdb", "sysrev_seed")
    topics = [json.loads(x) for x in (EMBEDDED["sysrev_seed"][0] / "overall_collection.jsonl").read_text().splitlines()]
    per = {r["review_id"]: r for r in c["per_review"]}
    for t in topics:
        if t["id"] != "42":
            assert per[f"sysrev_seed:{t['id']}"]["included"] == len({p.strip() for p in t["included_studies"]})


# ---------------------------------------------------------------- replacing one review

def test_reimporting_one_review_replaces_only_its_rows(tmp_path):
    src = tmp_path / "synergy"
    for name in ("Nelson_2002", "Donners_2021"):
        shutil.copytree(SR / "synergy_v1_release" / name, src / name)
    db = tmp_path / "w.duckdb"
    run_import(db, "synergy", [src])
    donners = q(db, "SELECT * FROM relations WHERE head_id = 'synergy:Donners_2021' ORDER BY ALL")
    labels = src / "Nelson_2002" / "labels.csv"
    lines = labels.read_text().splitlines()
    assert lines[3].endswith(",1")          # W2057172532, PMID 9666940, included
    lines[3] = lines[3][:-1] + "0"
    labels.write_text("\n".join(lines[:-10]) + "\n")          # and the last ten candidates are gone
    included = sum(line.endswith(",1") for line in lines[1:-10])
    counts = run_import(db, "synergy", [src / "Nelson_2002"])
    assert counts["reviews"] == 1 and counts["candidates"] == 366 - 10
    assert q(db, "SELECT count(*) FROM relations WHERE head_id = 'synergy:Nelson_2002'")[0][0] == 356
    assert q(db, "SELECT label FROM relations WHERE head_id = 'synergy:Nelson_2002' AND tail_id = 'PMID:9666940'") \
        == [("excluded",)]
    assert q(db, "SELECT candidates, included FROM reviews WHERE review_id = 'synergy:Nelson_2002'") == \
        [(356, included)]
    assert q(db, "SELECT * FROM relations WHERE head_id = 'synergy:Donners_2021' ORDER BY ALL") == donners
    assert q(db, "SELECT count(*) FROM reviews")[0][0] == 2


def test_other_origins_are_left_alone(tmp_path):
    db = tmp_path / "w.duckdb"
    run_import(db, "clef_tar", [SR / "clef_tar" / "CD011571"])
    run_import(db, "trialmind", [SR / "trialmind_slr" / "search_screen" / "34585542.json"])
    run_import(db, "clef_tar", [SR / "clef_tar" / "CD011571"])
    assert q(db, "SELECT origin, count(*) FROM relations GROUP BY origin ORDER BY origin") == \
        [("review:clef_tar", 2 * 146 + 2 * 6), ("review:trialmind", 4)]


# ---------------------------------------------------------------- unreadable and malformed input

def test_missing_path_and_wrong_layout_name_the_path(tmp_path):
    with pytest.raises(ReviewFileError, match="nowhere: no such file or folder"):
        read_reviews("synergy", [tmp_path / "nowhere"])
    with pytest.raises(ReviewFileError, match=r"no SYNERGY review here"):
        read_synergy([tmp_path])
    with pytest.raises(ReviewFileError, match=r"not a Cohen records CSV"):
        read_cohen([SR / "synergy_cohen" / "Nelson_2002_ids.csv"])


def test_malformed_file_alone_is_an_error_naming_it(tmp_path):
    folder = tmp_path / "search_screen"
    folder.mkdir()
    broken = folder / "11111111.json"
    broken.write_text('{"title": "cut short", "trials": [')
    with pytest.raises(ReviewFileError) as err:
        read_reviews("trialmind", [broken])
    assert str(broken) in str(err.value) and "not valid JSON" in str(err.value)
    # beside good reviews it is a skipped item with its reason, and the good ones are read
    shutil.copy(SR / "trialmind_slr" / "search_screen" / "34585542.json", folder)
    result = read_trialmind([folder])
    assert result.review_ids == ["trialmind:34585542"]
    assert [(s.item, s.reason.split(":")[0]) for s in result.skipped] == [(str(broken), "unreadable")]


def test_missing_column_is_an_error_naming_the_file(tmp_path):
    folder = tmp_path / "Broken_2020"
    folder.mkdir()
    (folder / "labels.csv").write_text("openalex_id,doi,pmid\nhttps://openalex.org/W1,,\n")
    with pytest.raises(ReviewFileError, match=r"labels\.csv: missing column\(s\) label_included"):
        read_reviews("synergy", [folder])


def test_bad_rows_and_lines_are_skipped_with_reasons(tmp_path):
    folder = tmp_path / "Odd_2020"
    folder.mkdir()
    (folder / "labels.csv").write_text("openalex_id,doi,pmid,label_included\n"
                                       "https://openalex.org/W11,,https://pubmed.ncbi.nlm.nih.gov/123,1\n"
                                       ",,,0\n"
                                       "https://openalex.org/W13,https://doi.org/10.1000/ABC,,maybe\n"
                                       ",https://doi.org/10.1000/XYZ,,0\n")
    result = read_synergy([folder])
    assert result.reviews[0][9:12] == (2, 1, 1)
    assert {s.item: s.reason.split(":")[0] for s in result.skipped} == {"labels.csv:3": "no id",
                                                                          "labels.csv:4": "bad label"}
    assert result.counts()["skipped_reasons"] == {"no id": 1, "bad label": 1}
    topic = tmp_path / "CD011571"
    shutil.copytree(SR / "clef_tar" / "CD011571", topic)
    with (topic / "task2_qrels_abstract_level.txt").open("a") as fh:
        fh.write("CD011571 0 notapmid 1\nCD999999 0 12345 1\n")
    clef = read_clef_tar([topic])
    assert {s.reason.split(":")[0] for s in clef.skipped} == {"bad qrels line", "other topic"}
    assert all(s.item.startswith("task2_qrels_abstract_level.txt:") for s in clef.skipped)
    assert clef.reviews[0][9] == 152                     # the good lines are all read


# ---------------------------------------------------------------- the command line

def parse(argv):
    parser = argparse.ArgumentParser(prog="trialpanorama")
    register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_cli_verb_imports_and_prints_a_table(tmp_path, capsys):
    db = tmp_path / "w.duckdb"
    args = parse(["import-reviews", "clef_tar", str(SR / "clef_tar" / "CD000996"), str(SR / "clef_tar" / "CD001261"),
                  "--db", str(db)])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "clef_tar: 2 reviews" in out
    row = next(line.split() for line in out.splitlines() if line.startswith("clef_tar:CD000996"))
    assert row[1:5] == ["282", "10", "6", "272"]
    assert next(line.split() for line in out.splitlines() if line.startswith("total"))[1:4] == ["866", "95", "32"]
    assert q(db, "SELECT count(*) FROM reviews")[0][0] == 2
    with pytest.raises(SystemExit):
        parse(["import-reviews", "cochrane", "x"])
    args = parse(["import-reviews", "synergy", str(tmp_path / "missing"), "--db", str(db)])
    assert args.func(args) == 2
    assert "missing: no such file or folder" in capsys.readouterr().err


def test_cli_module_end_to_end_on_the_embedded_default(tmp_path):
    db = tmp_path / "w.duckdb"
    proc = subprocess.run([sys.executable, "-m", "trialpanorama_dagster.cli_reviews", "import-reviews", "cohen",
                           *map(str, cohen_folder(tmp_path)), "--db", str(db)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "cohen:Estrogens" in proc.stdout and "warehouse:" in proc.stdout
    assert q(db, "SELECT review_id, candidates, included, included_final FROM reviews") == \
        [("cohen:Estrogens", 368, 80, 80)]
