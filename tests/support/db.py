"""Reading a warehouse file in tests: one query, or every row of some tables."""
import duckdb

from trialpanorama_dagster.warehouse.schema import ALL_TABLES


def q(db, sql, params=None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def snapshot(db, tables=None) -> dict:
    """Every row of the tables (default: all, load_events excepted: it logs each run)."""
    names = tables or [t.name for t in ALL_TABLES if t.name != "load_events"]
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {n: con.execute(f"SELECT * FROM {n} ORDER BY ALL").fetchall() for n in names}
    finally:
        con.close()
