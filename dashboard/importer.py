"""Validated, atomic, idempotent import of CSV and Parquet files (shared/DATA_MODEL.md).

parse -> stage every file as text in temporary tables -> validate every row in SQL against the
declared schema (dashboard/schema.py) -> apply the whole batch in one transaction (delete by key,
then insert: an upsert, so importing the same files twice changes nothing).

When another process holds the store (normally the running dashboard), `import_path` validates
what it can without the store and queues the batch in the store's inbox; the dashboard applies it
with `apply_inbox`.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import json
import os
import shutil
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from dashboard import fhir, kept, schema, store
from dashboard.schema import Column, Table

SUPPORTED = {".csv": "csv", ".parquet": "parquet"}
SCREEN_ERRORS = 50  # rejected rows shown on screen; the CSV report has all of them

Progress = Callable[[float, str], None]


class ImportFailed(Exception):
    """The batch cannot be imported at all; the message says why and what to do."""


@dataclass(frozen=True)
class RowError:
    file: str
    line: int | None
    column: str | None
    value: str | None
    rule: str

    def sentence(self) -> str:
        where = self.file + (f", line {self.line}" if self.line else "")
        col = f", column {self.column}" if self.column else ""
        val = f" = {self.value!r}" if self.value is not None else ""
        return f"{where}{col}{val}: {self.rule}"


@dataclass
class SourceFile:
    table: Table
    path: Path
    fmt: str

    @property
    def name(self) -> str:
        return self.path.name


@dataclass
class ImportResult:
    batch_id: str
    source: str
    files: list[str]
    accepted: dict[str, int] = field(default_factory=dict)
    rejected_rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    applied: bool = False
    queued_to: Path | None = None
    rows_staged: int = 0

    @property
    def rows_accepted(self) -> int:
        return sum(self.accepted.values())

    def summary(self) -> str:
        if self.queued_to:
            return (
                f"The store is in use by the running dashboard, so the batch "
                f"({plural(self.rows_staged, 'row')} checked) was queued in "
                f"{self.queued_to.parent}; the dashboard applies it within seconds."
            )
        if self.applied:
            parts = ", ".join(f"{t} {n:,}" for t, n in self.accepted.items() if n)
            text = f"Imported {plural(self.rows_accepted, 'row')} ({parts or 'none'})."
            if self.rejected_rows:
                text += f" Skipped {plural(self.rejected_rows, 'invalid row')}."
            return text
        files = len({e.file for e in self.errors})
        return (
            f"Nothing was imported: {plural(len(self.errors), 'problem')} in "
            f"{plural(files, 'file')}. The store is unchanged."
        )


def plural(n: int, word: str) -> str:
    """'1 row', '2 rows', '12,345 rows'."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def report_csv(errors: list[RowError]) -> str:
    """The full rejects report: one row per problem."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["file", "line", "column", "value", "rule"])
    for e in errors:
        w.writerow(
            [e.file, e.line or "", e.column or "", "" if e.value is None else e.value, e.rule]
        )
    return out.getvalue()


# ---------------------------------------------------------------------------------------------
# Finding and reading files


def classify(path: Path) -> SourceFile:
    """The table a file is for, from its name; ImportFailed with a sentence if none."""
    fmt = SUPPORTED.get(path.suffix.lower())
    if fmt is None:
        raise ImportFailed(
            f"{path.name} is not a CSV or Parquet file. Only .csv and .parquet files can be "
            "imported (in Excel: Save As, 'CSV UTF-8')."
        )
    table = schema.TABLES.get(path.stem.lower())
    if table is None:
        raise ImportFailed(
            f"{path.name}: there is no table named '{path.stem}'. Name each file after its table: "
            + ", ".join(schema.TABLES)
            + "."
        )
    return SourceFile(table, path, fmt)


def discover(path: Path) -> tuple[list[SourceFile], list[str]]:
    """The data files of an import (a folder of table files, or one file), and the names of
    other files in the folder that were passed over."""
    if not path.exists():
        raise ImportFailed(f"No file or folder at {path}. Check the path and try again.")
    skipped: list[str] = []
    if path.is_file():
        candidates = [path]
    else:
        entries = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
        candidates = [p for p in entries if p.suffix.lower() in SUPPORTED]
        skipped = [p.name for p in entries if p.suffix.lower() not in SUPPORTED]
        if not candidates:
            raise ImportFailed(
                f"The folder {path} has no .csv or .parquet files. An import is a folder of files "
                "named after the tables (patients.csv, sessions.csv, ...)."
            )
    files: list[SourceFile] = []
    seen: dict[str, Path] = {}
    for p in candidates:
        src = classify(p)
        if src.table.name in seen:
            raise ImportFailed(
                f"{p.name} and {seen[src.table.name].name} are both for table {src.table.name}; "
                "import one file per table."
            )
        seen[src.table.name] = p
        files.append(src)
    return sorted(files, key=lambda f: (f.table.order, f.table.name)), skipped


def _scan_text(src: SourceFile) -> bool:
    """Check a whole CSV is UTF-8 text without binary data; ImportFailed names the line if not.
    Returns whether it has a double quote anywhere: only a quoted cell can hold a newline."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset, quoted = 0, False  # offset: the bytes read before this chunk
    with open(src.path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            quoted = quoted or b'"' in chunk
            if b"\x00" in chunk:
                raise ImportFailed(
                    f"{src.name} is not a text CSV file (it contains binary data). Export the "
                    "table as CSV UTF-8 and import again."
                )
            pending = decoder.getstate()[0]  # the start of a character the last chunk ended in
            try:
                # ASCII is UTF-8 as it is, unless a character began in the chunk before: only
                # other chunks are decoded, and lines are counted only to name a bad byte's (a
                # network's 680 MB: 0.9 s of CPU to 0.3).
                if pending or not chunk.isascii():
                    decoder.decode(chunk)
            except UnicodeDecodeError as e:
                at = offset - len(pending) + e.start  # the bad byte's place in the file
                bad = (pending + chunk)[e.start : e.start + 1].hex().upper()
                raise ImportFailed(
                    f"{src.name} is not UTF-8 text (byte 0x{bad} on line "
                    f"{1 + _newlines_before(src.path, at)}). Save it as 'CSV UTF-8' and import "
                    "again."
                ) from None
            offset += len(chunk)
    return quoted


def _newlines_before(path: Path, at: int) -> int:
    """How many line breaks a file has in its first `at` bytes."""
    count = 0
    with open(path, "rb") as fh:
        while at > 0 and (chunk := fh.read(min(at, 1 << 20))):
            count += chunk.count(b"\n")
            at -= len(chunk)
    return count


def _read_header(src: SourceFile) -> list[str]:
    """The names on a CSV's comma-separated header line."""
    with open(src.path, encoding="utf-8-sig", newline="") as fh:
        header_line = fh.readline()
    try:
        header = next(csv.reader([header_line]))
    except StopIteration:
        header = []
    header = [h.strip() for h in header]
    if not any(header):
        raise ImportFailed(f"{src.name} has no header line: the first line must name the columns.")
    if len(header) == 1:
        for sep, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars")):
            if sep in header[0]:
                raise ImportFailed(
                    f"{src.name} separates its columns with {name}; the import format uses commas. "
                    "Export it again as comma-separated CSV."
                )
    return header


class _TextCheck:
    """_scan_text() of a CSV on a thread of its own, while DuckDB reads the same file (it
    releases the GIL): the whole-file check costs no time of its own. wait() raises what the
    check found; a problem it finds explains a failed read better than DuckDB's message."""

    def __init__(self, src: SourceFile):
        if src.path.stat().st_size == 0:
            raise ImportFailed(
                f"{src.name} is empty (0 bytes): expected a header line of column names."
            )
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="text-check")
        self._future = self._pool.submit(_scan_text, src)

    def wait(self) -> bool:
        """Whether the file has a double quote anywhere (_scan_text)."""
        try:
            return self._future.result()
        finally:
            self._pool.shutdown()


def _header_errors(src: SourceFile, header: list[str]) -> list[RowError]:
    errors = []
    known = set(src.table.column_names)
    seen: set[str] = set()
    for name in header:
        if name not in known:
            errors.append(
                RowError(
                    src.name,
                    1,
                    name,
                    name,
                    f"unknown column: table {src.table.name} has no column '{name}'",
                )
            )
        elif name in seen:
            errors.append(RowError(src.name, 1, name, name, "column appears twice in the header"))
        seen.add(name)
    for c in src.table.columns:
        if c.required and c.name not in header:
            errors.append(
                RowError(src.name, 1, c.name, None, "required column is missing from the header")
            )
    return errors


@dataclass
class Staged:
    src: SourceFile
    stage: str  # temporary view: _row, _nl, then every declared column as text
    rows: int
    # CSV records DuckDB could not split into the header's columns: (record no., text, why)
    parse_rejects: list[tuple[int, str, str]]


def _stage(cur: duckdb.DuckDBPyConnection, src: SourceFile, idx: int) -> tuple[Staged, list]:
    """Load one file into a temporary text table, seen through a view that adds each row's place
    in the file (_row) and the newlines inside its cells (_nl). Returns it and any file-level
    errors."""
    t = src.table
    stage = f"stage_{idx}_{t.name}"
    cols = t.column_names
    if src.fmt == "csv":
        check = _TextCheck(src)
        try:
            header = _read_header(src)
        except (ImportFailed, UnicodeDecodeError) as e:
            check.wait()  # a binary or non-UTF-8 file is named as such first
            if isinstance(e, ImportFailed):
                raise
            raise ImportFailed(f"{src.name} is not UTF-8 text.") from e
        errors = _header_errors(src, header)
        if errors:
            check.wait()
            return Staged(src, stage, 0, []), errors
        columns = {h: "VARCHAR" for h in header}
        rej_t, rej_s = f"rej_{idx}", f"rejscan_{idx}"
        source = (
            "read_csv($path, columns = $columns, header = true, auto_detect = false, delim = ',', "
            f"quote = '\"', escape = '\"', store_rejects = true, rejects_table = '{rej_t}', "
            f"rejects_scan = '{rej_s}')"
        )
        read_as = dict.fromkeys(header, "{}")
        params = {"path": str(src.path), "columns": columns}
    else:
        if src.path.stat().st_size == 0:
            raise ImportFailed(f"{src.name} is empty (0 bytes), so it is not a Parquet file.")
        try:
            described = cur.execute(
                "DESCRIBE SELECT * FROM read_parquet($path)", {"path": str(src.path)}
            ).fetchall()
        except duckdb.Error as e:
            raise ImportFailed(
                f"{src.name} could not be read as Parquet ({_first_line(e)}). Export it again."
            ) from e
        header = [r[0] for r in described]
        errors = _header_errors(src, header)
        if errors:
            return Staged(src, stage, 0, []), errors
        types = {r[0]: r[1] for r in described}
        read_as = {
            h: "array_to_string({}, ';')" if types[h].endswith("[]") else "CAST({} AS VARCHAR)"
            for h in header
        }
        source, params = "read_parquet($path)", {"path": str(src.path)}
    # One pass from the file into a text table, in file order (so its rowid is the record's
    # place in the file): blank cells are missing values, absent optional columns are NULL.
    raw_cols = [f"{read_as[c].format(c)} AS {c}" for c in cols if c in read_as]
    select_cols = [
        f"{blank_to_null(c)} AS {c}" if c in read_as else f"CAST(NULL AS VARCHAR) AS {c}"
        for c in cols
    ]
    # Each text cell is parsed once, here, into its typed value (value(c)), which the checks,
    # the duplicate keys and the insert read: parsed in each of them, a network's 6M
    # home-practice rows took 2.3 s to check, now 0.1 (and 0.7 s more to stage).
    parse = [f"{parsed(c, 'i.' + c.name)} AS {value(c)}" for c in t.columns if c.kind in PARSED]
    data = f"{stage}_data"
    try:
        cur.execute(
            f"CREATE TEMP TABLE {data} AS SELECT {', '.join(['i.*', *parse])} "
            f"FROM (SELECT {', '.join(select_cols)} FROM (SELECT {', '.join(raw_cols)} "
            f"FROM {source})) i",
            params,
        )
    except duckdb.Error as e:
        if src.fmt != "csv":
            raise
        check.wait()
        raise ImportFailed(f"{src.name} could not be read as CSV: {_first_line(e)}") from e
    quoted = True  # a Parquet cell may hold a newline; a CSV one only if quoted
    if src.fmt == "csv":
        quoted = check.wait()
    rejects = []
    if src.fmt == "csv":
        rejects = cur.execute(
            f"SELECT line, csv_line, error_message FROM {rej_t} ORDER BY line"
        ).fetchall()
        cur.execute(f"DROP TABLE IF EXISTS {rej_t}")
        cur.execute(f"DROP TABLE IF EXISTS {rej_s}")
    # Newlines inside quoted cells shift the file's line numbers; counted only when there are any
    # (trim() takes spaces only, so a cell keeps its newlines), looked for only in a file with
    # a quote in it (the whole-file check saw them for free; the look costs 0.25 s for a
    # network's 6M home-practice rows).
    nl = "0"
    if src.fmt == "csv" and quoted:
        any_newline = " OR ".join(f"contains({c}, chr(10))" for c in header)
        if cur.execute(f"SELECT 1 FROM {data} WHERE {any_newline} LIMIT 1").fetchone():
            text = " || ".join(f"coalesce({c}, '')" for c in header)
            nl = f"length({text}) - length(replace({text}, chr(10), ''))"
    cur.execute(f"CREATE TEMP VIEW {stage} AS SELECT rowid AS _row, {nl} AS _nl, * FROM {data}")
    rows = cur.execute(f"SELECT count(*) FROM {data}").fetchone()[0]
    parse_rejects = [(int(rec), text, _first_line_of(msg)) for rec, text, msg in rejects]
    return Staged(src, stage, rows, parse_rejects), []


def _first_line(e: Exception) -> str:
    return _first_line_of(str(e))


def _first_line_of(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


# ---------------------------------------------------------------------------------------------
# Typing and validation, generated from the schema declaration

BOOL_TRUE = ("true", "1", "yes", "y", "t")
BOOL_FALSE = ("false", "0", "no", "n", "f")


def _sql_list(values) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def parsed(c: Column, ref: str | None = None) -> str:
    """SQL for the typed value of a staged text column (NULL when it does not parse)."""
    v = ref or c.name
    if c.kind == "int":
        return (
            f"(CASE WHEN isfinite(TRY_CAST({v} AS DOUBLE)) AND TRY_CAST({v} AS DOUBLE) = "
            f"round(TRY_CAST({v} AS DOUBLE)) THEN CAST(TRY_CAST({v} AS DOUBLE) AS BIGINT) END)"
        )
    if c.kind == "float":
        return f"(CASE WHEN isfinite(TRY_CAST({v} AS DOUBLE)) THEN TRY_CAST({v} AS DOUBLE) END)"
    if c.kind == "date":
        return f"TRY_CAST({v} AS DATE)"
    if c.kind == "timestamp":
        # The session time zone is UTC: an offset converts to UTC, no offset is kept as given.
        # Text in the plain form with no offset (the one a diary exports) is read by strptime
        # first, which takes nothing else: a quarter of the time of the zone-aware cast (a
        # network's 3M ratings, 0.55 s to 0.15), with the same value (each tried on 800k texts).
        return (
            f"coalesce(try_strptime({v}, '%Y-%m-%dT%H:%M:%S'), "
            f"CAST(TRY_CAST({v} AS TIMESTAMPTZ) AS TIMESTAMP))"
        )
    if c.kind == "bool":
        return (
            f"(CASE WHEN lower({v}) IN {tuple(BOOL_TRUE)} THEN true "
            f"WHEN lower({v}) IN {tuple(BOOL_FALSE)} THEN false END)"
        )
    if c.kind == "list":
        items = f"list_filter(list_transform(string_split({v}, ';'), lambda x: trim(x)), lambda x: x <> '')"
        # Plain ASCII with no space and no empty item needs neither trim nor filter.
        return (
            f"(CASE WHEN strlen({v}) = length({v}) AND NOT contains({v}, ' ') AND NOT "
            f"contains({v}, ';;') AND NOT starts_with({v}, ';') AND NOT ends_with({v}, ';') "
            f"THEN string_split({v}, ';') ELSE {items} END)"
        )
    return v


def blank_to_null(v: str) -> str:
    """SQL for a text cell without its surrounding spaces, NULL when nothing is left: trim() as
    it is, but only on text it could change. trim() copies every string it is given (a network's
    6M home-practice rows, six columns: 1.8 s to 1.0); it takes spaces and a few Unicode spaces,
    so text that is plain ASCII (as many characters as bytes) with no space at either end is
    already trimmed."""
    return (
        f"(CASE WHEN {v} = '' THEN NULL WHEN starts_with({v}, ' ') OR ends_with({v}, ' ') OR "
        f"strlen({v}) <> length({v}) THEN NULLIF(trim({v}), '') ELSE {v} END)"
    )


# The kinds whose text is parsed into a typed value when staged (parsed()).
PARSED = frozenset({"int", "float", "date", "timestamp", "bool", "list"})


def value(c: Column) -> str:
    """The staged column holding `c`'s typed value (NULL when its text does not parse): the
    text itself for a kind that is kept as text."""
    return f"_v_{c.name}" if c.kind in PARSED else c.name


def typed(c: Column, shift_days: int = 0) -> str:
    """SQL for the value stored: parsed, defaulted, and for demo data shifted in time."""
    expr = value(c)
    if c.default is not None:
        default = c.default if c.kind in ("int", "float") else f"'{c.default}'"
        expr = f"coalesce({expr}, {default})"
    if shift_days and c.kind in ("date", "timestamp"):
        expr = f"({expr} + INTERVAL {int(shift_days)} DAY)"
        if c.kind == "date":
            expr = f"CAST({expr} AS DATE)"
    return f"CAST({expr} AS {c.sql_type})"


TYPE_RULES = {
    "int": "must be a whole number",
    "float": "must be a number",
    "date": "must be a date (YYYY-MM-DD)",
    "timestamp": "must be a date and time (ISO 8601, e.g. 2026-03-14T09:30:00)",
    "bool": "must be true/false, yes/no or 1/0",
}


def _num(v) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def cell_checks(t: Table) -> list[tuple[str, str, str]]:
    """(column, SQL condition that is true on a violating row, rule text) for one table."""
    checks: list[tuple[str, str, str]] = []
    for c in t.columns:
        n = c.name
        if c.required:
            checks.append((n, f"{n} IS NULL", "required: a value is needed"))
        if c.kind in TYPE_RULES:
            checks.append((n, f"{n} IS NOT NULL AND {value(c)} IS NULL", TYPE_RULES[c.kind]))
        if c.kind == "enum":
            checks.append(
                (
                    n,
                    f"{n} NOT IN ({_sql_list(c.values)[1:-1]})",
                    "must be one of: " + ", ".join(c.values),
                )
            )
        if c.kind == "list":
            checks.append(
                (
                    n,
                    f"len(list_filter({value(c)}, lambda x: NOT list_contains({_sql_list(c.values)}, x))) > 0",
                    "each item must be one of: " + ", ".join(c.values),
                )
            )
        if c.min is not None or c.max is not None:
            hi = schema.current_year() if c.max == "current_year" else c.max
            p = value(c)
            if c.min_exclusive:
                checks.append((n, f"{p} <= {c.min}", f"must be greater than {_num(c.min)}"))
            else:
                checks.append(
                    (
                        n,
                        f"{p} < {c.min} OR {p} > {hi}",
                        f"must be between {_num(c.min)} and {_num(hi)}",
                    )
                )
        if c.range_by:
            by, ranges = c.range_by
            p = value(c)
            for key, (lo, hi) in ranges.items():
                checks.append(
                    (
                        n,
                        f"{by} = '{key}' AND ({p} < {lo} OR {p} > {hi})",
                        f"must be between {_num(lo)} and {_num(hi)} when {by} is {key}",
                    )
                )
        if c.only_for:
            col, val = c.only_for
            checks.append(
                (
                    n,
                    f"{n} IS NOT NULL AND {col} IS DISTINCT FROM '{val}'",
                    f"only allowed when {col} is {val}",
                )
            )
        if c.not_before:
            other = t.column(c.not_before)
            checks.append(
                (
                    n,
                    f"{value(c)} < {value(other)}",
                    f"must not be before {other.name}",
                )
            )
    return checks


def _validate_table(
    cur: duckdb.DuckDBPyConnection, st: Staged, valid_keys: dict[str, str], check_store_refs: bool
) -> None:
    """Insert every violation of one staged table into the temp table import_errors."""
    t = st.src.table
    parts = []
    params: dict[str, object] = {"tbl": t.name}
    for i, (col, cond, rule) in enumerate(cell_checks(t)):
        params[f"rule{i}"] = rule
        parts.append(
            f"SELECT _row, '{col}' AS col, CAST({col} AS VARCHAR) AS value, $rule{i} AS rule "
            f"FROM {st.stage} WHERE {cond}"
        )
    # Instrument ranges come from the reference table.
    for c in t.columns:
        if c.instrument_range:
            parts.append(
                f"SELECT s._row, '{c.name}', s.{c.name}, 'must be within ' || i.code || "
                f"'''s range ' || i.range_min || '..' || i.range_max FROM {st.stage} s "
                f"JOIN instruments i ON i.code = s.instrument "
                f"WHERE s.{value(c)} < i.range_min OR s.{value(c)} > i.range_max"
            )
    # References resolve within the batch (rows not rejected) or the store.
    for c in t.columns:
        if not c.ref:
            continue
        target_table, target_col = c.ref.split(".")
        sources = []
        if target_table in valid_keys:
            sources.append(valid_keys[target_table])
        if check_store_refs or target_table == "instruments":
            sources.append(f"SELECT {target_col} AS k FROM {target_table}")
        if not sources:
            continue
        where_in = " UNION ALL ".join(sources)
        params[f"ref_{c.name}"] = (
            f"refers to {target_table}.{target_col} that is neither in this import nor in the store"
        )
        parts.append(
            f"SELECT _row, '{c.name}', {c.name}, $ref_{c.name} FROM {st.stage} "
            f"WHERE {c.name} IS NOT NULL AND {c.name} NOT IN (SELECT k FROM ({where_in}))"
        )
    if parts:
        cur.execute(
            "INSERT INTO import_errors SELECT $tbl, u.* FROM (" + " UNION ALL ".join(parts) + ") u",
            params,
        )
    # Duplicate keys in the file: every repeat after the first is rejected. The rows that may
    # repeat a key are those whose key's hash repeats, found among the hashes sorted, each next
    # to the one before it (over the key's columns it took 1.5 s for a network's 6M
    # home-practice rows, grouped by hash 0.9-1.3, sorted 0.6); their keys that do repeat by a
    # second, and only their rows are numbered in file order.
    keys = [f"k{i}" for i in range(len(t.key))]
    key_exprs = ", ".join(f"{typed(t.column(k))} AS {a}" for k, a in zip(t.key, keys, strict=True))
    key_hash = f"hash({', '.join(typed(t.column(k)) for k in t.key)})"
    same = " AND ".join(f"k.{a} IS NOT DISTINCT FROM d.{a}" for a in keys)
    key_text = " || ', ' || ".join(f"coalesce(CAST(k.{a} AS VARCHAR), '')" for a in keys)
    cur.execute(
        f"INSERT INTO import_errors SELECT $tbl, _row, $col, key_text, "
        f"'duplicate key (' || $key || '): the same key is on an earlier row of this file' "
        f"FROM (WITH k AS (SELECT _row, {key_exprs} FROM {st.stage} WHERE {key_hash} IN "
        f"(SELECT h FROM (SELECT h, lag(h) OVER (ORDER BY h) AS before FROM "
        f"(SELECT {key_hash} AS h FROM {st.stage})) WHERE h = before)), "
        f"d AS (SELECT {', '.join(keys)} FROM k GROUP BY ALL HAVING count(*) > 1) "
        f"SELECT k._row, {key_text} AS key_text, row_number() OVER "
        f"(PARTITION BY {', '.join('k.' + a for a in keys)} ORDER BY k._row) AS n "
        f"FROM k JOIN d ON {same}) WHERE n > 1",
        {"tbl": t.name, "col": ", ".join(t.key), "key": ", ".join(t.key)},
    )


def _line_numbers(cur, st: Staged, rows: list[int]) -> tuple[dict[int, int], list[RowError]]:
    """Line numbers (header = line 1) of staged rows, and the errors of unreadable CSV records.

    A quoted CSV field may span lines, and records DuckDB could not read are not staged, so a
    row's line is its record number plus the line breaks inside the records before it.
    """
    if st.src.fmt == "parquet":
        return {r: r + 1 for r in rows}, []
    if not rows and not st.parse_rejects:
        return {}, []
    rejected = sorted(rec for rec, _, _ in st.parse_rejects)  # record numbers, header = 1
    # Record number of each staged row: rows fill the record numbers rejects leave free.
    records = {}
    for r in rows:
        rec = r + 2
        for x in rejected:
            if x <= rec:
                rec += 1
        records[r] = rec
    # Staged rows that precede each reject, to count the line breaks before it.
    before_reject = {rec: rec - 2 - sum(1 for x in rejected if x < rec) for rec in rejected}
    wanted = sorted(set(rows) | set(before_reject.values()))
    breaks = dict(
        cur.execute(
            f"SELECT _row, coalesce(sum(_nl) OVER (ORDER BY _row ROWS BETWEEN UNBOUNDED "
            f"PRECEDING AND 1 PRECEDING), 0) FROM {st.stage} QUALIFY list_contains($rows, _row)",
            {"rows": wanted},
        ).fetchall()
    )
    total = cur.execute(f"SELECT coalesce(sum(_nl), 0) FROM {st.stage}").fetchone()[0]
    lines = {r: int(records[r] + breaks[r]) for r in rows}
    errors = [
        RowError(
            st.src.name,
            int(rec + breaks.get(before_reject[rec], total)),
            None,
            text,
            f"cannot be read: {why}",
        )
        for rec, text, why in st.parse_rejects
    ]
    return lines, errors


# ---------------------------------------------------------------------------------------------
# The pipeline


def _checksum(files: list[SourceFile]) -> str:
    h = hashlib.sha256()
    for f in files:
        h.update(f.name.encode())
        with open(f.path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
    return h.hexdigest()


def _validate(
    cur: duckdb.DuckDBPyConnection,
    files: list[SourceFile],
    result: ImportResult,
    check_store_refs: bool,
    progress: Progress,
) -> list[Staged]:
    """Stage and validate every file; fill result.errors. Returns the staged tables."""
    cur.execute(
        "CREATE OR REPLACE TEMP TABLE import_errors "
        "(tbl VARCHAR, _row BIGINT, col VARCHAR, value VARCHAR, rule VARCHAR)"
    )
    staged: list[Staged] = []
    file_errors: list[RowError] = []  # header problems
    n = len(files)
    for i, src in enumerate(files):
        progress(i / (2 * n), f"Reading {src.name}")
        st, errs = _stage(cur, src, i)
        file_errors += errs
        staged.append(st)
        if st.rows == 0 and not errs:
            result.notices.append(
                f"{src.name} has a header but no rows; nothing to import from it."
            )
    result.rows_staged = sum(s.rows for s in staged)
    if file_errors and any(e.line == 1 for e in file_errors):
        # Wrong columns make every row's checks meaningless: report the header only.
        result.errors = file_errors
        return staged
    valid_keys: dict[str, str] = {}
    for i, st in enumerate(staged):
        progress(0.5 + 0.45 * i / n, f"Checking {st.src.name} ({st.rows:,} rows)")
        _validate_table(cur, st, valid_keys, check_store_refs)
        t = st.src.table
        if len(t.key) == 1:
            k = t.key[0]
            valid_keys[t.name] = (
                f"SELECT {k} AS k FROM {st.stage} WHERE _row NOT IN "
                f"(SELECT _row FROM import_errors WHERE tbl = '{t.name}')"
            )
    errors = list(file_errors)
    for st in staged:
        rows = cur.execute(
            "SELECT _row, col, value, rule FROM import_errors WHERE tbl = $t ORDER BY _row, col",
            {"t": st.src.table.name},
        ).fetchall()
        lines, unreadable = _line_numbers(cur, st, sorted({r[0] for r in rows}))
        errors += unreadable
        errors += [RowError(st.src.name, lines[r], c, v, rule) for r, c, v, rule in rows]
    errors.sort(key=lambda e: ([s.src.name for s in staged].index(e.file), e.line or 0))
    result.errors = errors
    return staged


def _apply(
    cur: duckdb.DuckDBPyConnection, staged: list[Staged], result: ImportResult, shift_days: int
) -> None:
    """Upsert the valid rows of every staged table (inside the caller's transaction)."""
    for st in staged:
        t = st.src.table
        valid = (
            f"FROM {st.stage} WHERE _row NOT IN (SELECT _row FROM import_errors WHERE tbl = $tbl)"
        )
        key_cols = ", ".join(f"{typed(t.column(k), shift_days)} AS {k}" for k in t.key)
        match = " AND ".join(f"{t.name}.{k} IS NOT DISTINCT FROM incoming.{k}" for k in t.key)
        if cur.execute(f"SELECT 1 FROM {t.name} LIMIT 1").fetchone():  # else nothing to replace
            cur.execute(
                f"DELETE FROM {t.name} USING (SELECT DISTINCT {key_cols} {valid}) incoming "
                f"WHERE {match}",
                {"tbl": t.name},
            )
        values = ", ".join(typed(c, shift_days) for c in t.columns)
        n = cur.execute(
            f"INSERT INTO {t.name} ({', '.join(t.column_names)}) SELECT {values} {valid}",
            {"tbl": t.name},
        ).fetchone()[0]
        result.accepted[t.name] = result.accepted.get(t.name, 0) + int(n)
        after_table_applied(t.name)
    # The derived tables of every patient whose ratings, practice, sessions or care dates came
    # in: those computed from a table of this batch.
    sources = [st for st in staged if st.src.table.name in DERIVED_FROM]
    if sources:
        cur.execute("CREATE OR REPLACE TEMP TABLE _touched (patient_id VARCHAR)")
        for st in sources:
            pid = typed(st.src.table.column("patient_id"), shift_days)
            valid = f"FROM {st.stage} WHERE _row NOT IN (SELECT _row FROM import_errors WHERE tbl = $tbl)"
            cur.execute(
                f"INSERT INTO _touched SELECT DISTINCT {pid} {valid}", {"tbl": st.src.table.name}
            )
        came = {st.src.table.name for st in sources}
        names = [n for n, tables in store.DERIVED_FROM.items() if came & set(tables)]
        store.refresh_derived(cur, "_touched", names)
        cur.execute("DROP TABLE _touched")


# Imported tables the store's derived tables are computed from (store.DERIVED_FROM).
DERIVED_FROM = frozenset(t for tables in store.DERIVED_FROM.values() for t in tables)


def after_table_applied(table: str) -> None:
    """Called inside the import transaction after each table; tests inject failures here."""


def _record_batch(cur, result: ImportResult, checksum: str, via: str, started: dt.datetime) -> None:
    cur.execute(
        "INSERT INTO import_batches VALUES ($id, $started, $finished, $source, $files, $checksum, "
        "$via, $accepted, $rejected, 'applied', $message)",
        {
            "id": result.batch_id,
            "started": started,
            "finished": store._utc_now(),
            "source": result.source,
            "files": ", ".join(result.files),
            "checksum": checksum,
            "via": via,
            "accepted": result.rows_accepted,
            "rejected": result.rejected_rows,
            "message": result.summary(),
        },
    )


def _declares_synthetic(path: Path) -> bool:
    """A folder whose README says its data is synthetic (as demo-data writes it): reports then
    say "synthetic data" in their footer."""
    readme = (path if path.is_dir() else path.parent) / "README.md"
    try:
        return "synthetic" in readme.read_text(encoding="utf-8", errors="replace")[:300].lower()
    except OSError:
        return False


def _new_batch_id() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


def _no_progress(_fraction: float, _message: str) -> None:
    return None


def import_into(
    st_: store.Store,
    path: str | os.PathLike,
    *,
    skip_invalid: bool = False,
    via: str = "cli",
    source: str | None = None,
    shift_days: int = 0,
    progress: Progress = _no_progress,
    batch_id: str | None = None,
    keep_as_of: dt.date | None = None,
) -> ImportResult:
    """Validate and apply one batch to an open store, in one transaction.

    Returns the result; nothing is applied when any row is invalid, unless skip_invalid, in which
    case the valid rows are applied and the rejects are in result.errors. The same transaction
    recomputes the answers the store keeps (kept.py) for `keep_as_of` (default: the day the
    dashboard opens on). Raises ImportFailed for problems with whole files (missing, unreadable,
    wrong columns). FHIR R4 (Bundle JSON, NDJSON) is converted to the import format first
    (fhir.py) and checked the same way.
    """
    path = Path(path)
    options = dict(skip_invalid=skip_invalid, via=via, source=source or str(path),
                   shift_days=shift_days, progress=progress, batch_id=batch_id,
                   keep_as_of=keep_as_of)  # fmt: skip
    if not fhir.is_fhir(path):
        return _import_folder(st_, path, **options)
    return _via_fhir(path, lambda conv: _import_folder(st_, conv.folder, converted=conv, **options))


def _via_fhir(path: Path, run: Callable[[fhir.Converted], ImportResult]) -> ImportResult:
    """Convert FHIR into the import format, run the import on it, and name every problem by
    its FHIR file, line or entry, and field."""
    try:
        with fhir.converted(path) as conv:
            if not any(conv.folder.glob("*.csv")):
                if conv.errors:
                    result = ImportResult(_new_batch_id(), str(path), conv.files)
                    result.errors = conv.errors
                    return result
                raise ImportFailed(
                    f"{path.name} has no resources the dashboard reads (Patient, Condition, "
                    "Encounter, Observation, MedicationRequest ...). Nothing was changed."
                )
            result = run(conv)
            result.errors = _fhir_places(conv, result.errors)
            return result
    except fhir.FhirError as e:
        raise ImportFailed(str(e)) from e


def _fhir_places(conv: fhir.Converted, errors: list[RowError]) -> list[RowError]:
    def table_of(e: RowError) -> str | None:
        return e.file[: -len(".csv")] if e.file.endswith(".csv") and e.line else None

    wanted: dict[str, set[int]] = {}
    for e in errors:
        if table := table_of(e):
            wanted.setdefault(table, set()).add(e.line)
    found = {table: conv.wheres(table, lines) for table, lines in wanted.items()}
    out = []
    for e in errors:
        table = table_of(e)
        where = found[table].get(e.line) if table else None
        if where is None:
            out.append(e)
            continue
        place = where.place(conv.field_path(table, e.column))
        out.append(RowError(where.file, where.line, place, e.value, e.rule))
    return out


def _import_folder(
    st_: store.Store,
    path: Path,
    *,
    skip_invalid: bool,
    via: str,
    source: str,
    shift_days: int,
    progress: Progress,
    batch_id: str | None,
    keep_as_of: dt.date | None,
    converted: fhir.Converted | None = None,
) -> ImportResult:
    files, skipped = discover(path)
    result = ImportResult(batch_id or _new_batch_id(), source, [f.name for f in files])
    if converted is not None:
        result.files = converted.files
        result.notices.extend(converted.notices)
    if skipped and via != "inbox" and converted is None:
        result.notices.append("Passed over (not CSV or Parquet): " + ", ".join(skipped) + ".")
    started = store._utc_now()
    # The batch's checksum is read on a thread of its own while DuckDB reads the same files
    # (hashlib releases the GIL): a network's 680 MB took 1.7 s before the first file was read.
    hashing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="checksum")
    checksum = hashing.submit(_checksum, files)
    cur = st_.cursor()
    try:
        staged = _validate(cur, files, result, check_store_refs=True, progress=progress)
        if converted is not None:  # problems found reading the FHIR come first
            result.errors = converted.errors + result.errors
        fatal = any(e.line in (None, 1) for e in result.errors) or (
            result.errors and not skip_invalid
        )
        if fatal:
            return result
        if result.rows_staged == 0:
            raise ImportFailed(
                f"{path.name} has no rows to import (only header lines). Nothing was changed."
            )
        result.rejected_rows = len({(e.file, e.line) for e in result.errors})
        progress(0.95, "Applying the batch in one transaction")
        digest = checksum.result()
        with st_.write(cur) as w:
            _apply(w, staged, result, shift_days)
            result.applied = True
            _record_batch(w, result, digest, via, started)
            if _declares_synthetic(path):
                w.execute("INSERT OR REPLACE INTO meta VALUES ('synthetic_data', 'true')")
            progress(0.97, "Updating the agenda's and the caseload's answers")
            kept.refresh(w, keep_as_of)
        progress(1.0, result.summary())
        return result
    except BaseException:
        result.applied = False
        raise
    finally:
        cur.close()
        hashing.shutdown(wait=False, cancel_futures=True)  # a failed batch does not wait for it


# ---------------------------------------------------------------------------------------------
# The front door: direct import, or queued to the inbox while the dashboard holds the store


def import_path(
    db_path: str | os.PathLike | None,
    path: str | os.PathLike,
    *,
    skip_invalid: bool = False,
    progress: Progress = _no_progress,
) -> ImportResult:
    """Import into the store at db_path (created if missing), or queue it if the store is busy."""
    db = store.resolve_db_path(db_path)
    try:
        st_ = store.open_store(db)
    except store.StoreBusy:
        return _queue(db, Path(path), skip_invalid=skip_invalid, progress=progress)
    try:
        return import_into(st_, path, skip_invalid=skip_invalid, via="cli", progress=progress)
    finally:
        st_.close()


def _queue(db: Path, path: Path, *, skip_invalid: bool, progress: Progress) -> ImportResult:
    path = Path(path)
    if not fhir.is_fhir(path):
        return queue_batch(db, path, skip_invalid=skip_invalid, progress=progress)
    return _via_fhir(
        path,
        lambda conv: queue_batch(
            db,
            conv.folder,
            skip_invalid=skip_invalid,
            progress=progress,
            converted=conv,
            source=f"{path} (FHIR R4: {', '.join(conv.files)})",
        ),
    )


def queue_batch(
    db: Path,
    path: Path,
    *,
    skip_invalid: bool,
    progress: Progress = _no_progress,
    converted: fhir.Converted | None = None,
    source: str | None = None,
) -> ImportResult:
    """Validate without the store, then place the batch in the inbox atomically (rename)."""
    files, _skipped = discover(path)
    result = ImportResult(_new_batch_id(), source or str(path), [f.name for f in files])
    if converted is not None:
        result.files = converted.files
        result.notices.extend(converted.notices)
    scratch = duckdb.connect()
    try:
        scratch.execute("SET TimeZone = 'UTC'")
        for stmt in schema.ddl():
            scratch.execute(stmt)
        store.seed_reference(scratch)
        _validate(scratch, files, result, check_store_refs=False, progress=progress)
    finally:
        scratch.close()
    if converted is not None:
        result.errors = converted.errors + result.errors
    if result.errors and (not skip_invalid or any(e.line in (None, 1) for e in result.errors)):
        return result
    inbox = store.inbox_dir(db)
    inbox.mkdir(parents=True, exist_ok=True)
    tmp = inbox / f".incoming-{result.batch_id}"
    tmp.mkdir()
    for f in files:
        shutil.copyfile(f.path, tmp / f.name)
        _fsync(tmp / f.name)
    manifest = {
        "batch_id": result.batch_id,
        "source": result.source,
        "skip_invalid": skip_invalid,
        "queued_at": store._utc_now().isoformat(timespec="seconds"),
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2))
    _fsync(tmp / "manifest.json")
    final = inbox / result.batch_id
    os.replace(tmp, final)
    _fsync_dir(inbox)
    result.queued_to = final
    result.errors = []  # checked again, with the store, when applied
    return result


def _fsync(p: Path) -> None:
    with open(p, "rb") as fh:
        os.fsync(fh.fileno())


def _fsync_dir(p: Path) -> None:
    fd = os.open(p, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class InboxOutcome:
    batch_id: str
    result: ImportResult | None
    failed: str | None


def apply_inbox(st_: store.Store) -> list[InboxOutcome]:
    """Apply every queued batch, oldest first; move each to done/ or failed/ (with its report)."""
    inbox = store.inbox_dir(st_.path)
    if not inbox.is_dir():
        return []
    outcomes = []
    for batch in sorted(p for p in inbox.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if batch.name in ("done", "failed"):
            continue
        try:
            manifest = json.loads((batch / "manifest.json").read_text())
        except (OSError, ValueError):
            manifest = {"batch_id": batch.name, "unreadable": True}
        try:
            if manifest.get("unreadable"):
                raise ImportFailed(
                    f"{batch.name} has no readable manifest.json; it was not queued by "
                    "mdt-dashboard import. Import its files with mdt-dashboard import."
                )
            result = import_into(
                st_,
                batch,
                skip_invalid=bool(manifest.get("skip_invalid")),
                via="inbox",
                source=manifest.get("source"),
                batch_id=manifest["batch_id"],
            )
            failed = None if result.applied else result.summary()
        except ImportFailed as e:
            result, failed = None, str(e)
        dest = inbox / ("failed" if failed else "done")
        dest.mkdir(exist_ok=True)
        if result is not None and result.errors:
            (batch / "rejects.csv").write_text(report_csv(result.errors))
        if failed:
            (batch / "failure.txt").write_text(failed + "\n")
        os.replace(batch, dest / batch.name)
        outcomes.append(InboxOutcome(manifest["batch_id"], result, failed))
    return outcomes


def failed_inbox_batches(db_path: Path) -> list[tuple[str, str]]:
    """(batch id, reason) of queued batches the dashboard could not apply."""
    failed = store.inbox_dir(db_path) / "failed"
    if not failed.is_dir():
        return []
    return [
        (p.name, (p / "failure.txt").read_text().strip() if (p / "failure.txt").exists() else "")
        for p in sorted(failed.iterdir())
        if p.is_dir()
    ]
