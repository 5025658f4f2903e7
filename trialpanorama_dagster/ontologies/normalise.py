"""Deterministic normalisation of condition and drug names, as vectorised polars expressions.

Two keys are computed for every registry term and every dictionary name, by the same code:

``exact_key``
    Lower-cased, surrounding whitespace stripped (nothing else: it must be cheap). Equal exact keys are the ``exact``
    (preferred name) and ``synonym`` (entry term / synonym) methods of the linker.
``norm_key``
    What remains comparable after removing what does not change the concept, in this order:

    1. accents (NFKD, combining marks dropped), trademark signs, possessive ``'s``;
    2. British spellings (``leukaemia``, ``tumour``, ``oedema``, ``oesophagus``, ``paediatric`` ...);
    3. for drugs only: strengths (``10 mg/mL``, ``0.9%``), dosage words (``tablet``, ``solution
       for infusion``, ``film-coated``, ``extended release`` ...) and salt / hydrate words
       (``hydrochloride``, ``mesilate``, ``sodium`` ...) — unless nothing else would remain
       (``sodium chloride`` stays itself);
    4. punctuation to spaces, stop words (``of``, ``the``, ``a``, ``an``) dropped;
    5. plural endings per word (``-ies`` → ``-y``; a final ``s`` after 3+ letters unless the
       word ends in ``ss``/``us``/``is``);
    6. words sorted, so ``Neoplasms, Breast`` and ``Breast Neoplasm`` share one key.

Everything is a polars string expression (Rust regex), so a million names normalise in well
under a second per core; :func:`normalise` runs the same expressions on a single string.
"""
from __future__ import annotations

import polars as pl

CONDITION = "condition"
DRUG = "drug"

# British -> American spellings, as literal substrings (one Aho-Corasick pass)
_BRITISH = {
    "aemi": "emi", "tumour": "tumor", "oedem": "edem", "oesophag": "esophag", "diarrhoea": "diarrhea",
    "paed": "ped", "haem": "hem", "foet": "fet", "anaesth": "anesth", "oestr": "estr", "coeliac": "celiac",
    "gynaecol": "gynecol", "sulph": "sulf", "fibre": "fiber", "centre": "center", "behaviour": "behavior",
}
# Strengths and concentrations: "10 mg", "0.9%", "5 mg/kg", "100 iu/ml", "2x10^9 cells"
_STRENGTH = (r"\b\d+(?:[.,]\d+)?\s*(?:%|(?:mg|mcg|µg|ug|ng|g|kg|ml|l|iu|units?|mmol|meq|mbq|gbq|gy|cells?)"
             r"(?:\s*/\s*(?:kg|m2|ml|l|dose|day|d|h|hr|hour|vial|g))?\b)")
_DOSAGE_WORDS = (
    "tablets?", "capsules?", "caplets?", "injections?", "injectable", "infusions?", "solutions?",
    "suspensions?", "emulsions?", "concentrate", "powder", "granules?", "syrup", "drops?", "sprays?",
    "inhalers?", "inhalation", "nebuli[sz]er", "creams?", "ointments?", "gels?", "lotion", "patch(?:es)?",
    "suppositor(?:y|ies)", "lozenges?", "vials?", "ampoules?", "prefilled", "pre-filled", "syringes?",
    "pens?", "film-coated", "film coated", "coated", "extended[- ]release", "modified[- ]release",
    "prolonged[- ]release", "sustained[- ]release", "delayed[- ]release", "controlled[- ]release",
    "immediate[- ]release", "orally", "oral", "intravenous(?:ly)?", "iv", "subcutaneous(?:ly)?", "sc",
    "intramuscular(?:ly)?", "im", "topical", "for", "and water", "dose", "doses", "dosage", "daily",
    "once", "twice", "bid", "tid", "qd", "er", "xr", "sr", "xl", "la", "dr", "ir",
)
_SALT_WORDS = (
    "hydrochloride", "dihydrochloride", "hcl", "hydrobromide", "mesylate", "mesilate", "bimesylate",
    "bismesylate", "dimesylate", "besylate", "besilate", "maleate", "fumarate", "hemifumarate",
    "succinate", "tartrate", "bitartrate", "citrate", "sulfate", "sulphate", "bisulfate", "phosphate",
    "diphosphate", "acetate", "diacetate", "propionate", "dipropionate", "valerate", "butyrate",
    "bromide", "chloride", "iodide", "nitrate", "lactate", "gluconate", "tosylate", "tosilate",
    "edisylate", "napsylate", "pamoate", "embonate", "stearate", "palmitate", "decanoate",
    "enanthate", "cypionate", "trometamol", "tromethamine", "meglumine", "sodium", "disodium",
    "potassium", "dipotassium", "calcium", "magnesium", "zinc", "lysine", "arginine", "monohydrate",
    "dihydrate", "trihydrate", "sesquihydrate", "hemihydrate", "hydrate", "anhydrous", "free base", "base",
)
_STOP_WORDS = ("of", "the", "a", "an")


def _alternation(words) -> str:
    return r"\b(?:" + "|".join(words) + r")\b"


def exact_key(expr: pl.Expr) -> pl.Expr:
    return expr.str.to_lowercase().str.strip_chars()


def norm_key(expr: pl.Expr, domain: str = CONDITION, ascii_only: bool = False) -> pl.Expr:
    """``ascii_only``: the caller knows every string is ASCII, so the Unicode decomposition that
    strips accents can be skipped (it gives the same keys on ASCII text)."""
    e = expr if ascii_only else expr.str.normalize("NFKD").str.replace_all(r"\p{M}", "")
    e = (e.str.to_lowercase()
         .str.replace_all(r"['’`´]s\b|[®™©]", "")
         .str.replace_many(list(_BRITISH), list(_BRITISH.values())))
    if domain == DRUG:
        e = _strip_drug_words(e)
    # punctuation, stop words and runs of spaces become one space, in one pass
    e = (e.str.replace_all(r"(?:[^\p{L}\p{N}]|" + _alternation(_STOP_WORDS) + r")+", " ")
         .str.replace_all(r"\b(\p{L}{2,})ies\b", "${1}y")
         .str.replace_all(r"\b(\p{L}{2,}[^\Wsui])s\b", "${1}")
         .str.strip_chars())
    return e.str.split(" ").list.sort().list.join(" ")


_DRUG_WORDS = "|".join((_STRENGTH, _alternation(_DOSAGE_WORDS), _alternation(_SALT_WORDS)))


def _strip_drug_words(e: pl.Expr) -> pl.Expr:
    stripped = e.str.replace_all(_DRUG_WORDS, " ")
    # keep the unstripped name when stripping would leave no letters ("sodium chloride")
    return pl.when(stripped.str.contains(r"[a-z]{2}")).then(stripped).otherwise(e)


def all_ascii(values: pl.Series) -> bool:
    return not values.str.contains(r"[^\x00-\x7F]").any()


def normalise(term: str, domain: str = CONDITION) -> str:
    """The ``norm_key`` of one string (the same expressions as the vectorised path)."""
    return pl.select(norm_key(pl.lit(term, dtype=pl.String), domain, term.isascii())).item()


def exact(term: str) -> str:
    return pl.select(exact_key(pl.lit(term, dtype=pl.String))).item()


def add_keys(df: pl.DataFrame, column: str, domain: str) -> pl.DataFrame:
    """Add ``exact_key`` and ``norm_key`` columns computed from ``column``."""
    return df.with_columns(exact_key(pl.col(column)).alias("exact_key"),
                           norm_key(pl.col(column), domain, all_ascii(df[column])).alias("norm_key"))
