"""Registry-id recognition: every family from its noisy forms, dummies rejected, ids in real free text."""
import csv
import re

import orjson
import pytest

from trialpanorama_dagster.registries.ids import (FAMILY_REGISTRY, RegistryId, find_ids, match_key,
                                                  normalise_id, registry_of_id)
from tests.support.paths import CTGOV_V2_STUDIES, shared_fixtures

# (noisy form as found in registries / ICTRP / CT.gov secondary ids, family, canonical) - real ids
NOISY = [
    ("NCT03778229", "nct", "NCT03778229"),
    ("NCT 03869385", "nct", "NCT03869385"),
    ("nct02679573", "nct", "NCT02679573"),
    ("ＮＣＴ０４６６５０３７", "nct", "NCT04665037"),
    ("ClinicalTrials.gov Identifier: NCT04494412", "nct", "NCT04494412"),
    ("EUCTR2018-003012-51-DK", "eudract", "2018-003012-51"),
    ("EudraCT 2015-003026-14", "eudract", "2015-003026-14"),
    ("EudraCT No: 2018-001874-89", "eudract", "2018-001874-89"),
    ("2019-001155-39/GB", "eudract", "2019-001155-39"),
    ("2019-001155-39-3RD", "eudract", "2019-001155-39"),
    ("2019\u2013003842\u201334", "eudract", "2019-003842-34"),
    ("2023-505613-24-00", "ctis", "2023-505613-24-00"),
    ("EU CT 2022-500244-37-00", "ctis", "2022-500244-37-00"),
    ("2023-508143-51-01", "ctis", "2023-508143-51-01"),
    ("2023-505613-24", "ctis", "2023-505613-24"),
    ("ISRCTN: 14966673", "isrctn", "ISRCTN14966673"),
    ("isrctn12949496", "isrctn", "ISRCTN12949496"),
    ("ISRCTN 32938630", "isrctn", "ISRCTN32938630"),
    ("ACTRN12619000423112", "actrn", "ACTRN12619000423112"),
    ("ACTRN12620000421932p", "actrn", "ACTRN12620000421932"),
    ("ChiCTR2000029953", "chictr", "ChiCTR2000029953"),
    ("CHICTR2000034346", "chictr", "ChiCTR2000034346"),
    ("ChiCTR-IOR-17013456", "chictr", "ChiCTR-IOR-17013456"),
    ("chictr-trc-10000817", "chictr", "ChiCTR-TRC-10000817"),
    ("CTRI/2019/02/017575", "ctri", "CTRI/2019/02/017575"),
    ("CTRI/2009/091/000027", "ctri", "CTRI/2009/091/000027"),
    ("DRKS00017475", "drks", "DRKS00017475"),
    ("DRKS 00021134", "drks", "DRKS00021134"),
    ("JPRN-jRCTs051180199", "jrct", "jRCTs051180199"),
    ("JRCTS031190227", "jrct", "jRCTs031190227"),
    ("JPRN-jRCT2071200041", "jrct", "jRCT2071200041"),
    ("JPRN-UMIN000027229", "umin", "UMIN000027229"),
    ("UMIN-CTR000039686", "umin", "UMIN000039686"),
    ("JPRN-JapicCTI-194721", "japic", "JapicCTI-194721"),
    ("KCT0004211", "kct", "KCT0004211"),
    ("IRCT20100228003449N27", "irct", "IRCT20100228003449N27"),
    ("irct20200316046792n1", "irct", "IRCT20200316046792N1"),
    ("PACTR201908793583382", "pactr", "PACTR201908793583382"),
    ("RBR-96cy3k", "rbr", "RBR-96cy3k"),
    ("RBR-4NR86M", "rbr", "RBR-4nr86m"),
    ("RPCEC00000321", "rpcec", "RPCEC00000321"),
    ("LBCTR2020043495", "lbctr", "LBCTR2020043495"),
    ("TCTR20200321001", "tctr", "TCTR20200321001"),
    ("NL8578", "nl", "NL8578"),
    ("NL-OMON25012", "nl_omon", "NL-OMON25012"),
    ("NTR 7263", "ntr", "NTR7263"),
    ("PER-016-17", "per", "PER-016-17"),
    ("SLCTR/2019/012", "slctr", "SLCTR/2019/012"),
    ("ITMCTR2024000123", "itmctr", "ITMCTR2024000123"),
    ("U1111-1132-9442", "utrn", "U1111-1132-9442"),
    ("WHO UTN: U1111-1272-2514", "utrn", "U1111-1272-2514"),
    ("NL67751.078.18", "ccmo", "NL67751.078.18"),
]


@pytest.mark.parametrize("text,family,canonical", NOISY)
def test_every_family_normalises_from_noisy_forms(text, family, canonical):
    assert normalise_id(text) == RegistryId(family, canonical)
    # the canonical form is a fixed point
    assert normalise_id(canonical) == RegistryId(family, canonical)


def test_every_family_is_covered():
    assert {f for _, f, _ in NOISY} | {"jma"} == set(FAMILY_REGISTRY)


@pytest.mark.parametrize("text", [
    "NCT00000000", "NCT12345678", "NCT99999999", "NCT01234567", "ISRCTN00000000", "ISRCTN12345678",
    "ACTRN00000000000000", "DRKS00000000", "UMIN000000000", "TCTR12345678901",
    "NCT0377822", "NCT037782290", "ISRCTN1294949", "1999-003026-14", "2003-001234-11", "2027-003026-14",
    "2015-000000-14", "2021-500123-45-00", "ChiCTR200002995", "CTRI/1999/02/017575", "U1111-0000-0000",
    "D5084C00007", "2018-1227", "EK Nr. 301/2009", "19-004560", "2013-062", "Nil known", "", None,
    "NCT02679573;2015-003026-14",      # a list is not one id (find_ids reads lists)
])
def test_dummies_and_malformed_ids_are_rejected(text):
    assert normalise_id(text) is None


def test_family_hint_accepts_bare_numbers():
    assert normalise_id("12949496", "isrctn") == RegistryId("isrctn", "ISRCTN12949496")
    assert normalise_id("03778229", "ctgov") == RegistryId("nct", "NCT03778229")
    assert normalise_id("12345678", "isrctn") is None
    assert normalise_id("12949496") is None


def test_registry_of_id():
    expected = {"NCT03778229": "ctgov", "2018-001874-89": "euctr", "2023-505613-24-00": "ctis",
                "ISRCTN14966673": "isrctn", "ACTRN12619000423112": "anzctr", "ChiCTR2000029953": "chictr",
                "CTRI/2019/02/017575": "ctri", "DRKS00017475": "drks", "jRCTs051180199": "jprn",
                "UMIN000027229": "jprn", "JapicCTI-194721": "jprn", "KCT0004211": "cris",
                "IRCT20100228003449N27": "irct", "PACTR201908793583382": "pactr", "RBR-96cy3k": "rebec",
                "RPCEC00000321": "rpcec", "LBCTR2020043495": "lbctr", "TCTR20200321001": "tctr",
                "NL-OMON25012": "ntr", "NL8578": "ntr", "NTR7263": "ntr", "PER-016-17": "repec",
                "SLCTR/2019/012": "slctr", "ITMCTR2024000123": "itmctr", "U1111-1132-9442": None}
    assert {i: registry_of_id(i) for i in expected} == expected


def test_ctis_match_key_joins_three_and_four_part_numbers():
    assert match_key(normalise_id("2023-505613-24")) == match_key(normalise_id("2023-505613-24-00"))
    assert match_key(normalise_id("EUCTR2018-003012-51-DK")) == "2018-003012-51"


_REGISTER_CODES = {"ANZCTR": "anzctr", "CT.gov": "ctgov", "ClinicalTrials.gov": "ctgov", "CTRI": "ctri",
                   "ChiCTR": "chictr", "DRKS": "drks", "German Clinical Trials Register": "drks",
                   "EU Clinical Trials Register": "euctr", "EUCTR": "euctr", "IRCT": "irct", "ISRCTN": "isrctn",
                   "JPRN": "jprn", "KCT": "cris", "LBCTR": "lbctr", "NTR": "ntr", "Netherlands Trial Register": "ntr",
                   "PACTR": "pactr", "PER": "repec", "RBR": "rebec", "RPCEC": "rpcec", "TCTR": "tctr"}


def test_every_ictrp_trial_id_in_the_fixtures_maps_to_its_register():
    seen = 0
    for path in sorted((shared_fixtures() / "registries").rglob("*.csv")):
        with open(path, newline="", encoding="utf-8", errors="replace") as fh:
            for row in csv.DictReader(fh):
                tid = (row.get("TrialID") or "").strip()
                register = row.get("Source_registry") or row.get("Source Register") or row.get("Source_Register")
                if not tid or tid == "NA" or register not in _REGISTER_CODES:
                    continue
                rid = normalise_id(tid)
                assert rid is not None, (path.name, tid)
                assert rid.registry == _REGISTER_CODES[register], (path.name, tid, rid)
                expected = re.sub(r"^(JPRN-|EUCTR)|-[A-Z]{2,3}$", "", tid) if rid.family != "rbr" else tid
                assert rid.id == expected
                seen += 1
    assert seen > 200


def test_find_ids_in_ictrp_secondary_id_lists():
    assert find_ids("2018-001874-89;NCT03869385;2018-1227") == [
        RegistryId("eudract", "2018-001874-89"), RegistryId("nct", "NCT03869385")]
    assert find_ids("NCT02679573;2015-003026-14") == [
        RegistryId("nct", "NCT02679573"), RegistryId("eudract", "2015-003026-14")]
    assert find_ids("D5084C00007;NCT03778229") == [RegistryId("nct", "NCT03778229")]
    assert find_ids("Número parecer  337.287/2013;07364612.5.0000.5071") == []
    assert find_ids("Nil known;Nil known;MHREC 1554") == []


def test_find_ids_in_real_free_text():
    pubmed = (shared_fixtures() / "literature" / "pubmed" / "medline16n0902_subset.xml").read_text()
    start = pubmed.index("This trial is registered with the European Clinical Trials Database")
    sentence = pubmed[start:pubmed.index("</AbstractText>", start)]
    assert find_ids(sentence) == [RegistryId("eudract", "2010-019469-26"), RegistryId("isrctn", "ISRCTN69423238")]

    study = orjson.loads((CTGOV_V2_STUDIES / "NCT03630471.json").read_bytes())
    description = study["protocolSection"]["descriptionModule"]["detailedDescription"]
    assert RegistryId("nct", "NCT03633916") in find_ids(description)

    text = ("Registered as NCT 03778229 (EudraCT 2018-003012-51, EUCTR2018-003012-51-DK) and JPRN-UMIN000027229; "
            "see also ISRCTN: 14966673, WHO UTN U1111-1132-9442, CTRI/2020/05/025335; dummy NCT00000000 and "
            "NCT12345678 ignored; NCT03778229 repeated")
    assert [r.id for r in find_ids(text)] == [
        "NCT03778229", "2018-003012-51", "UMIN000027229", "ISRCTN14966673", "U1111-1132-9442",
        "CTRI/2020/05/025335"]


def test_find_ids_ignores_lookalikes():
    assert find_ids("The NL1 cohort, phone 2015-123456-12345, grant R01-HL123456, NCT0123, born 2018-05-04") == []
