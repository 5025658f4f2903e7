"""A warehouse written by schema 1 opens under schema 2 with its rows kept and the new columns added."""
import duckdb

from trialpanorama_dagster.warehouse.db import connect
from trialpanorama_dagster.warehouse.schema import SCHEMA_VERSION, table


def test_schema_one_warehouse_upgrades_in_place(tmp_path):
    db = tmp_path / "old.duckdb"
    old = duckdb.connect(str(db))
    old.execute("CREATE TABLE relations (head_id VARCHAR NOT NULL, head_type VARCHAR, tail_id VARCHAR NOT NULL, "
                "tail_type VARCHAR, relation_type VARCHAR, reference_type VARCHAR, citation VARCHAR, "
                "study_id VARCHAR NOT NULL)")
    old.execute("INSERT INTO relations VALUES ('NCT00195884', 'trial', '16061879', 'pubmed', 'trial_reference', "
                "'RESULT', 'A citation', 'NCT00195884')")
    old.execute("CREATE TABLE biomarkers (study_id VARCHAR NOT NULL, study_type VARCHAR, biomarker_type VARCHAR, "
                "biomarker_name VARCHAR, biomarker_genes VARCHAR[])")
    old.close()

    con = connect(db)
    cols = [r[0] for r in con.execute("SELECT column_name FROM information_schema.columns WHERE table_name = "
                                      "'relations' ORDER BY ordinal_position").fetchall()]
    assert cols == table("relations").column_names
    assert con.execute("SELECT head_id, tail_id, origin FROM relations").fetchall() == [
        ("NCT00195884", "16061879", None)]
    # study_id may now be NULL (review -> article links have no study)
    con.execute("INSERT INTO relations (head_id, tail_id, origin) VALUES ('synergy:Nelson_2002', 'PMID:1', "
                "'review:synergy')")
    assert "origin" in [r[0] for r in con.execute("DESCRIBE biomarkers").fetchall()]
    assert con.execute("SELECT value FROM schema_info WHERE key = 'schema_version'").fetchone()[0] == SCHEMA_VERSION
    con.close()
    # opening again changes nothing
    con = connect(db)
    assert con.execute("SELECT count(*) FROM relations").fetchone()[0] == 2
    con.close()
