"""Answers the store keeps: the whole caseload's summary, flags and flag lists on one as-of day,
the caseload's patient rows for the periods the caseload page opens on, and the caseload page's
other answers for the view each of its tabs opens on.

The agenda and every caseload view build on these answers, and computing them reads every table
of the store (about 0.4 s for 20,000 patients, 2 s for 100,000; the caseload page's previous
period and year of cohorts as much again). So the store keeps them, computed inside the
transaction of each write that changes what they are computed from: an import recomputes them
all for the as-of day the dashboard opens on (today, or the day it was started with), and the
dashboard does the same when it starts or a day passes with no import (keep_day); marking a
patient reviewed recomputes that patient's rows, and the caseload page's answers whole; a
meeting's other writes leave them as they were, as none of them is an input. A page reads a kept
answer only when it stands exactly for what it asked: the same as-of day (and period, and
breakdown), every patient (a caseload filter is applied to the kept patient rows; the caseload
page's other answers are kept unfiltered only), the store's current data version, and the same
SQL as this version of the dashboard. Anything else (another as-of day or period, a write that
did not keep them, a store kept by an older version) is computed as before.
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
from dashboard import store

# A row per patient, in the order they are computed: the flag lists build on the flags, the
# caseload's patient rows on the summary.
PER_PATIENT = ("patient_summary", "patient_flags", "patient_flag_lists", "caseload_patients")
# The caseload page's other answers for the view each tab opens on (no filter), each kept
# whole; most build on the kept patient rows, and they are computed after them.
WHOLE = ("caseload_kpis", "caseload_breakdown", "caseload_cohorts", "caseload_factors",
         "caseload_flags", "caseload_over_time", "caseload_barriers")  # fmt: skip
# The day's meeting agenda, kept whole: it builds on the kept summary and flags, and on the
# meeting's own rows, so every meeting write recomputes it too.
MEETING = ("meeting_agenda",)
KEPT = PER_PATIENT + WHOLE + MEETING
AS_OF_ENV = "MDT_AS_OF"  # the day the dashboard opens on, when it was started with --as-of
# A caseload filter a kept answer's rows are narrowed by when read (the column it filters on):
# caseload_patients.sql narrows its members by exactly these, row by row.
FILTERS = {"caseload_patients": {"sites": "site", "clinicians": "primary_clinician_id",
                                 "conditions": "condition"}}  # fmt: skip
# The parameters each is kept for, other than the as-of day alone: the caseload's period, and
# what the breakdown groups by.
KEYS = {"caseload_patients": ("as_of", "start"), "caseload_kpis": ("as_of", "start"),
        "caseload_breakdown": ("as_of", "start", "by"), "caseload_cohorts": ("as_of", "start"),
        "caseload_factors": ("as_of", "start"), "meeting_agenda": ("as_of", "meeting_id")}  # fmt: skip
T = TypeVar("T")


def keys(name: str) -> tuple[str, ...]:
    """The parameters a kept answer is kept for, each in a column _kept_<parameter>."""
    return KEYS.get(name, ("as_of",))


def variants(name: str, day: dt.date) -> list[dict]:
    """For the as-of day kept: the parameter values each kept answer is kept for. The caseload
    page opens on its default period and breakdown, compares the period's KPIs with the
    previous one's, and draws a year of cohorts; everything else is asked for the as-of day."""
    if name not in KEYS:
        return [{"as_of": day}]
    if name == "meeting_agenda":  # the day's meeting
        return [{"as_of": day, "meeting_id": store.meeting_id_for(day)}]
    from dashboard import caseload  # the page's periods

    shown, previous, year = caseload.default_periods(day)
    periods = {"caseload_patients": (shown, previous, year), "caseload_kpis": (shown, previous),
               "caseload_breakdown": (shown,), "caseload_cohorts": (year,),
               "caseload_factors": (shown,)}[name]  # fmt: skip
    by = {"by": caseload.DEFAULT_BY} if "by" in keys(name) else {}
    return [{"as_of": p.as_of, "start": p.start, **by} for p in periods]


def read_sql(name: str, own: bool) -> str:
    """How a kept answer is read: as an included answer (the rows kept for the parameters of the
    query that builds on it), or as the answer itself (`own`: in the order the query computes
    it; a row per patient: also only the patients in $patient_ids when it is a list)."""
    where = [f"_kept_{k} = ${k}" for k in keys(name)]
    where += [f"(${p} IS NULL OR list_contains(CAST(${p} AS VARCHAR[]), {column}))"
              for p, column in FILTERS.get(name, {}).items()]  # fmt: skip
    if own and name in PER_PATIENT:
        where.append(
            "($patient_ids IS NULL OR list_contains(CAST($patient_ids AS VARCHAR[]), patient_id))"
        )
    columns = ", ".join(["_kept_row", *(f"_kept_{k}" for k in keys(name))])
    # Every kept table is stored in the order its query gives (_replace, _update_in_place and
    # _rewrite_in_order keep it), and DuckDB keeps a table's row order through a SELECT ...
    # WHERE on it (its documented order preservation), so it is read without a sort: the
    # caseload's 19,000 patient rows of a network in 5 ms instead of 10, the agenda's 12,000 in 5.
    return f"SELECT * EXCLUDE ({columns}) FROM {table_name(name)} WHERE {' AND '.join(where)}"


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
    """Names the SQL the kept answers were computed with and the periods they are kept for: a
    store kept by another version of the dashboard is not read."""
    digest = hashlib.sha256()
    for name in KEPT:  # how each is computed, for which parameters, and how it is read
        digest.update(queries.sql(name).encode())
        digest.update(repr(variants(name, dt.date(2000, 1, 1))).encode())
        digest.update(read_sql(name, own=False).encode() + read_sql(name, own=True).encode())
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
    cur: duckdb.DuckDBPyConnection,
    day: dt.date,
    names: Iterable[str],
    patient_ids: list[str] | None = None,
    on_kept: bool = False,
) -> dict[str, pa.Table]:
    """The kept answers `names` for the as-of day kept: each one's rows for each of its
    variants, numbered. A row per patient: for `patient_ids` (None: everyone); the caseload
    page's answers: whole. What they build on is what was computed just before them, or
    (`on_kept`) the store's kept tables as this write has left them."""
    computed: dict[tuple, pa.Table] = {}  # (name, its key values) -> answer, for those built on it
    answers: dict[str, pa.Table] = {}
    for name in names:
        parts = []
        for variant in variants(name, day):
            params = {p: variant.get(p) for p in queries.params_of(name)}  # no filter: all
            if "patient_ids" in params:
                params["patient_ids"] = patient_ids if name in PER_PATIENT else None
            given = {}
            for other in queries.includes(name):
                key = (other, tuple(params[k] for k in keys(other)))
                if key in computed:
                    given[other] = computed[key]
            served = frozenset(queries.includes(name)) - set(given) if on_kept else frozenset()
            table = queries.run_arrow(cur, name, given=given, kept=served, **params)
            computed[(name, tuple(variant[k] for k in keys(name)))] = table
            parts.append(_numbered(name, table, variant))
        answers[name] = pa.concat_tables(parts)
    return answers


def _numbered(name: str, table: pa.Table, variant: Mapping) -> pa.Table:
    """The answer with the parameters it was computed for (_kept_as_of ...) and each row's place
    in it (_kept_row): rows are read back in the order the query gave them."""
    for k in keys(name):
        kind = pa.date32() if isinstance(variant[k], dt.date) else pa.string()
        table = table.append_column(f"_kept_{k}", pa.array([variant[k]] * table.num_rows, kind))
    return table.append_column("_kept_row", pa.array(range(table.num_rows), pa.int64()))


def _replace(cur: duckdb.DuckDBPyConnection, answers: Mapping[str, pa.Table]) -> None:
    """Each answer's table made anew; a row per patient is indexed by patient, as the patient
    page, the presenter and the agenda's rows read a few patients' rows (at 20,000 patients a
    scan of the flag lists for the agenda's 40 rows took 10 ms, the index 6)."""
    for name, table in answers.items():
        cur.register("_kept_answer", table)
        cur.execute(f"CREATE OR REPLACE TABLE {table_name(name)} AS SELECT * FROM _kept_answer")
        cur.unregister("_kept_answer")
        if name in PER_PATIENT:
            _index(cur, name)


def _order(name: str) -> str:
    """The order a row-per-patient kept table is stored in: each variant's rows in the order its
    query gives them (a row per patient: by patient, then the query's order within one)."""
    return ", ".join([*(f"_kept_{k}" for k in keys(name)), "patient_id", "_kept_row"])


def _same_as_kept(cur: duckdb.DuckDBPyConnection, name: str, ids: list[str]) -> bool:
    """Whether the rows registered as _kept_answer, recomputed for `ids`, are the rows kept for
    them (leaving aside each row's place, numbered within what was computed). Marking a patient
    reviewed changes their summary only, and a table whose rows are unchanged is left as it
    is, in its order."""
    kept_rows, computed = (
        cur.sql(
            f"SELECT * EXCLUDE (_kept_row) FROM {source} "
            f"WHERE list_contains($ids, patient_id) ORDER BY {_order(name)}",
            params={"ids": ids},
        ).to_arrow_table()
        for source in (table_name(name), "_kept_answer")
    )
    return kept_rows.equals(computed)


def _update_in_place(cur: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> bool:
    """The kept rows of the patients in `table` (registered as _kept_answer) updated in place,
    where each patient has one row for each variant kept and still has exactly one: their
    place in the table, and so its order, stays (the summary of a patient marked reviewed, a
    millisecond at 20,000 patients where writing the table anew takes 25 ms and as much again
    to commit). False when some patient's row count changed; nothing is written then."""
    where = " AND ".join(f"t._kept_{k} = n._kept_{k}" for k in keys(name))
    computed, one_to_one, kept_rows = cur.execute(
        f"SELECT count(*), count(*) FILTER (WHERE k = 1 AND n = 1), "
        f"(SELECT count(*) FROM {table_name(name)} "
        f"WHERE patient_id IN (SELECT patient_id FROM _kept_answer)) FROM ("
        f"SELECT (SELECT count(*) FROM {table_name(name)} t WHERE t.patient_id = n.patient_id "
        f"AND {where}) AS k, count(*) OVER (PARTITION BY n.patient_id, "
        f"{', '.join(f'n._kept_{k}' for k in keys(name))}) AS n FROM _kept_answer n)"
    ).fetchone()
    if not computed == one_to_one == kept_rows:
        return False
    fixed = {"patient_id", "_kept_row", *(f"_kept_{k}" for k in keys(name))}
    columns = [c for c in table.column_names if c not in fixed]
    cur.execute(
        f"UPDATE {table_name(name)} t SET "
        + ", ".join(f'"{c}" = n."{c}"' for c in columns)
        + f" FROM _kept_answer n WHERE t.patient_id = n.patient_id AND {where}"
    )
    return True


def _rewrite_in_order(cur: duckdb.DuckDBPyConnection, name: str, ids: list[str]) -> None:
    """The kept table of `name` with the rows of `ids` replaced by those registered as
    _kept_answer, written anew in its order (a delete and an insert would leave the new rows
    at the end, and reads do not sort). At 20,000 patients the summary takes about 25 ms, and
    as much again to commit."""
    table = table_name(name)
    cur.execute(
        f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM ("
        f"SELECT * FROM {table} WHERE NOT list_contains($ids, patient_id) "
        f"UNION ALL BY NAME SELECT * FROM _kept_answer) ORDER BY {_order(name)}",
        {"ids": ids},
    )
    _index(cur, name)


def _index(cur: duckdb.DuckDBPyConnection, name: str) -> None:
    cur.execute(f"CREATE INDEX {table_name(name)}_patient ON {table_name(name)} (patient_id)")


def refresh(
    cur: duckdb.DuckDBPyConnection,
    as_of: dt.date | None = None,
    patient_ids: Iterable[str] | None = None,
) -> None:
    """Recompute the kept answers inside the caller's write (store.write, which has already
    moved the data version on): all of them for `as_of` (default: the day the dashboard opens
    on), or on the day already kept only the rows of `patient_ids`, and then the caseload page's
    answers whole. Rows for a few patients are only recomputed while the kept answers are valid
    up to this write; otherwise they stay invalid until the next full refresh, and pages compute
    the answers themselves."""
    meta = _meta(cur)
    version = meta["data_version"]
    if patient_ids is None:
        day = as_of or default_as_of()
        _replace(cur, _compute(cur, day, KEPT))
        _set_meta(cur, {"kept_as_of": day.isoformat(), "kept_version": version,
                        "kept_code": code_key()})  # fmt: skip
        return
    if not _valid(meta, str(int(version) - 1)):
        return
    ids = sorted(set(patient_ids))
    day = dt.date.fromisoformat(meta["kept_as_of"])
    for name, table in _compute(cur, day, PER_PATIENT, ids).items():
        cur.register("_kept_answer", table)
        try:
            if _same_as_kept(cur, name, ids):
                continue
            if not _update_in_place(cur, name, table):
                _rewrite_in_order(cur, name, ids)
        finally:
            cur.unregister("_kept_answer")
    _replace(cur, _compute(cur, day, WHOLE + MEETING, on_kept=True))
    _set_meta(cur, {"kept_version": version})


def keep_day(st_: store.Store, day: dt.date) -> bool:
    """Make the kept answers stand for `day` (the day the dashboard opens on) when they do not:
    the store was last written on another day, or by a write that did not keep them. The
    dashboard does it when it starts and on the first visit of each new day, so the agenda and
    the caseload read kept answers on the day the team uses them, not only on a day with an
    import. A write of its own that moves the data version, as what the pages read changes,
    but not the time the data last changed. False when there was nothing to do (already kept
    for `day`, kept meanwhile by another write, or a read-only store)."""
    if st_.read_only:
        return False
    cur = st_.cursor()
    try:
        if kept_as_of(cur) == day:
            return False
    finally:
        cur.close()
    with st_.write(changed_at=False) as cur:
        if kept_in_this_write(cur, day):  # an import kept them while this waited for the lock
            _set_meta(cur, {"kept_version": _meta(cur)["data_version"]})
            return False
        refresh(cur, day)
    return True


def carry(cur: duckdb.DuckDBPyConnection) -> None:
    """This write (store.write, a meeting's) changes nothing the kept answers are computed from
    but the meeting's own rows: if they were valid before it, they stay valid after it, and the
    agenda, which shows those rows, is computed again whole on the kept answers."""
    meta = _meta(cur)
    version = meta["data_version"]
    if _valid(meta, str(int(version) - 1)):
        day = dt.date.fromisoformat(meta["kept_as_of"])
        _replace(cur, _compute(cur, day, MEETING, on_kept=True))
        _set_meta(cur, {"kept_version": version})


def _asks_for_kept(name: str, params: Mapping, own: bool) -> bool:
    """Whether `params` ask `name` for rows it keeps (leaving aside the day): every patient, or
    (`own`, a row per patient) a list of them; no parameter set but its keys and filters."""
    free = {*keys(name), *FILTERS.get(name, {})}
    for p in queries.params_of(name):
        listed = isinstance(params.get(p), list | tuple)
        if p == "patient_ids" and own and name in PER_PATIENT and listed:
            continue
        if p not in free and params.get(p) is not None:
            return False
    return all(
        isinstance(params.get(k), dt.date) if k in ("as_of", "start") else params.get(k) is not None
        for k in keys(name)
    )


def _kept_for(name: str, params: Mapping, day: dt.date) -> bool:
    return {k: params[k] for k in keys(name)} in variants(name, day)


def from_kept(
    cur: duckdb.DuckDBPyConnection, name: str, params: Mapping, run: Callable[..., T]
) -> T | None:
    """`run(cur, name, kept=..., **params)` (queries.run or run_arrow) reading the answers
    `name` builds on from the store's kept tables, when the store keeps them for `params`: the
    as-of day (and period) kept, every patient (patient_ids NULL; a caseload filter is applied
    to the kept rows), the current data version and this version's SQL; or, for a kept answer
    itself, its rows (for the patients in a list: the patient page's one). None when it does
    not: the caller computes them. The check and the query run in one read transaction, so they
    see the kept tables and the meta that vouches for them at the same moment."""
    ways = []  # its own kept rows; else computed on the kept answers it builds on
    if name in KEPT:
        ways.append(frozenset({name}))
    included = frozenset(queries.includes(name))
    if included and included <= set(KEPT):
        ways.append(included)
    ways = [w for w in ways if all(_asks_for_kept(s, params, own=s == name) for s in w)]
    if not ways:
        return None
    cur.begin()
    try:
        day = day_kept(_meta(cur))
        served = next(
            (w for w in ways if day is not None and all(_kept_for(s, params, day) for s in w)),
            None,
        )
        if served is None:
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
