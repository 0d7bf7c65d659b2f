"""Answers the store keeps: the whole caseload's summary, flags and flag lists on one as-of day.

The agenda and every caseload view build on these three answers, and computing them reads every
table of the store (about 0.4 s for 20,000 patients, 2 s for 100,000). So the store keeps them,
computed inside the transaction of each write that changes what they are computed from: an
import recomputes them all for the as-of day the dashboard opens on (today, or the day it was
started with); marking a patient reviewed recomputes that patient's rows; a meeting's other writes
leave them as they were, as none of them is an input. A page reads a kept answer only when it
stands exactly for what it asked: the same as-of day, every patient, the store's current data
version, and the same SQL as this version of the dashboard. Anything else (another as-of day, a
write that did not keep them, a store kept by an older version) is computed as before.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import os
from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

import duckdb
import pyarrow as pa

import queries

# In the order they are computed: the flag lists build on the flags.
KEPT = ("patient_summary", "patient_flags", "patient_flag_lists")
AS_OF_ENV = "MDT_AS_OF"  # the day the dashboard opens on, when it was started with --as-of
T = TypeVar("T")


def default_as_of() -> dt.date:
    """The day the dashboard opens on: the day it was started with (--as-of), else today."""
    env = os.environ.get(AS_OF_ENV)
    if env:
        with contextlib.suppress(ValueError):
            return dt.date.fromisoformat(env)
    return dt.date.today()


def table_name(name: str) -> str:
    return f"kept_{name}"


@functools.cache
def code_key() -> str:
    """Names the SQL the kept answers were computed with: a store kept by another version of
    the dashboard is not read."""
    digest = hashlib.sha256()
    for name in KEPT:  # how each is computed, and how its kept rows are read
        digest.update(queries.sql(name).encode())
        digest.update(queries.sql(name, kept=frozenset({name})).encode())
    return digest.hexdigest()[:16]


def _meta(cur: duckdb.DuckDBPyConnection) -> dict[str, str]:
    rows = cur.execute(
        "SELECT key, value FROM meta WHERE key IN ('data_version', 'kept_as_of', 'kept_version', "
        "'kept_code')"
    ).fetchall()
    return dict(rows)


def _valid(meta: Mapping, version: str) -> bool:
    kept_version, code = meta.get("kept_version"), meta.get("kept_code")
    return (
        isinstance(kept_version, str)
        and kept_version == version
        and isinstance(code, str)
        and code == code_key()
    )


def _set_meta(cur: duckdb.DuckDBPyConnection, values: Mapping[str, str]) -> None:
    for key, value in values.items():
        cur.execute("INSERT OR REPLACE INTO meta VALUES ($k, $v)", {"k": key, "v": value})


def _compute(
    cur: duckdb.DuckDBPyConnection, as_of: dt.date, patient_ids: list[str] | None
) -> dict[str, pa.Table]:
    answers: dict[str, pa.Table] = {}
    for name in KEPT:
        given = {o: answers[o] for o in queries.includes(name) if o in answers}
        params = {"as_of": as_of, "patient_ids": patient_ids}
        answers[name] = queries.run_arrow(
            cur,
            name,
            given=given,
            **{k: v for k, v in params.items() if k in queries.params_of(name)},
        )
    return answers


def _numbered(table: pa.Table) -> pa.Table:
    """The answer with each row's place in it (_kept_row): a patient's rows are read back in the
    order the query gave them."""
    return table.append_column("_kept_row", pa.array(range(table.num_rows), pa.int64()))


def refresh(
    cur: duckdb.DuckDBPyConnection,
    as_of: dt.date | None = None,
    patient_ids: Iterable[str] | None = None,
) -> None:
    """Recompute the kept answers inside the caller's write (store.write, which has already
    moved the data version on): all of them for `as_of` (default: the day the dashboard opens
    on), or only the rows of `patient_ids` on the day already kept. Rows for a few patients are
    only recomputed while the kept answers are valid up to this write; otherwise they stay
    invalid until the next full refresh, and pages compute the answers themselves."""
    meta = _meta(cur)
    version = meta["data_version"]
    if patient_ids is None:
        day = as_of or default_as_of()
        answers = _compute(cur, day, None)
        for name, table in answers.items():
            cur.register("_kept_answer", _numbered(table))
            cur.execute(f"CREATE OR REPLACE TABLE {table_name(name)} AS SELECT * FROM _kept_answer")
            cur.unregister("_kept_answer")
        _set_meta(cur, {"kept_as_of": day.isoformat(), "kept_version": version,
                        "kept_code": code_key()})  # fmt: skip
        return
    if not _valid(meta, str(int(version) - 1)):
        return
    ids = sorted(set(patient_ids))
    answers = _compute(cur, dt.date.fromisoformat(meta["kept_as_of"]), ids)
    for name, table in answers.items():
        cur.execute(
            f"DELETE FROM {table_name(name)} WHERE list_contains($ids, patient_id)", {"ids": ids}
        )
        cur.register("_kept_answer", _numbered(table))
        cur.execute(f"INSERT INTO {table_name(name)} BY NAME SELECT * FROM _kept_answer")
        cur.unregister("_kept_answer")
    _set_meta(cur, {"kept_version": version})


def carry(cur: duckdb.DuckDBPyConnection) -> None:
    """This write (store.write) changes nothing the kept answers are computed from: if they were
    valid before it, they stay valid after it."""
    meta = _meta(cur)
    version = meta["data_version"]
    if _valid(meta, str(int(version) - 1)):
        _set_meta(cur, {"kept_version": version})


def from_kept(
    cur: duckdb.DuckDBPyConnection, name: str, params: Mapping, run: Callable[..., T]
) -> T | None:
    """`run(cur, name, kept=..., **params)` (queries.run or run_arrow) reading the answers
    `name` builds on from the store's kept tables, when the store keeps them for `params`: the
    same as-of day, every patient (patient_ids NULL), the current data version and this
    version's SQL; or, for a kept answer itself asked for a list of patients (the patient page),
    its rows for them. None when it does not: the caller computes them. The check and the query
    run in one read transaction, so they see the kept tables and the meta that vouches for them
    at the same moment."""
    as_of = params.get("as_of")
    if not isinstance(as_of, dt.date):
        return None
    if name in KEPT:  # its own rows for a list of patients (the patient page's one)
        if not isinstance(params.get("patient_ids"), list | tuple):
            return None
        served = frozenset({name})
    else:  # built on the whole caseload's kept answers
        served = frozenset(queries.includes(name))
        if not served or not served <= set(KEPT) or params.get("patient_ids") is not None:
            return None
    cur.begin()
    try:
        meta = _meta(cur)
        if meta.get("kept_as_of") != as_of.isoformat() or not _valid(meta, meta["data_version"]):
            return None
        return run(cur, name, kept=served, **params)
    finally:
        with contextlib.suppress(duckdb.Error):
            cur.commit()


def kept_in_this_write(cur: duckdb.DuckDBPyConnection, as_of: dt.date) -> frozenset[str]:
    """Inside a write (store.write): KEPT when the kept answers are for `as_of` and were valid
    up to this write, so the write may build on them; else none."""
    meta = _meta(cur)
    valid = meta.get("kept_as_of") == as_of.isoformat() and _valid(
        meta, str(int(meta["data_version"]) - 1)
    )
    return frozenset(KEPT) if valid else frozenset()


def kept_as_of(cur: duckdb.DuckDBPyConnection) -> dt.date | None:
    """The as-of day the store's kept answers are valid for now, or None."""
    return day_kept(_meta(cur))


def day_kept(meta: Mapping) -> dt.date | None:
    """The as-of day the kept answers described by `meta` (data_version, kept_as_of,
    kept_version, kept_code: queries/data_freshness.sql) are valid for, or None."""
    day = meta.get("kept_as_of")
    if not isinstance(day, str) or not _valid(meta, str(meta["data_version"])):
        return None
    return dt.date.fromisoformat(day)
