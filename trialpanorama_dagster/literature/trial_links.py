"""Article -> trial links: registry ids named by a PubMed record, as ``relations`` rows.

Where a link comes from (``evidence``) and how much it is trusted (``confidence``):

* ``DataBankList:<DataBankName>`` (0.98): NLM indexed the accession in the record's DataBankList.
  Only trial registries count (ClinicalTrials.gov, ISRCTN, EudraCT, ANZCTR, ChiCTR, CTRI, DRKS,
  UMIN, JPRN, …); PDB, GEO, SRA and the other sequence/data banks are dropped.
* ``title`` (0.9) and ``abstract`` (0.9): an id found in the text by ``registries.ids.find_ids``,
  after un-gluing a registry prefix stuck to the word before it (MEDLINE has
  "ClinicalTrials.govNCT01844362", which no word-bounded pattern would see).

Ids are canonical (``normalise_id``), which is how the registry loaders write ``studies.study_id``
(NCT ids as is, EudraCT ``2010-019469-26``, ``ISRCTN69423238``, ``ACTRN…``, ``ChiCTR…``);
placeholders (NCT00000000, NCT12345678 …) are never ids. One row per (trial, article): the
evidence of every place that named it joined with ``;``, the highest confidence kept.

Rows: head = trial id (``head_type`` ``trial``), tail = the PMID (``tail_type`` ``pubmed``),
``relation_type`` ``trial_publication``, ``origin`` ``pubmed``, ``study_id`` the warehouse study
when it exists (else NULL; the row is kept). The registries' own reference lists (``origin``
NULL, ``trial_reference``) are not copied: ``trial_article_links`` reads both as one view.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import duckdb

from ..registries.ids import RegistryId, find_ids, normalise_id
from ..warehouse.schema import table
from .store import Article, relation_row, replace_relations

ORIGIN = "pubmed"
RELATION = "trial_publication"
_STUDY_COL = table("relations").column_names.index("study_id")
CONFIDENCE = {"databank": 0.98, "title": 0.9, "abstract": 0.9}
# DataBankName (lower case, letters and digits only) -> family hint for normalise_id ("" = none needed)
TRIAL_DATABANKS: dict[str, str] = {
    "clinicaltrialsgov": "nct", "isrctn": "isrctn", "eudract": "eudract", "anzctr": "actrn",
    "chictr": "chictr", "ctri": "ctri", "drks": "drks", "umin": "umin", "uminctr": "umin", "jprn": "",
    "jrct": "jrct", "japiccti": "japic", "ntr": "ntr", "pactr": "pactr", "irct": "irct", "rebec": "rbr",
    "rpcec": "rpcec", "slctr": "slctr", "tctr": "tctr", "cris": "kct", "kct": "kct", "lbctr": "lbctr",
    "repec": "per", "itmctr": "itmctr", "ctis": "ctis", "euctr": "eudract",
}


_GLUED = re.compile(r"(?<=[A-Za-z.:;,)])(?=(?:NCT|ISRCTN|ACTRN|DRKS|ChiCTR|UMIN|EUCTR|PACTR|IRCT|TCTR)\s?\d)")


def text_ids(text: str | None) -> list[RegistryId]:
    """Trial ids named in free text (``find_ids`` after un-gluing prefixes); keys such as UTRN dropped."""
    if not text:
        return []
    return [rid for rid in find_ids(_GLUED.sub(" ", text)) if rid.registry is not None]


@dataclass(frozen=True)
class TrialLink:
    trial_id: str
    family: str
    pmid: str
    evidence: str
    confidence: float


def databank_hint(name: str) -> str | None:
    """The id family hint of a trial-registry DataBankName; None for every other data bank."""
    return TRIAL_DATABANKS.get(re.sub(r"[^a-z0-9]", "", (name or "").lower()))


def _trial(rid: RegistryId | None) -> RegistryId | None:
    return rid if rid is not None and rid.registry is not None else None


def article_trial_links(article: Article, rejected: Counter | None = None) -> list[TrialLink]:
    """Every trial an article names, once, with the evidence of each place that named it."""
    if not article.pmid:
        return []
    found: dict[str, tuple[RegistryId, list[str], float]] = {}

    def add(rid: RegistryId, evidence: str, confidence: float) -> None:
        _, evs, best = found.get(rid.id, (rid, [], 0.0))
        if evidence not in evs:
            evs.append(evidence)
        found[rid.id] = (rid, evs, max(best, confidence))

    for entry in article.databank_ids or []:
        name, _, accession = entry.partition(":")
        hint = databank_hint(name)
        if hint is None:
            continue
        rid = _trial(normalise_id(accession, hint or None))
        if rid is None:
            if rejected is not None:
                rejected[f"{name}:{accession}"] += 1
            continue
        add(rid, f"DataBankList:{name}", CONFIDENCE["databank"])
    for where, text in (("title", article.title), ("abstract", article.abstract)):
        for rid in text_ids(text):
            add(rid, where, CONFIDENCE[where])
    return [TrialLink(rid.id, rid.family, article.pmid, ";".join(evs), conf) for rid, evs, conf in found.values()]


# -- warehouse ----------------------------------------------------------------------------------------
def _study_ids(con: duckdb.DuckDBPyConnection, links: list[TrialLink]) -> dict[str, str]:
    """trial id -> the ``studies.study_id`` it names (exact id; a CTIS number without its last
    part matches the one study that starts with it)."""
    ids = sorted({link.trial_id for link in links})
    if not ids:
        return {}
    out = {sid: sid for (sid,) in con.execute(
        "SELECT DISTINCT study_id FROM studies WHERE list_contains(?, study_id)", [ids]).fetchall()}
    bases = sorted({link.trial_id for link in links if link.family == "ctis" and link.trial_id not in out
                    and len(link.trial_id) == 14})
    if bases:
        by_base: dict[str, set[str]] = {}
        for (sid,) in con.execute("SELECT DISTINCT study_id FROM studies WHERE list_contains(?, left(study_id, 14))",
                                  [bases]).fetchall():
            by_base.setdefault(sid[:14], set()).add(sid)
        out.update({b: next(iter(s)) for b, s in by_base.items() if len(s) == 1})
    return out


def link_rows(con: duckdb.DuckDBPyConnection, links: list[TrialLink]) -> list[tuple]:
    """``relations`` rows for links; a CTIS base id that names one stored study takes its full id."""
    known = _study_ids(con, links)
    rows = []
    for link in links:
        sid = known.get(link.trial_id)
        rows.append(relation_row(sid or link.trial_id, "trial", link.pmid, "pubmed", RELATION, origin=ORIGIN,
                                 study_id=sid, evidence=link.evidence, confidence=link.confidence))
    return rows


def link_articles(con: duckdb.DuckDBPyConnection, chunk: int = 50_000) -> dict:
    """Rebuild every ``origin='pubmed'`` relation from the ``literature`` table (idempotent)."""
    links: list[TrialLink] = []
    rejected: Counter = Counter()
    articles = linked_articles = 0
    cur = con.execute("SELECT article_id, pmid, title, abstract, databank_ids FROM literature "
                      "WHERE pmid IS NOT NULL ORDER BY pmid")
    while batch := cur.fetchmany(chunk):
        for aid, pmid, title, abstract, banks in batch:
            articles += 1
            found = article_trial_links(Article(aid, pmid=pmid, title=title, abstract=abstract,
                                                databank_ids=list(banks or [])), rejected)
            linked_articles += bool(found)
            links.extend(found)
    rows = link_rows(con, links)
    replace_relations(con, ORIGIN, rows)
    by_evidence: Counter = Counter()
    for link in links:
        for ev in link.evidence.split(";"):
            by_evidence[ev] += 1
    return {"articles": articles, "linked_articles": linked_articles, "links": len(rows),
            "trials": len({r.trial_id for r in links}), "with_study": sum(1 for r in rows if r[_STUDY_COL] is not None),
            "by_evidence": dict(by_evidence), "rejected_accessions": dict(rejected)}


TRIAL_ARTICLE_LINKS_SQL = """
WITH pub AS (
    SELECT head_id AS trial_id, tail_id AS pmid, study_id, 'pubmed' AS side, evidence, confidence
    FROM relations WHERE origin = 'pubmed' AND relation_type = 'trial_publication'
), reg AS (
    SELECT r.head_id, r.tail_id, r.study_id, 'registry',
           'registry:' || coalesce(upper(r.reference_type), 'REFERENCE'),
           CASE upper(coalesce(r.reference_type, '')) WHEN 'DERIVED' THEN 0.98 WHEN 'RESULT' THEN 0.97
                WHEN 'BACKGROUND' THEN 0.3 ELSE 0.7 END
    FROM relations r
    WHERE r.origin IS NULL AND r.relation_type = 'trial_reference' AND r.tail_type = 'pubmed'
      AND r.tail_id IN (SELECT pmid FROM literature WHERE pmid IS NOT NULL)
)
SELECT trial_id, pmid, max(study_id) AS study_id,
       bool_or(side = 'pubmed') AS in_pubmed, bool_or(side = 'registry') AS in_registry,
       string_agg(DISTINCT evidence, ';' ORDER BY evidence) AS evidence, max(confidence) AS confidence
FROM (SELECT * FROM pub UNION ALL SELECT * FROM reg)
GROUP BY trial_id, pmid
"""


def trial_article_links(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
    """Trial <-> article links from both sides, one row per (trial_id, pmid): the PubMed-derived
    rows (``origin='pubmed'``) and the registries' reference lists whose PMID is in ``literature``.
    Columns: trial_id, pmid, study_id, in_pubmed, in_registry, evidence, confidence. The
    registry side's confidence follows the reference type (DERIVED 0.98, RESULT 0.97,
    BACKGROUND 0.3, other 0.7): a background reference is usually not the trial's own report."""
    return con.sql(TRIAL_ARTICLE_LINKS_SQL)


def link_coverage(con: duckdb.DuckDBPyConnection) -> dict:
    """How many links each side finds: pubmed only, registry only, both."""
    row = con.sql(f"SELECT count(*), count(*) FILTER (in_pubmed AND NOT in_registry), "
                  f"count(*) FILTER (in_registry AND NOT in_pubmed), count(*) FILTER (in_pubmed AND in_registry), "
                  f"count(DISTINCT trial_id), count(DISTINCT pmid) FROM ({TRIAL_ARTICLE_LINKS_SQL})").fetchone()
    return dict(zip(("links", "pubmed_only", "registry_only", "both", "trials", "articles"), row))
