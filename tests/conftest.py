"""Shared fixtures: real DuckDB stores in temporary folders, never mocks."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import pytest

from dashboard import importer, kept, schema, store

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DATA = ROOT / "sample_data"
AS_OF = dt.date(2026, 11, 20)  # the committed sample data's last day


@pytest.fixture(scope="session")
def sample_store_file(tmp_path_factory) -> Path:
    """A store built once from sample_data/ (unshifted), keeping its answers for AS_OF as the
    dashboard's import does for the day it opens on; tests get their own copy."""
    db = tmp_path_factory.mktemp("sample") / "sample.duckdb"
    st = store.open_store(db)
    try:
        result = importer.import_into(st, SAMPLE_DATA, via="demo", keep_as_of=AS_OF)
        assert result.applied, result.errors[:5]
    finally:
        st.close()
    return db


@pytest.fixture
def sample_db(sample_store_file, tmp_path) -> Path:
    db = tmp_path / "store.duckdb"
    shutil.copyfile(sample_store_file, db)
    return db


def write_csv(folder: Path, table: str, rows: list[dict], columns: list[str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    columns = columns or list(rows[0].keys())
    path = folder / f"{table}.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(columns)
        for r in rows:
            w.writerow([r.get(c, "") for c in columns])
    return path


def snapshot(db: Path) -> dict:
    """Everything in the store, to prove an import changed nothing."""
    st = store.open_store(db)
    try:
        cur = st.cursor()
        out = {"meta": sorted(cur.execute("SELECT * FROM meta").fetchall())}
        for t in (*schema.ALL_TABLES, *map(kept.table_name, kept.KEPT)):
            out[t] = sorted(map(repr, cur.execute(f"SELECT * FROM {t}").fetchall()))
        return out
    finally:
        st.close()


def count(db: Path, table: str) -> int:
    st = store.open_store(db)
    try:
        return st.cursor().execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        st.close()


def typed_array(spec: dict) -> np.ndarray:
    """An array as a figure's JSON carries it when typed ({"dtype", "bdata"[, "shape"]}, plotly's
    base64), read back into numbers."""
    array = np.frombuffer(base64.b64decode(spec["bdata"]), dtype=spec["dtype"])
    if "shape" in spec:
        array = array.reshape([int(n) for n in str(spec["shape"]).split(",")])
    return array
