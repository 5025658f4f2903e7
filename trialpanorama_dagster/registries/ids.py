"""Trial-registry identifiers: recognise, normalise and find them (pure, no I/O).

Every family has one compiled pattern that tolerates the noise seen in secondary-id fields and
free text ("NCT 01234567", "ISRCTN: 12345678", "EUCTR2015-003026-14-DE", "JPRN-UMIN000012345",
lower case, full-width digits, typographic dashes) and a builder that returns the canonical id the
registry parsers use as ``study_id``. Dummy ids (NCT00000000, NCT12345678, ISRCTN12345678, any
all-same or 0123…/1234… digit run) and impossible EudraCT / CTIS years are rejected.

``utrn`` (WHO Universal Trial Number ``U1111-NNNN-NNNN``) and ``ccmo`` (Dutch CCMO number
``NL12345.678.90``) are shared-registration keys, not study ids: ``registry_of_id`` gives None.
CTIS numbers quoted without their last part (``2023-505613-24``) keep three parts; ``match_key``
reduces any CTIS number to that trial-level base so both forms meet in the linkage.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Callable, NamedTuple


class RegistryId(NamedTuple):
    family: str
    id: str

    @property
    def registry(self) -> str | None:
        return FAMILY_REGISTRY.get(self.family)


# family -> study_source code of the registry that issues it (None: a key, not a study id)
FAMILY_REGISTRY: dict[str, str | None] = {
    "nct": "ctgov", "eudract": "euctr", "ctis": "ctis", "isrctn": "isrctn", "actrn": "anzctr",
    "chictr": "chictr", "ctri": "ctri", "drks": "drks", "jrct": "jprn", "umin": "jprn",
    "japic": "jprn", "jma": "jprn", "kct": "cris", "irct": "irct", "pactr": "pactr", "rbr": "rebec",
    "rpcec": "rpcec", "lbctr": "lbctr", "tctr": "tctr", "nl_omon": "ntr", "nl": "ntr", "ntr": "ntr",
    "per": "repec", "slctr": "slctr", "itmctr": "itmctr", "utrn": None, "ccmo": None,
}
# study_source -> the family its own ids belong to (a family_hint may name either)
SOURCE_FAMILY = {"ctgov": "nct", "euctr": "eudract", "ctis": "ctis", "isrctn": "isrctn", "anzctr": "actrn",
                 "chictr": "chictr", "ctri": "ctri", "drks": "drks", "cris": "kct", "irct": "irct",
                 "pactr": "pactr", "rebec": "rbr", "rpcec": "rpcec", "lbctr": "lbctr", "tctr": "tctr",
                 "repec": "per", "slctr": "slctr", "itmctr": "itmctr"}

_B = r"(?<![A-Za-z0-9])"      # left boundary
_E = r"(?![0-9])"              # right boundary after digits
_SEP = r"[\s:#.-]{0,3}"        # "NCT 0123", "ISRCTN: 1234", "DRKS-0001"

# (family, pattern, builder(match) -> canonical or None); order matters for find_ids ties
_SPEC: list[tuple[str, str]] = [
    ("nct", rf"{_B}NCT{_SEP}(?P<nct>\d{{8}}){_E}"),
    ("eu", rf"(?:{_B}EUCTR-?|{_B}EU-?CT[\s:#]*|{_B})(?P<eu_y>(?:19|20)\d\d)-(?P<eu_n>\d{{6}})-(?P<eu_c>\d\d)"
           rf"(?:-(?P<eu_v>\d\d))?(?![0-9])(?:[-/](?:[A-Za-z]{{2}}|3RD)(?![A-Za-z0-9]))?"),
    ("isrctn", rf"{_B}(?:ISRCTN|International Standard Randomi[sz]ed Controlled Trials?,?(?: number| no\.?)?)"
               rf"{_SEP}(?P<isrctn>\d{{8}}){_E}"),
    ("actrn", rf"{_B}ACTRN{_SEP}(?P<actrn>\d{{14}})P?(?![0-9A-Za-z])"),
    ("chictr", rf"{_B}ChiCTR(?:[\s-]?(?P<chi_t>[A-Z]{{3}})[\s-]?(?P<chi_o>\d{{8}})|[\s-]?(?P<chi_n>\d{{10}})){_E}"),
    ("ctri", rf"{_B}CTRI[\s:]*/?\s*(?P<ctri_y>\d{{4}})\s*/\s*(?P<ctri_m>\d{{2,3}})\s*/\s*(?P<ctri_n>\d{{6}}){_E}"),
    ("drks", rf"{_B}DRKS{_SEP}(?P<drks>\d{{8}}){_E}"),
    ("jrct", rf"(?:{_B}JPRN-)?{_B}jRCT(?:(?P<jrct_s>s)(?P<jrct_9>\d{{9}})|(?P<jrct_10>\d{{10}})){_E}"),
    ("umin", rf"(?:{_B}JPRN-)?{_B}UMIN(?:-?CTR)?{_SEP}(?P<umin>\d{{9}}){_E}"),
    ("japic", rf"(?:{_B}JPRN-)?{_B}JapicCTI[\s-]?(?P<japic>\d{{6}}){_E}"),
    ("jma", rf"(?:{_B}JPRN-)?{_B}JMA-?IIA(?P<jma>\d{{5}}){_E}"),
    ("kct", rf"{_B}KCT{_SEP}(?P<kct>\d{{7}}){_E}"),
    ("irct", rf"{_B}IRCT{_SEP}(?P<irct>\d{{10,14}}N\d{{1,4}}){_E}"),
    ("pactr", rf"{_B}PACTR{_SEP}(?P<pactr>\d{{15}}){_E}"),
    ("rbr", rf"{_B}RBR[\s-]?(?P<rbr>[0-9A-Za-z]{{6,8}})(?![0-9A-Za-z])"),
    ("rpcec", rf"{_B}RPCEC{_SEP}(?P<rpcec>\d{{8}}){_E}"),
    ("lbctr", rf"{_B}LBCTR{_SEP}(?P<lbctr>\d{{10}}){_E}"),
    ("tctr", rf"{_B}TCTR{_SEP}(?P<tctr>\d{{11}}){_E}"),
    ("nl_omon", rf"{_B}NL-?OMON(?P<omon>\d{{1,7}}){_E}"),
    ("ccmo", rf"{_B}(?-i:NL)(?P<ccmo>\d{{5}}\.\d{{3}}\.\d{{2}}){_E}"),
    ("nl", rf"{_B}(?-i:NL)(?P<nl>\d{{1,5}})(?![0-9.])"),
    ("ntr", rf"{_B}NTR{_SEP}(?P<ntr>\d{{1,4}}){_E}"),
    ("per", rf"{_B}PER-(?P<per_a>\d{{3}})-(?P<per_b>\d{{2}}){_E}"),
    ("slctr", rf"{_B}SLCTR\s*/\s*(?P<slctr_y>\d{{4}})\s*/\s*(?P<slctr_n>\d{{3}}){_E}"),
    ("itmctr", rf"{_B}ITMCTR{_SEP}(?P<itmctr>\d{{6,14}}){_E}"),
    ("utrn", rf"{_B}U\s?1111[\s-](?P<utrn_a>\d{{4}})[\s-](?P<utrn_b>\d{{4}}){_E}"),
]
_FAMILY_RE = {fam: re.compile(p, re.IGNORECASE) for fam, p in _SPEC}
_ANY_RE = re.compile("|".join(f"(?P<F_{fam}>{p})" for fam, p in _SPEC), re.IGNORECASE)

# bare numbers that a family_hint turns into an id (registries that store digits only)
_BARE = {
    "nct": (re.compile(r"(\d{8})"), "NCT{}"), "isrctn": (re.compile(r"(\d{8})"), "ISRCTN{}"),
    "actrn": (re.compile(r"(\d{14})P?", re.I), "ACTRN{}"), "drks": (re.compile(r"(\d{8})"), "DRKS{}"),
    "kct": (re.compile(r"(\d{7})"), "KCT{}"), "pactr": (re.compile(r"(\d{15})"), "PACTR{}"),
    "umin": (re.compile(r"(\d{9})"), "UMIN{}"), "tctr": (re.compile(r"(\d{11})"), "TCTR{}"),
    "rpcec": (re.compile(r"(\d{8})"), "RPCEC{}"), "lbctr": (re.compile(r"(\d{10})"), "LBCTR{}"),
    "ntr": (re.compile(r"(\d{1,4})"), "NTR{}"), "nl_omon": (re.compile(r"(\d{1,7})"), "NL-OMON{}"),
}
_NOISE = re.compile(
    r"^(?:(?:who|universal trial number|utn|utrn|eudract|eu\s?ct|ctis|clinicaltrials\.gov|clinical\s?trials\.gov|"
    r"ct\.gov|identifier|registration|registry|reg\.?|trial|number|no\.?|nr\.?|n°|id|#)(?![A-Za-z])[\s:.#=-]*)+", re.I)
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"), "-")
_NCT_DUMMIES = {"NCT00000000", "NCT12345678", "NCT99999999", "NCT01234567", "NCT87654321"}
_MAX_YEAR = dt.date.today().year + 1


def clean(text: str) -> str:
    """NFKC (full-width -> ASCII), typographic dashes -> '-', no zero-width characters."""
    text = unicodedata.normalize("NFKC", text).translate(_DASHES)
    return text.replace("\u200b", "").replace("\ufeff", "")


def is_dummy_digits(digits: str) -> bool:
    """All one digit (00000000, 99999999) or a run counting up/down by one (12345678, 01234567).

    Only runs of six or more digits: short registry numbers (NTR1234, NL12345) can be real.
    """
    if len(digits) < 6:
        return False
    if len(set(digits)) == 1:
        return True
    steps = {(int(b) - int(a)) % 10 for a, b in zip(digits, digits[1:])}
    return steps in ({1}, {9})


def _num(digits: str, fmt: str) -> str | None:
    return None if is_dummy_digits(digits) else fmt.format(digits)


def _eu(m) -> RegistryId | None:
    year, seq, check, ver = int(m["eu_y"]), m["eu_n"], m["eu_c"], m["eu_v"]
    if seq.startswith("5") and 2022 <= year <= _MAX_YEAR:          # CTIS EU CT number
        if is_dummy_digits(seq[1:]):
            return None
        base = f"{year}-{seq}-{check}"
        return RegistryId("ctis", f"{base}-{ver}" if ver else base)
    if ver or not 2004 <= year <= 2023 or set(seq) == {"0"} or is_dummy_digits(seq):
        return None                                                  # EudraCT ran 2004 .. 2023-01
    return RegistryId("eudract", f"{year}-{seq}-{check}")


def _chictr(m) -> RegistryId | None:
    if m["chi_n"]:
        return None if is_dummy_digits(m["chi_n"]) else RegistryId("chictr", "ChiCTR" + m["chi_n"])
    return None if is_dummy_digits(m["chi_o"]) else RegistryId("chictr", f"ChiCTR-{m['chi_t'].upper()}-{m['chi_o']}")


def _jrct(m) -> RegistryId | None:
    if m["jrct_9"]:
        return None if is_dummy_digits(m["jrct_9"]) else RegistryId("jrct", "jRCTs" + m["jrct_9"])
    return None if is_dummy_digits(m["jrct_10"]) else RegistryId("jrct", "jRCT" + m["jrct_10"])


def _simple(fam: str, group: str, fmt: str) -> Callable:
    def build(m):
        cid = _num(m[group], fmt)
        return RegistryId(fam, cid) if cid else None
    return build


def _ctri(m):
    if not 2007 <= int(m["ctri_y"]) <= _MAX_YEAR or is_dummy_digits(m["ctri_n"]):
        return None
    return RegistryId("ctri", f"CTRI/{m['ctri_y']}/{m['ctri_m']}/{m['ctri_n']}")


def _nct(m):
    cid = "NCT" + m["nct"]
    return None if cid in _NCT_DUMMIES or is_dummy_digits(m["nct"]) else RegistryId("nct", cid)


_BUILD: dict[str, Callable] = {
    "nct": _nct, "eu": _eu, "chictr": _chictr, "jrct": _jrct, "ctri": _ctri,
    "isrctn": _simple("isrctn", "isrctn", "ISRCTN{}"), "actrn": _simple("actrn", "actrn", "ACTRN{}"),
    "drks": _simple("drks", "drks", "DRKS{}"), "umin": _simple("umin", "umin", "UMIN{}"),
    "japic": _simple("japic", "japic", "JapicCTI-{}"), "jma": _simple("jma", "jma", "JMA-IIA{}"),
    "kct": _simple("kct", "kct", "KCT{}"), "pactr": _simple("pactr", "pactr", "PACTR{}"),
    "rpcec": _simple("rpcec", "rpcec", "RPCEC{}"), "lbctr": _simple("lbctr", "lbctr", "LBCTR{}"),
    "tctr": _simple("tctr", "tctr", "TCTR{}"), "nl_omon": _simple("nl_omon", "omon", "NL-OMON{}"),
    "nl": _simple("nl", "nl", "NL{}"), "ntr": _simple("ntr", "ntr", "NTR{}"),
    "itmctr": _simple("itmctr", "itmctr", "ITMCTR{}"),
    "irct": lambda m: RegistryId("irct", "IRCT" + m["irct"].upper()),
    "rbr": lambda m: RegistryId("rbr", "RBR-" + m["rbr"].lower()),
    "per": lambda m: RegistryId("per", f"PER-{m['per_a']}-{m['per_b']}"),
    "slctr": lambda m: RegistryId("slctr", f"SLCTR/{m['slctr_y']}/{m['slctr_n']}"),
    "utrn": lambda m: None if is_dummy_digits(m["utrn_a"] + m["utrn_b"])
    else RegistryId("utrn", f"U1111-{m['utrn_a']}-{m['utrn_b']}"),
    "ccmo": lambda m: RegistryId("ccmo", "NL" + m["ccmo"]),
}
_HINT_ALIASES = {"eudract": "eu", "ctis": "eu", "euctr": "eu"}


def _hint_family(hint: str | None) -> str | None:
    if not hint:
        return None
    hint = hint.lower()
    hint = SOURCE_FAMILY.get(hint, hint)
    return hint if hint in FAMILY_REGISTRY else None


def normalise_id(text: str | None, family_hint: str | None = None) -> RegistryId | None:
    """One registry id written with noise -> its canonical form; None when malformed or a dummy.

    The whole value must be the id (plus noise words such as "EudraCT No:", "WHO UTN"); a value
    holding other text is not an id (use ``find_ids`` on free text). ``family_hint`` (a family or
    a study_source code) also lets bare digits through for registries that store digits only.
    """
    if not text or not isinstance(text, str):
        return None
    value = _NOISE.sub("", clean(text).strip()).strip(" \t\r\n.;,()[]")
    if not value:
        return None
    for fam, pattern in _FAMILY_RE.items():
        m = pattern.fullmatch(value)
        if m and (rid := _BUILD[fam](m)) is not None:
            return rid
    hint = _hint_family(family_hint)
    if hint in _BARE:
        pattern, fmt = _BARE[hint]
        m = pattern.fullmatch(value)
        if m and not is_dummy_digits(m[1]) and fmt.format(m[1]) not in _NCT_DUMMIES:
            return RegistryId(hint, fmt.format(m[1]))
    return None


def find_ids_with_spans(text: str | None) -> list[tuple[RegistryId, int, int]]:
    """Every valid id occurrence in free text with its span in ``clean(text)``.

    Free text asks more of the Dutch ``NL<n>`` form than ``normalise_id`` does: four digits at least.
    """
    if not text:
        return []
    out = []
    for m in _ANY_RE.finditer(clean(text)):
        rid = _BUILD[m.lastgroup[2:]](m)      # the outer F_<family> group closes last
        if rid is not None and not (rid.family == "nl" and len(rid.id) < 6):   # "NL1 cohort" is no id
            out.append((rid, m.start(), m.end()))
    return out


def find_ids(text: str | None) -> list[RegistryId]:
    """Every registry id named in free text, in order of appearance, each once."""
    seen: dict[RegistryId, None] = {}
    for rid, _, _ in find_ids_with_spans(text):
        seen.setdefault(rid)
    return list(seen)


def registry_of_id(canonical: str | None) -> str | None:
    """The study_source code of the registry that issued a canonical id (None for keys such as UTRN)."""
    rid = normalise_id(canonical)
    return rid.registry if rid else None


def match_key(rid: RegistryId) -> str:
    """The key two mentions of one trial share: the canonical id, CTIS reduced to its base."""
    if rid.family == "ctis":
        return rid.id[:14]
    return rid.id
