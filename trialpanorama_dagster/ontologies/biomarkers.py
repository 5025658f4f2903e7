"""Biomarkers from trial text: gene mentions with a biomarker context, linked to HGNC symbols.

Registries give no structured gene list, so biomarkers are read from what a trial states about
its population: eligibility criteria, conditions and titles. A gene mention counts only when a
biomarker word stands within three words of it (``EGFR mutation``, ``HER2-positive``,
``BRCA1/2 carriers``, ``ALK rearrangement``, ``PD-L1 expression``), so gene symbols that are
also ordinary words or abbreviations are not taken alone. Official symbols match case-sensitively;
aliases and previous symbols (``HER2`` for ERBB2) must be 3+ characters and map to one gene.

Rows go to ``biomarkers`` with ``origin = 'linker'``: biomarker_type ``eligibility`` (criteria),
``condition`` or ``title``; biomarker_name the phrase as written; biomarker_genes the HGNC symbols.
"""
from __future__ import annotations

import re

import duckdb
import polars as pl

from ..warehouse.db import insert_rows, transaction

CONTEXT = re.compile(
    r"^(?:mutat\w*|mutant|variants?|positive|negative|\+|-?pos|-?neg|express\w*|overexpress\w*|amplif\w*|"
    r"fusions?|rearrange\w*|translocat\w*|deletions?|insertions?|status|wild[- ]?type|wt|carriers?|"
    r"altered|alterations?|inhibitor\w*|low|high|loss|gain|deficien\w*|methylat\w*|level|levels)$", re.I)
TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-/]*[A-Za-z0-9+]|[A-Za-z0-9]")
_STOP_SYMBOLS = {"ALL", "AND", "FOR", "NOT", "CAN", "MET", "WAS", "SET", "CAT", "CAR", "PIGS", "TAT", "REST",
                 "CO2", "HR", "ER", "PR", "AR", "ICU", "BMI", "DNA", "RNA", "HIV", "CT", "MRI", "ECG"}


class GeneLexicon:
    def __init__(self, genes: pl.DataFrame):
        """``genes``: concept_id (HGNC:n), term, term_type, symbol."""
        by_term: dict[str, set[tuple[str, str]]] = {}
        for cid, term, kind, symbol in genes.select("concept_id", "term", "term_type", "symbol").iter_rows():
            if not term or term.upper() in _STOP_SYMBOLS or len(term) < 2:
                continue
            official = kind in ("preferred", "symbol")
            if not official and len(term) < 3:
                continue
            by_term.setdefault(term, set()).add((cid, symbol or term))
        self.lookup = {t: next(iter(v)) for t, v in by_term.items() if len(v) == 1}

    def __len__(self):
        return len(self.lookup)

    def mentions(self, text: str | None) -> list[tuple[str, str, str]]:
        """[(phrase, hgnc_id, symbol)] for gene mentions with a biomarker word nearby."""
        if not text:
            return []
        tokens = [(m.group(0), m.start(), m.end()) for m in TOKEN.finditer(text)]
        found, seen = [], set()
        for i, (tok, start, end) in enumerate(tokens):
            core = tok.rstrip("+")
            parts = [p for p in re.split(r"[/-]", core) if p] if core not in self.lookup else [core]
            for part in parts:
                gene = self.lookup.get(part)
                if gene is None:
                    continue
                window = tokens[i + 1:i + 4] + tokens[max(0, i - 3):i]
                positive = tok.endswith("+") or any(CONTEXT.match(w) for w, _, _ in window) or \
                    any(CONTEXT.match(p) for p in re.split(r"[/-]", tok)[1:])
                if not positive or gene in seen:
                    continue
                seen.add(gene)
                stop = tokens[min(len(tokens) - 1, i + 2)][2] if i + 1 < len(tokens) and CONTEXT.match(
                    tokens[i + 1][0]) else end
                found.append((text[start:stop].strip(), gene[0], gene[1]))
        return found


def extract_biomarkers(con: duckdb.DuckDBPyConnection, lexicon: GeneLexicon) -> list[tuple]:
    """Distinct mentions (study_id, biomarker_type, phrase, hgnc_id, symbol) over every study."""
    mentions = {}
    sources = (
        ("eligibility", "SELECT study_id, eligibility_criteria FROM studies WHERE eligibility_criteria IS NOT NULL"),
        ("condition", "SELECT study_id, condition_name FROM conditions WHERE condition_name IS NOT NULL"),
        ("title", "SELECT study_id, coalesce(official_title, title) FROM studies"),
    )
    for kind, sql in sources:
        for study_id, text in con.execute(sql + " ORDER BY 1").fetchall():
            for phrase, gene_id, symbol in lexicon.mentions(text):
                mentions.setdefault((study_id, kind, phrase[:200], symbol), gene_id)
    return [(sid, kind, phrase, gene_id, symbol) for (sid, kind, phrase, symbol), gene_id in mentions.items()]


def fill_biomarkers(con: duckdb.DuckDBPyConnection, lexicon: GeneLexicon) -> dict[str, int]:
    mentions = extract_biomarkers(con, lexicon)
    gene_of_phrase: dict[str, tuple[str, str]] = {}
    for _, _, phrase, gene_id, symbol in mentions:
        gene_of_phrase.setdefault(phrase, (gene_id, symbol))
    with transaction(con):
        con.execute("DELETE FROM biomarkers WHERE origin = 'linker'")
        insert_rows(con, "biomarkers", [(sid, "trial", kind, phrase, [symbol], "linker")
                                        for sid, kind, phrase, _, symbol in mentions])
        con.execute("DELETE FROM term_links WHERE domain = 'biomarker'")
        insert_rows(con, "term_links", [
            ("biomarker", phrase, phrase.lower(), "hgnc", gene_id, symbol, "exact", None, None, None)
            for phrase, (gene_id, symbol) in sorted(gene_of_phrase.items())])
    return {"biomarkers": len(mentions), "studies": len({m[0] for m in mentions}),
            "genes": len({symbol for _, symbol in gene_of_phrase.values()})}
