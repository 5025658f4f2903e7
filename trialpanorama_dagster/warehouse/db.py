"""DuckDB helpers: where the warehouse lives, opening it with the schema, Arrow batches, counts."""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb
import pyarrow as pa

from .schema import ALL_TABLES, SCHEMA_VERSION, Table, table

DEFAULT_HOME = ".trialpanorama"
WAREHOUSE_FILE = "warehouse.duckdb"


def home_dir() -> Path:
    """The project home: ``$TRIALPANORAMA_HOME`` or ``./.trialpanorama``."""
    return Path(os.environ.get("TRIALPANORAMA_HOME") or DEFAULT_HOME).resolve()


def default_db_path() -> Path:
    return home_dir() / WAREHOUSE_FILE


def connect(path: str | os.PathLike | None = None, read_only: bool = False,
            threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the warehouse file and make sure every table exists."""
    path = Path(path) if path is not None else default_db_path()
    if read_only:
        con = duckdb.connect(str(path), read_only=True)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(path))
        ensure_schema(con)
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    return con


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every declared table; upgrade a warehouse written by an older schema in place.

    Columns are only ever appended to a declaration, so an older table gains the new columns
    (NULL for existing rows) and loses NOT NULL where the declaration dropped it.
    """
    existing: dict[str, dict[str, bool]] = {}
    for name, col, nullable in con.execute(
            "SELECT table_name, column_name, is_nullable FROM information_schema.columns "
            "WHERE table_schema = current_schema()").fetchall():
        existing.setdefault(name, {})[col] = nullable == "YES"
    for t in ALL_TABLES:
        con.execute(t.ddl())
        have = existing.get(t.name)
        if have is None:
            continue
        for col, sql_type in t.columns:
            if col not in have:
                con.execute(f"ALTER TABLE {t.name} ADD COLUMN {col} {sql_type.replace(' NOT NULL', '')}")
            elif have[col] is False and "NOT NULL" not in sql_type and col not in t.primary_key:
                con.execute(f"ALTER TABLE {t.name} ALTER COLUMN {col} DROP NOT NULL")
    con.execute("CREATE TABLE IF NOT EXISTS schema_info (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.execute("INSERT OR REPLACE INTO schema_info VALUES ('schema_version', ?)", [SCHEMA_VERSION])


_ARROW_TYPES = {
    "VARCHAR": pa.string(), "INTEGER": pa.int64(), "BIGINT": pa.int64(), "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(), "DATE": pa.date32(), "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"),
    "VARCHAR[]": pa.list_(pa.string()),
}


def _arrow_type(sql_type: str) -> pa.DataType:
    return _ARROW_TYPES[sql_type.replace(" NOT NULL", "").strip()]


def arrow_batch(t: Table, rows: list[tuple]) -> pa.Table:
    """Rows (tuples in the table's column order) -> an Arrow table with the declared types."""
    names = t.column_names
    if rows:
        cols = list(zip(*rows))
    else:
        cols = [()] * len(names)
    arrays = [pa.array(col, type=_arrow_type(sql)) for col, (_, sql) in zip(cols, t.columns)]
    return pa.Table.from_arrays(arrays, names=names)


def insert_rows(con: duckdb.DuckDBPyConnection, name: str, rows: list[tuple], or_ignore: bool = False) -> int:
    """Append rows to a declared table through Arrow (fast, typed)."""
    if not rows:
        return 0
    return insert_arrow(con, name, arrow_batch(table(name), rows), or_ignore)


def insert_arrow(con: duckdb.DuckDBPyConnection, name: str, batch: pa.Table | None, or_ignore: bool = False) -> int:
    """Append an Arrow table whose columns are the declared table's, in order."""
    if batch is None or not batch.num_rows:
        return 0
    t = table(name)
    view = f"_batch_{t.name}"
    con.register(view, batch)
    try:
        verb = "INSERT OR IGNORE INTO" if or_ignore else "INSERT INTO"
        con.execute(f"{verb} {t.name} SELECT * FROM {view}")
    finally:
        con.unregister(view)
    return batch.num_rows


def table_counts(con: duckdb.DuckDBPyConnection, names=None) -> dict[str, int]:
    names = names or [t.name for t in ALL_TABLES]
    return {n: con.execute(f"SELECT count(*) FROM {table(n).name}").fetchone()[0] for n in names}


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """One transaction: committed when the block ends, rolled back (and re-raised) on any error."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
