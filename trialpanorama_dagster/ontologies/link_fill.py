"""Fill the spec's ontology columns of the study tables from ``term_links``.

- ``conditions``: condition_mesh_id / _term / _type where the registry gave none;
  ``mesh_match`` says ``linker:<method>`` (registry-given ids keep their own ``mesh_match``).
- ``drugs``: drugbank_id / drugbank_name (DrugBank), drugbank_mesh_id (MeSH, chemical side),
  rx_normalized_name / rx_mapping_id / rx_source (RxNorm), and drug_moa_id (the DrugBank id).
  The intervention's name is tried first, then its other names in the registry's order.
- ``drug_moa``: one row per linked drug and mechanism: MeSH pharmacological actions of the drug's
  MeSH record and the ATC class (level 4) above its ATC code.

Every fill first clears what an earlier fill wrote, so running it twice gives identical tables.
"""
from __future__ import annotations

import json

import duckdb
import polars as pl

from ..warehouse.db import insert_rows, transaction

_DRUG_COLUMNS = ("drugbank_id", "drugbank_name", "drugbank_mesh_id", "rx_normalized_name", "rx_mapping_id",
                 "rx_source", "drug_moa_id")


def fill_conditions(con: duckdb.DuckDBPyConnection) -> int:
    with transaction(con):
        # undo an earlier fill: rows filled by name lose everything; rows whose registry heading got its
        # id back their registry mesh_match ("linker:<method>:<registry match>")
        con.execute("UPDATE conditions SET condition_mesh_id = NULL, condition_mesh_type = NULL, "
                    "mesh_match = split_part(mesh_match, ':', 3) WHERE mesh_match LIKE 'linker:%:%'")
        con.execute("UPDATE conditions SET condition_mesh_id = NULL, condition_mesh_term = NULL, "
                    "condition_mesh_type = NULL, mesh_match = NULL WHERE mesh_match LIKE 'linker:%'")
        n = con.execute("""
            UPDATE conditions c SET condition_mesh_id = l.concept_id, condition_mesh_term = l.concept_name,
                   condition_mesh_type = CASE WHEN l.concept_id LIKE 'D%' THEN 'descriptor' ELSE 'supplementary' END,
                   mesh_match = 'linker:' || l.method
            FROM term_links l
            WHERE l.domain = 'condition' AND l.ontology = 'mesh' AND l.term = c.condition_name
              AND l.concept_id IS NOT NULL AND c.condition_mesh_id IS NULL
              AND c.condition_mesh_term IS NULL""").fetchone()[0]
        # a MeSH heading name the registry gave without its id (legacy CT.gov XML) takes the heading's id
        n += con.execute("""
            UPDATE conditions c SET condition_mesh_id = l.concept_id,
                   condition_mesh_type = CASE WHEN l.concept_id LIKE 'D%' THEN 'descriptor' ELSE 'supplementary' END,
                   mesh_match = 'linker:' || l.method || ':' || c.mesh_match
            FROM term_links l
            WHERE l.domain = 'condition' AND l.ontology = 'mesh' AND l.term = c.condition_mesh_term
              AND l.concept_id IS NOT NULL AND c.condition_mesh_id IS NULL""").fetchone()[0]
    return int(n)


def _best_per_row(con, ontology: str) -> pl.DataFrame:
    """(row_id, concept_id, concept_name, method) choosing the first linked name of each drug row."""
    return con.execute("""
        WITH names AS (
            SELECT rowid AS row_id, 0 AS pos, drug_name AS term FROM drugs
            UNION ALL
            SELECT row_id, pos, term FROM (
                SELECT rowid AS row_id, unnest(other_names) AS term,
                       unnest(range(1, len(other_names) + 1)) AS pos FROM drugs)
        )
        SELECT n.row_id, arg_min(l.concept_id, n.pos) AS concept_id, arg_min(l.concept_name, n.pos) AS concept_name,
               arg_min(l.method, n.pos) AS method
        FROM names n JOIN term_links l ON l.term = n.term
        WHERE l.domain = 'drug' AND l.ontology = ? AND l.concept_id IS NOT NULL
        GROUP BY n.row_id""", [ontology]).pl()


def fill_drugs(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    frames = {o: _best_per_row(con, o) for o in ("drugbank", "mesh", "rxnorm")}
    with transaction(con):
        con.execute("UPDATE drugs SET " + ", ".join(f"{c} = NULL" for c in _DRUG_COLUMNS))
        counts = {}
        for onto, frame in frames.items():
            counts[onto] = frame.height
            if frame.is_empty():
                continue
            con.register("_fill", frame.to_arrow())
            if onto == "drugbank":
                con.execute("UPDATE drugs SET drugbank_id = f.concept_id, drugbank_name = f.concept_name, "
                            "drug_moa_id = f.concept_id FROM _fill f WHERE drugs.rowid = f.row_id")
            elif onto == "mesh":
                con.execute("UPDATE drugs SET drugbank_mesh_id = f.concept_id FROM _fill f WHERE drugs.rowid = f.row_id")
            else:
                con.execute("UPDATE drugs SET rx_normalized_name = f.concept_name, "
                            "rx_mapping_id = TRY_CAST(f.concept_id AS DOUBLE), rx_source = 'rxnorm:' || f.method "
                            "FROM _fill f WHERE drugs.rowid = f.row_id")
            con.unregister("_fill")
    return counts


def fill_drug_moa(con: duckdb.DuckDBPyConnection) -> int:
    """Rebuild ``drug_moa`` from the linked drugs' MeSH pharmacological actions and ATC classes."""
    drugs = con.execute("""
        SELECT drug_moa_id, min(drugbank_name) AS drug_name, list(DISTINCT drugbank_mesh_id ORDER BY drugbank_mesh_id) AS mesh_ids,
               list(DISTINCT drug_name ORDER BY drug_name) AS names
        FROM drugs WHERE drug_moa_id IS NOT NULL GROUP BY drug_moa_id ORDER BY drug_moa_id""").fetchall()
    mesh_attrs = dict(con.execute(
        "SELECT concept_id, attributes FROM ontology_concepts WHERE ontology = 'mesh' AND attributes IS NOT NULL"
    ).fetchall())
    mesh_names = dict(con.execute("SELECT concept_id, name FROM ontology_concepts WHERE ontology = 'mesh'").fetchall())
    atc = dict(con.execute("SELECT concept_id, name FROM ontology_concepts WHERE ontology = 'atc'").fetchall())
    atc_links = con.execute(
        "SELECT term, concept_id FROM term_links WHERE domain = 'drug' AND ontology = 'atc' AND concept_id IS NOT NULL"
    ).fetchall()
    atc_by_term = dict(atc_links)
    rows = []
    for moa_id, name, mesh_ids, names in drugs:
        seen = set()
        for mid in [m for m in mesh_ids if m]:
            for action in _pharmacological_actions(mesh_attrs.get(mid)):
                label = mesh_names.get(action, action)
                if ("mesh", label) not in seen:
                    seen.add(("mesh", label))
                    rows.append((moa_id, name, None, None, None, None, None, None, None, None,
                                 f"MeSH:{mid}", "pharmacological action", label))
        for term in names:
            code = atc_by_term.get(term)
            if code and len(code) >= 5 and ("atc", code) not in seen:
                seen.add(("atc", code))
                rows.append((moa_id, name, None, None, None, None, None, None, None, None,
                             f"ATC:{code}", "ATC class", atc.get(code[:5], code[:5])))
    with transaction(con):
        con.execute("DELETE FROM drug_moa")
        insert_rows(con, "drug_moa", rows)
    return len(rows)


def _pharmacological_actions(attributes: str | None) -> list[str]:
    if not attributes:
        return []
    try:
        data = json.loads(attributes)
    except ValueError:
        return []
    acts = data.get("pharmacological_actions") or data.get("pharmacologicalAction") or []
    return [a if isinstance(a, str) else (a.get("ui") or a.get("name")) for a in acts if a]
