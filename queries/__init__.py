"""SQL files, one per question, named by their answer; and the small loader that runs them.

Each file starts with a comment saying what one row is and which named parameters it takes
($as_of, $patient_id ...). Parameters are always bound, never formatted into the text.
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Mapping
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

HERE = Path(__file__).resolve().parent
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


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


def _execute(
    cur: duckdb.DuckDBPyConnection,
    name: str,
    given: Mapping[str, pa.Table] | None,
    params: dict,
    kept: frozenset[str] = frozenset(),
) -> duckdb.DuckDBPyConnection:
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
    return cur.execute(sql(name, names, kept), {k: v for k, v in params.items() if k in used})


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
    if "patient_ids" in params and params["patient_ids"] is None:  # a row per patient, maybe
        return frame(cur, run_arrow(cur, name, given=given, kept=kept, **params))
    return _execute(cur, name, given, params, kept).df()  # a few rows: .df() straight is quicker


def frame(cur: duckdb.DuckDBPyConnection, table: pa.Table, arrow_from: int = 1000) -> pd.DataFrame:
    """An answer as a DataFrame, with the column types DuckDB's .df() gives. From `arrow_from`
    rows its text columns are made from Arrow: .df() makes a Python string of every cell first,
    five times slower (the caseload's 19,000 patient rows of a network: 28 ms against 5), while
    for a few rows the two steps cost more than they save. A column with no text in it (every
    value NULL) stays as .df() makes it: object, where Arrow would say str."""
    if table.num_rows < arrow_from:
        return cur.from_arrow(table).df()
    names = table.column_names
    text = [
        i
        for i, f in enumerate(table.schema)
        if (pa.types.is_string(f.type) or pa.types.is_large_string(f.type))
        and table.column(i).null_count < table.num_rows
    ]
    if not text or len(set(names)) < len(names):
        return cur.from_arrow(table).df()
    rest = [i for i in range(len(names)) if i not in text]
    parts = [table.select(text).to_pandas()]
    if rest:
        parts.append(cur.from_arrow(table.select(rest)).df())
    return pd.concat(parts, axis=1)[names]


def run_arrow(
    cur: duckdb.DuckDBPyConnection,
    name: str,
    *,
    given: Mapping[str, pa.Table] | None = None,
    kept: frozenset[str] = frozenset(),
    **params,
) -> pa.Table:
    """As run(), as an Arrow table: the exact column types, for another query to build on."""
    result = _execute(cur, name, given, params, kept)
    with warnings.catch_warnings():  # the copy it warns of is one per answer, and small
        warnings.simplefilter("ignore", UserWarning)
        return result.to_arrow_table()


class Answers:
    """Runs queries on one cursor, computing each included answer once (per parameters) and
    reusing it: what the dashboard's cache does, for the CLI and the benchmark."""

    def __init__(self, cur: duckdb.DuckDBPyConnection):
        self.cur = cur
        self._tables: dict[tuple, pa.Table] = {}

    def given(self, name: str, params: Mapping) -> dict[str, pa.Table]:
        return {other: self.table(other, **{k: params[k] for k in params_of(other)})
                for other in includes(name)}  # fmt: skip

    def table(self, name: str, **params) -> pa.Table:
        key = (name, tuple(sorted((k, repr(v)) for k, v in params.items())))
        if key not in self._tables:
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
