"""The linker's normalisation table: each rule, on condition and drug names from the fixtures."""
import pytest

from trialpanorama_dagster.ontologies.normalise import exact, normalise

CONDITION_TABLE = [
    # possessive, case
    ("Alzheimer's disease", "alzheimer disease"),
    ("Alzheimer’s Disease", "alzheimer disease"),
    # British spellings
    ("Acute Leukaemia", "acute leukemia"),
    ("Oesophageal tumours", "esophageal tumor"),
    ("Paediatric Oedema", "edema pediatric"),
    ("Haemophilia", "hemophilia"),
    # plurals (-ies, -s; not -ss, -us, -is)
    ("Therapies", "therapy"),
    ("Breast Neoplasms", "breast neoplasm"),
    ("Diabetes Mellitus", "diabete mellitus"),
    ("Tuberculosis", "tuberculosis"),
    ("Abscess", "abscess"),
    # inverted word order, punctuation, stop words
    ("Neoplasms, Breast", "breast neoplasm"),
    ("Cancer of the Breast", "breast cancer"),
    ("Type 2 diabetes mellitus", "2 diabete mellitus type"),
    ("Diabetes Mellitus, Type 2", "2 diabete mellitus type"),
    ("COVID-19.", "19 covid"),
    # accents
    ("Maladie de Crohn – sévère", "crohn de maladie severe"),
    # nothing left
    ("  ", ""),
    ("---", ""),
]

DRUG_TABLE = [
    ("Dectova 10 mg/mL solution for infusion", "dectova"),
    ("Masitinib mesilate", "masitinib"),
    ("Almitrine Bimesylate", "almitrine"),
    ("Metformin Hydrochloride 500 MG Oral Tablet", "metformin"),
    ("Cétuximab®", "cetuximab"),
    ("Hydroxychloroquine sulphate 200mg film-coated tablets", "hydroxychloroquine"),
    ("Vitamin D3 1000 IU", "d3 vitamin"),
    # stripping would leave nothing: the name stays itself
    ("Sodium Chloride", "chloride sodium"),
    ("Calcium", "calcium"),
    ("Zinc sulfate", "sulfate zinc"),
    # salts / dosage words are only removed for drugs
]


@pytest.mark.parametrize("term,expected", CONDITION_TABLE)
def test_condition_normalisation(term, expected):
    assert normalise(term, "condition") == expected


@pytest.mark.parametrize("term,expected", DRUG_TABLE)
def test_drug_normalisation(term, expected):
    assert normalise(term, "drug") == expected


def test_salt_and_dosage_words_stay_in_condition_names():
    assert normalise("Sodium deficiency", "condition") == "deficiency sodium"
    assert normalise("Oral mucositis", "condition") == "mucositis oral"


def test_normalisation_is_deterministic_and_idempotent_on_its_output():
    for term, _ in CONDITION_TABLE + DRUG_TABLE:
        once = normalise(term, "drug")
        assert normalise(term, "drug") == once
        assert normalise(once, "drug") == once


def test_exact_key_only_folds_case_and_outer_space():
    assert exact("  Breast Neoplasms ") == "breast neoplasms"
    assert exact("Neoplasms, Breast") == "neoplasms, breast"
