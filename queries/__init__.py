"""SQL files, one per question, named by their answer; and the small loader that runs them.

Each file starts with a comment saying what one row is and which named parameters it takes
($as_of, $patient_id ...). Parameters are always bound, never formatted into the text.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

HERE = Path(__file__).resolve().parent
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
T = TypeVar("T")


# Answers with a row per patient (or per flag, or action) of the whole caseload when their
# $patient_ids are NULL: run() makes their frames through Arrow (frame()). Every other answer has
# a few rows, and .df() straight is quicker for those (one round trip, not two: the caseload
# page's seven small answers 0.8 ms each quicker).
ROW_PER_PATIENT = frozenset({"patient_summary", "patient_flags", "patient_flag_lists",
                             "patient_pain", "caseload_patients", "meeting_agenda",
                             "review_actions"})  # fmt: skip
# Answers whose rows for a patient are the same whichever other patients are asked for with
# them (the agenda's are not: its places depend on the set): a few patients' rows are those rows
# of the whole caseload's answer (patient_ids NULL), when that has been computed already.
SAME_ROWS_PER_PATIENT = frozenset({"patient_summary", "patient_flags", "caseload_patients"})


def rows_of_patients(whole: pa.Table, patient_ids) -> pa.Table:
    """The rows of `patient_ids` in the whole caseload's answer, in its order: the answer for
    them, for a query in SAME_ROWS_PER_PATIENT (each ordered by patient)."""
    wanted = pa.array(list(patient_ids), pa.string())
    return whole.filter(pc.is_in(whole["patient_id"], value_set=wanted))


_INCLUDE = re.compile(r"\{\{\s*([a-z][a-z0-9_]*)\s*\}\}")


@functools.cache
def sql(name: str, given: frozenset[str] = frozenset(), kept: frozenset[str] = frozenset()) -> str:
    """The text of queries/<name>.sql, with each `{{ other }}` replaced by the text of
    queries/other.sql as a subquery, so one question can build on another's answer (the agenda
    on the flags) in one statement; the included query's parameters become this one's.

    An included query named in `given` is read instead from a relation registered under
    given_name(other): its answer, computed once and reused by every query that builds on it.
    One named in `kept` is read from the store's table kept_<other> (dashboard/kept.py): its
    answer, kept by the store for these parameters. When `name` itself is in `kept`, the text
    reads its kept rows (for the patients in $patient_ids when a list), in its order."""
    if not _NAME.match(name):
        raise ValueError(f"not a query name: {name!r}")
    if name in kept:  # the answer itself, kept
        return _kept().read_sql(name, own=True)
    text = (HERE / f"{name}.sql").read_text(encoding="utf-8")

    def include(m: re.Match) -> str:
        other = m.group(1)
        if other in given:
            return f"(SELECT * FROM {given_name(other)})"
        if other in kept:
            return f"({_kept().read_sql(other, own=False)})"
        return f"(\n{sql(other)}\n)"

    return _INCLUDE.sub(include, text)


def given_name(name: str) -> str:
    return f"given_{name}"


# Answers a query computes within itself, not given computed whole, when the store does not
# keep them: DuckDB then computes only the columns and rows the query uses of them. The
# caseload's patient rows use a third of the summary's columns (20,000 patients: the summary
# and the patient rows 165 ms -> 138, the same rows).
COMPUTED_WITHIN = {"caseload_patients": frozenset({"patient_summary"})}


def given_includes(name: str) -> tuple[str, ...]:
    """The answers a query builds on that are computed once and given to it (includes(name)
    but those it computes within itself, COMPUTED_WITHIN)."""
    return tuple(o for o in includes(name) if o not in COMPUTED_WITHIN.get(name, ()))


@functools.cache
def includes(name: str) -> tuple[str, ...]:
    """The queries queries/<name>.sql builds on directly (its `{{ other }}`s)."""
    text = (HERE / f"{name}.sql").read_text(encoding="utf-8")
    return tuple(dict.fromkeys(_INCLUDE.findall(text)))


@functools.cache
def params_of(
    name: str, given: frozenset[str] = frozenset(), kept: frozenset[str] = frozenset()
) -> frozenset[str]:
    """The named parameters a query uses ($as_of -> 'as_of')."""
    text = re.sub(r"--[^\n]*", "", sql(name, given, kept))
    return frozenset(re.findall(r"\$([a-z_][a-z0-9_]*)", text))


def _statement(
    cur: duckdb.DuckDBPyConnection,
    name: str,
    given: Mapping[str, pa.Table] | None,
    params: dict,
    kept: frozenset[str] = frozenset(),
) -> tuple[str, dict]:
    """The text to run for queries/<name>.sql and the parameters it uses, with the answers
    `given` registered on `cur`."""
    wanted = params_of(name)
    if set(params) != wanted:
        raise TypeError(f"{name}.sql takes {sorted(wanted)}, got {sorted(params)}")
    given = given or {}
    for other, table in given.items():
        if other not in includes(name):
            raise ValueError(f"{name}.sql does not build on {other}.sql")
        cur.register(given_name(other), table)
    names = frozenset(given)
    kept = frozenset(kept).intersection({*includes(name), name}) - names
    used = params_of(name, names, kept)
    return sql(name, names, kept), {k: v for k, v in params.items() if k in used}


def run(
    cur: duckdb.DuckDBPyConnection,
    name: str,
    *,
    given: Mapping[str, pa.Table] | None = None,
    kept: frozenset[str] = frozenset(),
    **params,
) -> pd.DataFrame:
    """Run queries/<name>.sql with bound named parameters; one DataFrame of its rows.

    `given`: answers already computed for queries this one builds on (with the same parameters),
    read instead of computed again. `kept`: those of them the store keeps for these parameters
    (kept.from_kept() says which), read from its kept_ tables."""
    if name in ROW_PER_PATIENT and params.get("patient_ids", ()) is None:  # a network's rows
        return frame(cur, run_arrow(cur, name, given=given, kept=kept, **params))
    # a few rows: .df() straight is quicker
    try:
        return cur.execute(*_statement(cur, name, given, params, kept)).df()
    finally:
        _unregister(cur, given)


def frame(cur: duckdb.DuckDBPyConnection, table: pa.Table, arrow_from: int = 1000) -> pd.DataFrame:
    """An answer as a DataFrame, with the column types and values DuckDB's .df() gives. From
    `arrow_from` rows the columns pyarrow turns into those same types (text, numbers, booleans,
    dates, decimals, timestamps, lists) are made from Arrow, and only the rest by DuckDB: .df()
    makes a Python string of every text cell first, five times slower, and goes through a
    second query (the caseload's 19,000 patient rows of a network: 28 ms by .df(), 8 with only
    the text from Arrow, 3 now), while for a few rows the steps cost more than they save."""
    if table.num_rows < arrow_from or len(set(table.column_names)) < table.num_columns:
        return cur.from_arrow(table).df()
    made, rest = {}, []
    for name, column in zip(table.column_names, table.columns, strict=True):
        series = _from_arrow(column)
        if series is None:
            rest.append(name)
        else:
            made[name] = series
    if rest:
        made.update(cur.from_arrow(table.select(rest)).df().items())
    return pd.DataFrame({name: made[name] for name in table.column_names})


def _from_arrow(column: pa.ChunkedArray) -> pd.Series | None:
    """One column as .df() makes it, by pyarrow; None for a type this does not make (structs,
    maps, intervals, timestamps with a time zone ...)."""
    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        if column.null_count == len(column):  # .df(): object, every value None
            return pd.Series([None] * len(column), dtype=object)
        return column.to_pandas()
    if pa.types.is_timestamp(kind) and kind.tz is None:  # .df(): datetime64[us]
        return column.cast(pa.timestamp("us")).to_pandas()
    if pa.types.is_list(kind):  # .df(): each list a NumPy array, a NULL list pandas' NA
        series = column.to_pandas()
        return series.where(series.notna(), pd.NA) if column.null_count else series
    if pa.types.is_date32(kind):  # .df(): datetime64[us]
        return column.cast(pa.timestamp("us")).to_pandas()
    if pa.types.is_decimal(kind):  # .df(): float64
        return column.cast(pa.float64()).to_pandas()
    if pa.types.is_boolean(kind):  # .df(): bool, or pandas' boolean when there are NULLs
        mapper = {pa.bool_(): pd.BooleanDtype()}.get if column.null_count else None
        return column.to_pandas(types_mapper=mapper)
    if pa.types.is_integer(kind):  # .df(): with NULLs, pandas' nullable integer of its size
        mapper = _NULLABLE_INTEGER.get if column.null_count else None
        return column.to_pandas(types_mapper=mapper)
    if pa.types.is_floating(kind):
        return column.to_pandas()
    return None


_NULLABLE_INTEGER = {pa.int8(): pd.Int8Dtype(), pa.int16(): pd.Int16Dtype(),
                     pa.int32(): pd.Int32Dtype(), pa.int64(): pd.Int64Dtype(),
                     pa.uint8(): pd.UInt8Dtype(), pa.uint16(): pd.UInt16Dtype(),
                     pa.uint32(): pd.UInt32Dtype(), pa.uint64(): pd.UInt64Dtype()}  # fmt: skip


def run_arrow(
    cur: duckdb.DuckDBPyConnection,
    name: str,
    *,
    given: Mapping[str, pa.Table] | None = None,
    kept: frozenset[str] = frozenset(),
    **params,
) -> pa.Table:
    """As run(), as an Arrow table: the exact column types, for another query to build on."""
    try:
        text, used = _statement(cur, name, given, params, kept)
        # As a relation, not a DB-API result: DuckDB copies the rows of the latter once more on
        # the way to Arrow (the caseload's 19,000 patient rows of a network: 6 ms against 5).
        return cur.sql(text, params=used).to_arrow_table()
    finally:
        _unregister(cur, given)


def _unregister(cur: duckdb.DuckDBPyConnection, given: Mapping[str, pa.Table] | None) -> None:
    """Let go of the answers _statement() registered on `cur`, which may be a cursor kept for
    the next query (Store.reader()): it would hold a network's rows until it registered others."""
    for other in given or ():
        cur.unregister(given_name(other))


def side_by_side(calls: Sequence[Callable[[], T]]) -> list[T]:
    """Each call's result, in order: the first on this thread and the others at the same time,
    each on a thread of its own (DuckDB releases the GIL while it runs a query), so a call that
    waits for another's answer never holds up a pool it shares. The agenda's flags and summary
    on a day the store does not keep: 20,000 patients, 295-313 ms for the page -> 265-289."""
    if len(calls) < 2:
        return [call() for call in calls]
    with ThreadPoolExecutor(max_workers=len(calls) - 1, thread_name_prefix="given") as pool:
        others = [pool.submit(call) for call in calls[1:]]
        first = calls[0]()
        return [first, *(other.result() for other in others)]


class Answers:
    """Runs queries, computing each included answer once (per parameters) and reusing it: what
    the dashboard's cache does, for the CLI and the benchmark. On one cursor; or, given
    `cursor` (a function that opens one), from several threads at once, each on a cursor of
    its own, as the dashboard's pages run two at a time: a thread asking for an answer another
    is computing waits for it, as the dashboard's cache does."""

    def __init__(
        self,
        cur: duckdb.DuckDBPyConnection | None = None,
        *,
        cursor: Callable[[], duckdb.DuckDBPyConnection] | None = None,
    ):
        if (cur is None) == (cursor is None):
            raise TypeError("Answers takes a cursor, or a function that opens one")
        self._cur, self._open = cur, cursor
        self._local = threading.local()
        self._opened: list[duckdb.DuckDBPyConnection] = []
        self._tables: dict[tuple, pa.Table] = {}
        self._locks: dict[tuple, threading.Lock] = {}
        self._lock = threading.Lock()

    @property
    def cur(self) -> duckdb.DuckDBPyConnection:
        if self._cur is not None:
            return self._cur
        if getattr(self._local, "cur", None) is None:
            self._local.cur = self._open()
            with self._lock:
                self._opened.append(self._local.cur)
        return self._local.cur

    def close(self) -> None:
        """Close the cursors opened for threads."""
        with self._lock:
            for cur in self._opened:
                cur.close()
            self._opened.clear()

    def given(self, name: str, params: Mapping) -> dict[str, pa.Table]:
        """The answers `name` builds on; side by side when each thread has a cursor of its own."""
        others = given_includes(name)
        calls = [functools.partial(self.table, other, **{k: params[k] for k in params_of(other)})
                 for other in others]  # fmt: skip
        answers = side_by_side(calls) if self._open else [call() for call in calls]
        return dict(zip(others, answers, strict=True))

    @staticmethod
    def _key(name: str, params: Mapping) -> tuple:
        return (name, tuple(sorted((k, repr(v)) for k, v in params.items())))

    def _from_whole(self, name: str, params: Mapping) -> pa.Table | None:
        """A few patients' rows from the whole caseload's answer, when it was computed here
        (every query in SAME_ROWS_PER_PATIENT is one others build on, so asked as a table)."""
        ids = params.get("patient_ids")
        if name not in SAME_ROWS_PER_PATIENT or ids is None:
            return None
        whole = self._tables.get(self._key(name, {**params, "patient_ids": None}))
        return None if whole is None else rows_of_patients(whole, ids)

    def table(self, name: str, **params) -> pa.Table:
        key = self._key(name, params)
        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._tables:
                answer = self._from_whole(name, params)
                if answer is None:
                    answer = _kept().from_kept(self.cur, name, params, run_arrow)
                if answer is None:
                    answer = run_arrow(self.cur, name, given=self.given(name, params), **params)
                self._tables[key] = answer
        return self._tables[key]

    def __call__(self, name: str, **params) -> pd.DataFrame:
        if name in included_anywhere():  # others build on it: computed once, as a table
            return frame(self.cur, self.table(name, **params))
        answer = _kept().from_kept(self.cur, name, params, run)
        if answer is None:
            answer = run(self.cur, name, given=self.given(name, params), **params)
        return answer


def _kept():
    """dashboard/kept.py: the answers the store keeps (imported here, as it builds on this)."""
    from dashboard import kept

    return kept


@functools.cache
def included_anywhere() -> frozenset[str]:
    """Every query some other query builds on."""
    return frozenset(o for p in HERE.glob("*.sql") for o in includes(p.stem))
