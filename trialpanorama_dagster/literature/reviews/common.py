"""Helpers the collection readers share: file reading with errors that name the file, identifiers
(PMID / DOI / OpenAlex from bare values or URLs), review-setup text and article records."""
from __future__ import annotations

import csv
import html
import json
import re
from functools import lru_cache
from pathlib import Path

from ...registries.ids import clean as id_clean
from ...registries.ids import find_ids
from ..store import Article, article_id_for, payload_hash
from .model import ReviewFileError

# PubMed DataBankName of each registry-id family (the PubMed parser stores "<DataBankName>:<id>")
_DATABANK = {"nct": "ClinicalTrials.gov", "isrctn": "ISRCTN", "eudract": "EudraCT", "actrn": "ANZCTR",
             "chictr": "ChiCTR", "ctri": "CTRI", "drks": "DRKS", "kct": "CRiS", "irct": "IRCT",
             "pactr": "PACTR", "rbr": "ReBec", "rpcec": "RPCEC", "slctr": "SLCTR", "tctr": "TCTR",
             "umin": "UMIN CTR", "jrct": "JPRN", "japic": "JapicCTI", "jma": "JMACCT", "ntr": "NTR",
             "nl": "NTR", "nl_omon": "NTR"}


# ---------------------------------------------------------------- files

def existing(paths) -> list[Path]:
    """The given paths as ``Path``; a missing one is an error that names it."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    out = [Path(p) for p in paths]
    for p in out:
        if not p.exists():
            raise ReviewFileError(p, "no such file or folder")
    if not out:
        raise ReviewFileError(Path("."), "no paths given")
    return out


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReviewFileError(path, f"cannot read: {exc}") from exc


def read_json(path: Path):
    try:
        return json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise ReviewFileError(path, f"not valid JSON: {exc}") from exc


def read_jsonl(path: Path) -> list[tuple[int, dict]]:
    """(line number, object) for every non-blank line; a broken line is an error naming file and line."""
    out = []
    for n, line in enumerate(read_text(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ReviewFileError(path, f"line {n} is not valid JSON: {exc}") from exc
        if not isinstance(obj, dict):
            raise ReviewFileError(path, f"line {n} is not a JSON object")
        out.append((n, obj))
    return out


def read_csv(path: Path, required: tuple[str, ...] = ()) -> list[dict[str, str]]:
    """Rows of a CSV with a header; the ``required`` columns must be there."""
    text = read_text(path)
    try:
        reader = csv.DictReader(text.splitlines())
        rows = [{(k or "").strip(): (v or "") for k, v in row.items()} for row in reader]
        header = [h.strip() for h in reader.fieldnames or []]
    except csv.Error as exc:
        raise ReviewFileError(path, f"not a readable CSV: {exc}") from exc
    missing = [c for c in required if c not in header]
    if missing:
        raise ReviewFileError(path, f"missing column(s) {', '.join(missing)} (header: {', '.join(header) or 'none'})")
    return rows


def csv_header(path: Path) -> list[str]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            return [h.strip() for h in next(csv.reader(fh), [])]
    except (OSError, UnicodeDecodeError, csv.Error):
        return []


def guarded(result, path, read, *args) -> bool:
    """Run one review's reader; a file it cannot use becomes a skipped item naming the file."""
    try:
        read(*args)
        return True
    except ReviewFileError as exc:
        result.skip(exc.path, f"unreadable: {exc.message}", path=exc.path)
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        result.skip(path, f"unreadable: unexpected content ({type(exc).__name__}: {exc})", path=path)
    return False


# ---------------------------------------------------------------- identifiers

_PMID_RE = re.compile(r"^(?:https?://(?:www\.)?(?:pubmed\.ncbi\.nlm\.nih\.gov|ncbi\.nlm\.nih\.gov/pubmed)/)?"
                      r"(?:PMID:?\s*)?(\d{1,9})(?:\.0)?/?$", re.IGNORECASE)
_DOI_RE = re.compile(r"(10\.\d{4,9}/\S+)")
_OPENALEX_RE = re.compile(r"(?:https?://openalex\.org/)?(W\d+)$", re.IGNORECASE)


def pmid_of(value) -> str | None:
    """A PMID from ``12345``, ``"12345 "``, ``12345.0`` or a PubMed URL; None otherwise."""
    if value is None:
        return None
    m = _PMID_RE.match(str(value).strip())
    if not m or int(m.group(1)) == 0:
        return None
    return str(int(m.group(1)))


def pmid_list(values, b, what: str, path, prefix: str | None = None) -> list[str]:
    """The PMIDs among ``values``; every other value is skipped on ``b`` (a ReviewBuilder) with the
    reason, as ``<prefix>:<value>`` (prefix: the review id)."""
    out = []
    for v in values or []:
        pmid = pmid_of(v)
        if pmid:
            out.append(pmid)
        else:
            b.skip(f"{prefix or b.review_id}:{v}", f"no id: {v!r} in {what} is not a PMID", path)
    return out


def doi_of(value) -> str | None:
    """A DOI (lower case) from a bare DOI or a doi.org URL."""
    if not value:
        return None
    m = _DOI_RE.search(str(value).strip())
    return m.group(1).rstrip(".").lower() if m else None


def openalex_of(value) -> str | None:
    if not value:
        return None
    m = _OPENALEX_RE.search(str(value).strip())
    return f"openalex:{m.group(1).upper()}" if m else None


def resolve_id(pmid: str | None = None, doi: str | None = None, openalex: str | None = None) -> str | None:
    try:
        return article_id_for(pmid, doi, openalex)
    except ValueError:
        return None


# a cheap superset of the registry-id patterns (each starts at a word boundary with one of these), so
# most abstracts skip the full search
_ID_HINT = re.compile(r"(?<![A-Za-z0-9])(?:NCT|ISRCTN|International Standard|EUCTR|EU-?CT|ACTRN|ChiCTR|CTRI|DRKS|"
                      r"jRCT|JPRN|UMIN|Japic|JMA|KCT|IRCT|PACTR|RBR|RPCEC|LBCTR|TCTR|NL-?OMON|NTR|PER-\d|SLCTR|"
                      r"ITMCTR|U\s?1111|(?:19|20)\d\d-\d{6}-\d\d)", re.IGNORECASE)
_NL_HINT = re.compile(r"(?<![A-Za-z0-9])NL\d")


@lru_cache(maxsize=4096)
def _registry_hits(texts: tuple) -> list:
    text = id_clean("\n".join(str(t) for t in texts if t))
    if not (_ID_HINT.search(text) or _NL_HINT.search(text)):
        return []
    return [rid for rid in find_ids(text) if rid.registry]


def registry_ids(*texts: str | None) -> list[str]:
    """Canonical registry ids (NCT…, ISRCTN…) named in the texts, each once, keys (UTRN) left out."""
    return list(dict.fromkeys(rid.id for rid in _registry_hits(tuple(texts))))


def databank_ids(*texts: str | None) -> list[str]:
    """The same ids as PubMed's DataBank entries (``ClinicalTrials.gov:NCT…``)."""
    return list(dict.fromkeys(f"{_DATABANK.get(rid.family, rid.family.upper())}:{rid.id}"
                              for rid in _registry_hits(tuple(texts))))


# ---------------------------------------------------------------- text

def clean(text) -> str | None:
    """Stripped text with HTML entities decoded; None when empty."""
    if text is None:
        return None
    text = html.unescape(str(text)).strip()
    return text or None


def year_of(value) -> int | None:
    m = re.match(r"\s*(\d{4})", str(value or ""))
    return int(m.group(1)) if m else None


_LABELLED = re.compile(
    r"(?:^|(?<=[.\s]))(?:Objectives?|Aims?|Purpose|(?:Background|Introduction) (?:&|and) [Pp]urpose)\s*[:.]?\s+"
    r"(?=[A-Z])(?P<text>.+?)(?=\s*(?:\n|(?:Methods?|Materials and [Mm]ethods|Materials & [Mm]ethods|Data [Ss]ources|"
    r"Design|Study [Ss]election|Search [Mm]ethods|Selection [Cc]riteria|Eligibility|Evidence [Aa]cquisition|"
    r"Results)\b\s*:?)|$)", re.S)
_AIM = re.compile(r"(?:^|(?<=[.!?:\n]))\s*(?P<text>(?:This|Our|The|We|In this)\b[^.\n]{0,80}?\b"
                  r"(?:aim(?:s|ed)?|objectives?|purposes?|goals?)\b[^.\n]{0,40}?\bto\b[^\n]*?\.)(?=\s|[A-Z]|$)")
_TO_VERB = re.compile(r"(?:^|(?<=[.!?:\n]))\s*(?P<text>To (?:assess|evaluate|determine|compare|examine|investigate|"
                      r"review|identify|summari[sz]e|quantify|estimate|explore|synthesi[sz]e|analy[sz]e|report|"
                      r"systematically)\b[^\n]*?\.)(?=\s|[A-Z]|$)")


def objective_of(abstract: str | None) -> str | None:
    """The objective of a review, from its abstract: an ``Objective(s):`` section, else the first
    sentence stating the aim ("This review aimed to …", "Our objective was to …"), else the first
    "To assess …" sentence that is not a purpose clause of a method ("To estimate X, curves were
    pooled."); None if none of these."""
    if not abstract:
        return None
    m = _LABELLED.search(abstract) or _AIM.search(abstract)
    if m is None:
        m = next((t for t in _TO_VERB.finditer(abstract)
                  if not re.search(r",[^,]*\b(?:was|were)\b", t.group("text"))), None)
    return m.group("text").strip() if m else None


_LANGUAGE_BANNER = re.compile(r"^available in\b.{0,160}?(?=\b(?:To|The|This|We|Our)\b)", re.S)


def strip_language_banner(text: str | None) -> str | None:
    """Cochrane pages copied with their language menu: "available in English Español To assess …"."""
    if not text:
        return text
    return _LANGUAGE_BANNER.sub("", text).strip() or None


# ---------------------------------------------------------------- articles

def make_article(source: str, *, pmid=None, doi=None, openalex=None, title=None, abstract=None, year=None,
                 journal=None, registry_texts: tuple = (), raw=None) -> Article | None:
    """An ``Article`` for a candidate record that has a title or an abstract (None otherwise)."""
    title, abstract = clean(title), clean(abstract)
    aid = resolve_id(pmid, doi, openalex)
    if aid is None or not (title or abstract):
        return None
    raw_text = raw if isinstance(raw, str) else json.dumps(raw, sort_keys=True, ensure_ascii=False, default=str)
    return Article(article_id=aid, pmid=pmid, doi=doi, title=title, abstract=abstract, journal=journal,
                   year=year, databank_ids=databank_ids(title, abstract, *registry_texts), source=source,
                   payload_hash=payload_hash(raw_text))
