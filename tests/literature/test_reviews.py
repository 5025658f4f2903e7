"""Review-collection readers on the real shared fixtures: every count is recomputed here from the raw
files with plain csv/json reading, and known values (titles, queries, included PMIDs) are checked."""
import csv
import json
from collections import Counter

import pytest

from tests.support.paths import shared_fixtures
from trialpanorama_dagster.literature.reviews import (read_clef_tar, read_cohen, read_reviews, read_synergy,
                                                      read_sysrev_seed, read_trialmind)
from trialpanorama_dagster.warehouse.schema import table

SR = shared_fixtures() / "systematic_reviews"
REVIEW_COLS = table("reviews").column_names
REL_COLS = table("relations").column_names


def reviews_by_id(result) -> dict[str, dict]:
    return {r[0]: dict(zip(REVIEW_COLS, r)) for r in result.reviews}


def rels(result, review_id, relation_type="review_candidate", stage=None) -> dict[str, dict]:
    out = {}
    for row in result.relations:
        d = dict(zip(REL_COLS, row))
        if d["head_id"] == review_id and d["relation_type"] == relation_type and stage in (None, d["stage"]):
            out[d["tail_id"]] = d
    return out


def tail(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1] if url else ""


@pytest.fixture(scope="module")
def synergy():
    return read_synergy([SR / "synergy_v1_release"])


@pytest.fixture(scope="module")
def cohen():
    return read_cohen([SR / "synergy_cohen"])


@pytest.fixture(scope="module")
def clef():
    return read_clef_tar([SR / "clef_tar"])


@pytest.fixture(scope="module")
def sysrev():
    return read_sysrev_seed([SR / "sysrev_seed_collection"])


@pytest.fixture(scope="module")
def trialmind():
    return read_trialmind([SR / "trialmind_slr"])


# ---------------------------------------------------------------- SYNERGY

def synergy_expected(folder):
    records = {json.loads(line)["openalex_id"]: json.loads(line)
               for line in (folder / "records.jsonl").read_text().splitlines() if line.strip()}
    ids, included = set(), set()
    rows = list(csv.DictReader((folder / "labels.csv").open(encoding="utf-8")))
    for row in rows:
        rec = records.get(row["openalex_id"], {})
        pmid = tail(row["pmid"]) or rec.get("pmid")
        doi = row["doi"].replace("https://doi.org/", "").lower() if row["doi"] else None
        aid = f"PMID:{pmid}" if pmid else f"doi:{doi}" if doi else "openalex:" + tail(row["openalex_id"])
        ids.add(aid)
        if row["label_included"] == "1":
            included.add(aid)
    return rows, ids, included


def test_synergy_counts_equal_the_labels(synergy):
    got = reviews_by_id(synergy)
    folders = sorted(d for d in (SR / "synergy_v1_release").iterdir() if d.is_dir())
    assert sorted(got) == [f"synergy:{d.name}" for d in folders]
    for folder in folders:
        rows, ids, included = synergy_expected(folder)
        r = got[f"synergy:{folder.name}"]
        assert (r["candidates"], r["included"], r["included_final"]) == (len(ids), len(included), len(included))
        assert set(rels(synergy, r["review_id"], stage="final")) == ids
        if folder.name != "Meijboom_2021":          # the one review where two OpenAlex works share a PMID
            assert r["candidates"] == len(rows)
            assert r["included"] == sum(row["label_included"] == "1" for row in rows)
    assert sum(r["candidates"] for r in got.values()) == 2679


def test_synergy_merges_two_works_with_one_pmid_and_says_so(synergy):
    dup = [s for s in synergy.skipped if s.review_id == "synergy:Meijboom_2021"]
    assert len(dup) == 2 and all(s.reason.startswith("duplicate candidate") for s in dup)
    # W1827882046 (included) and W4251942916 (excluded) both carry PMID 30828891: included wins
    assert rels(synergy, "synergy:Meijboom_2021")["PMID:30828891"]["label"] == "included"
    assert any("openalex:W4251942916" == s.item and "PMID:30828891" in s.reason for s in dup)


def test_synergy_real_values(synergy):
    nelson = reviews_by_id(synergy)["synergy:Nelson_2002"]
    assert nelson["title"] == "Postmenopausal Hormone Replacement Therapy"
    assert nelson["review_pmid"] == "12186605" and nelson["doi"] == "10.1001/jama.288.7.872"
    assert nelson["objectives"].startswith("To assess the benefits and harms of HRT")
    assert nelson["selection_criteria"].startswith("We used only published data in meta-analyses.")
    r = rels(synergy, "synergy:Nelson_2002")
    assert r["PMID:9666940"]["label"] == "included" and r["PMID:11974560"]["label"] == "excluded"
    assert {d["origin"] for d in r.values()} == {"review:synergy"}
    # labels.csv's PMID wins over the OpenAlex record's (HERS II: 12090862 cardiovascular, 12090863 not)
    assert r["PMID:12090862"]["label"] == r["PMID:12090863"]["label"] == "included"
    art = {a.article_id: a for a in synergy.articles}["PMID:7807658"]
    assert art.title.startswith("Effects of estrogen or estrogen/progestin regimens on heart disease")
    assert art.doi == "10.1001/jama.273.3.199" and art.year == 1995 and art.source == "synergy"
    # Donners: PMIDs are missing from labels.csv; the OpenAlex record's PMID, else the DOI, is the id
    donners = rels(synergy, "synergy:Donners_2021")
    assert "PMID:27919275" in donners and any(t.startswith("doi:") for t in donners)


# ---------------------------------------------------------------- Cohen

@pytest.mark.parametrize("name,drug_class", [("Nelson_2002__Cohen_Estrogens_titles_abstracts.csv", "Estrogens"),
                                             ("Chou_2003__Cohen_Opioids_titles_abstracts.csv", "Opioids")])
def test_cohen_counts_equal_both_label_levels(cohen, name, drug_class):
    rows = list(csv.DictReader((SR / "synergy_cohen" / name).open(encoding="utf-8")))
    r = reviews_by_id(cohen)[f"cohen:{drug_class}"]
    abstract_in = {row["pubmedID"] for row in rows if row["label_abstract_screening"] == "1"}
    final_in = {row["pubmedID"] for row in rows if row["label_included"] == "1"}
    assert r["candidates"] == len({row["pubmedID"] for row in rows}) == len(rows)
    assert r["included"] == len(abstract_in | final_in) and r["included_final"] == len(final_in)
    ta, fin = rels(cohen, r["review_id"], stage="title_abstract"), rels(cohen, r["review_id"], stage="final")
    assert len(ta) == len(fin) == len(rows)
    assert {t for t, d in ta.items() if d["label"] == "included"} == {f"PMID:{p}" for p in abstract_in}
    assert {t for t, d in fin.items() if d["label"] == "included"} == {f"PMID:{p}" for p in final_in}


def test_cohen_real_values(cohen):
    got = reviews_by_id(cohen)
    assert (got["cohen:Opioids"]["included"], got["cohen:Opioids"]["included_final"]) == (48, 15)
    est = got["cohen:Estrogens"]
    assert est["title"].startswith("Postmenopausal hormone replacement therapy")
    assert est["selection_criteria"].startswith("We used only published data in meta-analyses.")
    assert est["doi"] == "10.1001/jama.288.7.872"
    art = {a.article_id: a for a in cohen.articles}["PMID:10072236"]
    assert art.title == "Effect of acute testosterone on myocardial ischemia in men with coronary artery disease."
    assert art.year == 1999 and art.doi == "10.1016/s0002-9149(98)00880-7"     # DOI joined from Nelson_2002_ids.csv


# ---------------------------------------------------------------- CLEF TAR

def qrels(path, label="1") -> set[str]:
    return {line.split()[2] for line in path.read_text().splitlines() if line.split() and line.split()[3] == label}


def pids(folder) -> list[str]:
    return (folder / "task2_topic_boolean_query_and_pids.txt").read_text().split("Pids:")[1].split()


def test_clef_folders_counts_equal_the_qrels(clef):
    got = reviews_by_id(clef)
    topics = sorted(d for d in (SR / "clef_tar").iterdir() if d.is_dir())
    assert sorted(got) == [f"clef_tar:{d.name}" for d in topics] and len(topics) == 5
    for folder in topics:
        r = got[f"clef_tar:{folder.name}"]
        a1, c1 = qrels(folder / "task1_qrels_abstract_level.txt"), qrels(folder / "task1_qrels_content_level.txt")
        a2, c2 = qrels(folder / "task2_qrels_abstract_level.txt"), qrels(folder / "task2_qrels_content_level.txt")
        assert r["included"] == len(a1 | a2 | c1 | c2) == len(a1)        # task1 lists every relevant PMID
        assert r["included_final"] == len(c1 | c2) == len(c1)
        assert r["candidates"] == len(set(pids(folder)) | a1 | c1)
        ta = rels(clef, r["review_id"], stage="title_abstract")
        retrieved = {t: d for t, d in ta.items() if d["evidence"] == "Boolean query PIDs"}
        assert len(retrieved) == len(pids(folder))
        assert sum(d["label"] == "included" for d in retrieved.values()) == len(a2)
        fin = rels(clef, r["review_id"], stage="final")
        assert {t for t, d in fin.items() if d["label"] == "included"} == {f"PMID:{p}" for p in c1}


def test_clef_real_values(clef):
    got = reviews_by_id(clef)
    cd996 = got["clef_tar:CD000996"]
    assert cd996["title"] == "Inhaled corticosteroids for bronchiectasis"
    assert cd996["boolean_query"].startswith("exp Bronchiectasis/\nbronchiect*.ti,ab")
    assert cd996["selection_criteria"].startswith("Types of studies: All randomised controlled trials (RCTs) using")
    assert (cd996["candidates"], cd996["included"], cd996["included_final"]) == (282, 10, 6)
    # the Cochrane language menu ("available in English Español") is not part of the objective
    assert got["clef_tar:CD001261"]["objectives"] == "To assess the effects of vaccines for preventing typhoid fever."
    missed = rels(clef, "clef_tar:CD000996", stage="final")
    assert missed["PMID:1615177"]["label"] == "included"


def test_clef_jsonl_counts(tmp_path):
    path = SR / "clef_tar" / "clef_tar2019_intervention_reviews.jsonl"
    result = read_clef_tar([path])
    got = reviews_by_id(result)
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    assert len(got) == len(lines) == 5
    for obj in lines:
        r = got[f"clef_tar:{obj['review_id']}"]
        task1 = set(obj["included_pmids_task1_content_level"])
        final = {p for p, v in obj["candidate_labels_content_level_final"].items() if v == 1} | task1
        abstract = {p for p, v in obj["candidate_labels_abstract_level"].items() if v == 1}
        assert r["candidates"] == obj["n_candidates"] + len(task1 - set(obj["candidate_pmids_from_boolean_query"]))
        assert r["included_final"] == len(final) and r["included"] == len(abstract | final)
        assert r["boolean_query"] == obj["boolean_query_ovid_medline"].strip()
    # a folder layout and the JSONL in one call: each topic is kept once, the second copy reported
    both = read_clef_tar([SR / "clef_tar" / "CD000996", path])
    assert both.review_ids.count("clef_tar:CD000996") == 1 and len(both.reviews) == 5
    assert [s.reason for s in both.skipped if s.item == "clef_tar:CD000996"][0].startswith("review read twice")


# ---------------------------------------------------------------- sysrev-seed

def trec(path, fields) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == fields and (fields == 6 or parts[3] == "1"):
            out.setdefault(parts[0], set()).add(parts[2])
    return out


def test_sysrev_seed_counts(sysrev):
    folder = SR / "sysrev_seed_collection"
    topics = [json.loads(line) for line in (folder / "overall_collection.jsonl").read_text().splitlines() if line]
    inc, seeds = trec(folder / "included_studies.qrels", 4), trec(folder / "seed_studies.qrels", 4)
    run = trec(folder / "candidate_documents.res", 6)
    got = reviews_by_id(sysrev)
    assert len(got) == len(topics) == 40
    for t in topics:
        r = got[f"sysrev_seed:{t['id']}"]
        assert r["included"] == r["included_final"] == len(inc[t["id"]])
        assert r["candidates"] == len(run[t["id"]] | inc[t["id"]])
        assert set(rels(sysrev, r["review_id"], "review_seed")) == {f"PMID:{p}" for p in seeds[t["id"]]}
    lines = [line.split() for line in (folder / "included_studies.qrels").read_text().splitlines() if line.strip()]
    assert sum(r["included"] for r in got.values()) == len({(p[0], p[2]) for p in lines if p[3] == "1"}) == 1137
    assert len(lines) == 1143 and "included_studies.qrels: 6 repeated (topic, PMID) lines" in " ".join(sysrev.notes)
    titles = json.loads((folder / "pmid_titles_included_and_seed.json").read_text())
    assert {a.article_id for a in sysrev.articles} == {f"PMID:{p}" for p in titles}


def test_sysrev_seed_real_values_and_disagreements(sysrev):
    t43 = reviews_by_id(sysrev)["sysrev_seed:43"]
    assert t43["title"].startswith("Prevalence of Differentiated Thyroid Cancer in Autopsy Studies")
    assert t43["boolean_query"].startswith('(("Thyroid Neoplasms"[MeSH] OR "Adenocarcinoma, Follicular"[MeSH]')
    assert t43["review_pmid"] == "27601555"
    assert rels(sysrev, "sysrev_seed:43")["PMID:17159249"]["label"] == "included"
    assert rels(sysrev, "sysrev_seed:43")["PMID:31157619"]["label"] == "excluded"
    assert "PMID:6504772" in rels(sysrev, "sysrev_seed:43", "review_seed")
    # topic 42: the JSONL's 12 included PMIDs are not those of the qrels (81); the qrels are used
    odd = [s for s in sysrev.skipped if s.review_id == "sysrev_seed:42"]
    assert len(odd) == 12 and all(s.reason.startswith("not in qrels") for s in odd)
    assert any("sysrev_seed:42" in n for n in sysrev.notes)


def test_sysrev_seed_without_the_run_file():
    folder = SR / "sysrev_seed_collection"
    result = read_sysrev_seed([folder / "overall_collection.jsonl", folder / "included_studies.qrels",
                               folder / "seed_studies.qrels"])
    counts = result.counts()
    assert counts["reviews"] == 40 and counts["excluded"] == 0 and counts["included"] == 1137
    assert counts["articles"] == 0                       # no titles file given


# ---------------------------------------------------------------- TrialMind-SLR

def test_trialmind_counts(trialmind):
    got = reviews_by_id(trialmind)
    files = sorted((SR / "trialmind_slr" / "search_screen").glob("*.json"))
    assert sorted(got) == [f"trialmind:{f.stem}" for f in files]
    no_pmid_rows = 0
    for f in files:
        data = json.loads(f.read_text())
        expected = {t["pmid"] for t in data["trials"]}
        table_path = SR / "trialmind_slr" / "study_characteristics" / f"{f.stem}.csv"
        if table_path.exists():
            for row in csv.DictReader(table_path.open(encoding="utf-8-sig")):
                cell = row.get("PMID", "").replace(",", " ").split()
                expected |= set(cell)
                no_pmid_rows += not cell
        r = got[f"trialmind:{f.stem}"]
        assert r["candidates"] == r["included"] == r["included_final"] == len(expected)
        assert set(rels(trialmind, r["review_id"])) == {f"PMID:{p}" for p in expected}
    assert Counter(s.reason.split(":")[0] for s in trialmind.skipped) == {"no id": no_pmid_rows}


def test_trialmind_real_values(trialmind):
    r = reviews_by_id(trialmind)["trialmind:32306958"]
    assert r["title"].startswith("Are immune-related adverse events associated with the efficacy of immune")
    assert r["selection_criteria"].startswith("Population: Patients with cancer undergoing treatment with immune "
                                              "checkpoint inhibitors (ICIs)\nIntervention: The occurrence of")
    assert r["background"].startswith("Background: A number of studies have reported an association")
    assert r["review_pmid"] == "32306958"
    assert rels(trialmind, "trialmind:32306958")["PMID:30539281"]["label"] == "included"
    monaleesa = rels(trialmind, "trialmind:32899139")["PMID:29718092"]
    assert monaleesa["study_id"] == "NCT01958021"
    art = {a.article_id: a for a in trialmind.articles}["PMID:29718092"]
    assert art.title.startswith("Updated results from MONALEESA-2")
    assert art.databank_ids == ["ClinicalTrials.gov:NCT01958021"]
    assert reviews_by_id(trialmind)["trialmind:32621264"]["objectives"].startswith(
        "To assess the superiority of PEGylated G-CSF for CIN in breast cancer")


def test_read_reviews_dispatches_and_rejects_unknown_formats():
    assert read_reviews("clef_tar", [SR / "clef_tar" / "CD011571"]).review_ids == ["clef_tar:CD011571"]
    with pytest.raises(ValueError, match="unknown review format 'cochrane'"):
        read_reviews("cochrane", [SR])
