"""SQL files, one per question, named by their answer; and the small loader that runs them.

Each file starts with a comment saying what one row is and which named parameters it takes
($as_of, $patient_id ...). Parameters are always bound, never formatted into the text.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import duckdb
import pandas as pd

HERE = Path(__file__).resolve().parent
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


_INCLUDE = re.compile(r"\{\{\s*([a-z][a-z0-9_]*)\s*\}\}")


@functools.cache
def sql(name: str) -> str:
    """The text of queries/<name>.sql, with each `{{ other }}` replaced by the text of
    queries/other.sql as a subquery, so one question can build on another's answer (the agenda
    on the flags) in one statement; the included query's parameters become this one's."""
    if not _NAME.match(name):
        raise ValueError(f"not a query name: {name!r}")
    text = (HERE / f"{name}.sql").read_text(encoding="utf-8")
    return _INCLUDE.sub(lambda m: f"(\n{sql(m.group(1))}\n)", text)


def params_of(name: str) -> set[str]:
    """The named parameters a query uses ($as_of -> 'as_of')."""
    text = re.sub(r"--[^\n]*", "", sql(name))
    return set(re.findall(r"\$([a-z_][a-z0-9_]*)", text))


def run(cur: duckdb.DuckDBPyConnection, name: str, **params) -> pd.DataFrame:
    """Run queries/<name>.sql with bound named parameters; one DataFrame of its rows."""
    wanted = params_of(name)
    if set(params) != wanted:
        raise TypeError(f"{name}.sql takes {sorted(wanted)}, got {sorted(params)}")
    return cur.execute(sql(name), params).df()
