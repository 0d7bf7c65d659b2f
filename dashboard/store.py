"""The DuckDB store: one file, its schema and migrations, connections, the data version, and the
one write path.

DuckDB allows one read-write process or many read-only ones. The running dashboard is the single
writer; an import started elsewhere while it runs is queued in the store's inbox (importer.py) and
applied here.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import duckdb

from dashboard import measures, schema

SCHEMA_VERSION = 5
# The project's own data folder, whatever the current folder is, so the CLI and the dashboard
# always mean the same store.
DEFAULT_DB = Path(__file__).resolve().parent.parent / "data" / "mdt.duckdb"
DB_ENV = "MDT_DB"
APP_ID = "mdt-dashboard"


class StoreError(Exception):
    """A problem with the store that a user can act on; the message says what to do."""


class StoreBusy(StoreError):
    """Another process (normally the running dashboard) holds the store open for writing."""


def resolve_db_path(arg: str | os.PathLike | None = None) -> Path:
    """The store path: the --db argument, else $MDT_DB, else the project's data/mdt.duckdb."""
    if arg:
        return Path(arg)
    if os.environ.get(DB_ENV):
        return Path(os.environ[DB_ENV])
    return DEFAULT_DB


def meeting_id_for(day: dt.date) -> str:
    """The meeting of a day (review_meetings, one a day): '2026-11-20'."""
    return day.isoformat()


def inbox_dir(db_path: Path) -> Path:
    """Where imports wait while another process holds the store (see importer.queue_batch)."""
    return db_path.with_name(db_path.name + ".inbox")


def _add_review_tables(cur: duckdb.DuckDBPyConnection) -> None:
    """1 -> 2: the MDT meeting's tables (review_meetings, review_items)."""
    for name in ("review_meetings", "review_items"):
        cur.execute(schema.create_table_sql(schema.ALL_TABLES[name]))


def _add_conditions(cur: duckdb.DuckDBPyConnection) -> None:
    """2 -> 3: every recorded condition (FHIR import), and the date of death on patients."""
    cur.execute("ALTER TABLE patients ADD COLUMN deceased_date DATE")
    cur.execute(schema.create_table_sql(schema.ALL_TABLES["conditions"]))


def _add_daily_tables(cur: duckdb.DuckDBPyConnection) -> None:
    """3 -> 4: the per patient-day tables the store keeps (pain_daily, practice_daily)."""
    for name in ("pain_daily", "practice_daily"):
        cur.execute(schema.create_table_sql(schema.ALL_TABLES[name]))
    refresh_derived(cur, None, ("pain_daily", "practice_daily"))


def _add_care_ends(cur: duckdb.DuckDBPyConnection) -> None:
    """4 -> 5: the day each patient's care ended (care_ends), one rule for "in care"."""
    cur.execute(schema.create_table_sql(schema.ALL_TABLES["care_ends"]))
    refresh_derived(cur, None, ("care_ends",))


# Migrations from version N to N+1, applied in order inside one transaction.
MIGRATIONS: dict[int, Callable[[duckdb.DuckDBPyConnection], None]] = {
    1: _add_review_tables,
    2: _add_conditions,
    3: _add_daily_tables,
    4: _add_care_ends,
}

# How each derived table is computed from the imported rows, for the patients in {patients}.
# Rows are written ordered by patient and day, so one patient's days sit together in the file.
DERIVED_SQL = {
    "pain_daily": """
        SELECT r.patient_id, CAST(r.ts AS DATE) AS day,
            CAST(date_diff('day', any_value(p.start_date), CAST(r.ts AS DATE)) AS INTEGER),
            avg(r.nrs) FILTER (WHERE r.context IN ('now', 'avg_24h')), count(*)
        FROM pain_ratings r LEFT JOIN patients p USING (patient_id)
        WHERE {patients}
        GROUP BY r.patient_id, CAST(r.ts AS DATE)
        ORDER BY r.patient_id, day""",
    "practice_daily": """
        SELECT h.patient_id, h.date AS day, sum(h.prescribed_min),
            sum(coalesce(h.completed_min, 0))
        FROM home_practice h
        WHERE h.prescribed_min > 0 AND {patients}
        GROUP BY h.patient_id, h.date
        ORDER BY h.patient_id, day""",
    # After pain_daily, which it reads: the last contact is the last attended session or pain
    # rating (all of them, not only those up to some as-of date: a patient who dropped out in
    # July was in care in June).
    "care_ends": """
        WITH contact AS (
            SELECT patient_id, max(day) AS last_contact FROM (
                SELECT patient_id, CAST(ts AS DATE) AS day FROM sessions
                WHERE status = 'attended' AND {patients}
                UNION ALL
                SELECT patient_id, day FROM pain_daily WHERE {patients}
            ) GROUP BY patient_id
        )
        SELECT patient_id,
            CASE WHEN p.discharge_date IS NOT NULL THEN p.discharge_date
                 WHEN p.status IN ('discharged', 'dropped_out')
                     THEN greatest(p.start_date, c.last_contact)  -- greatest skips a NULL
            END
        FROM patients p LEFT JOIN contact c USING (patient_id)
        WHERE {patients}
        ORDER BY patient_id""",
}


# The imported tables each derived table is computed from (care_ends also from pain_daily, which
# pain_ratings make): an import recomputes those of the tables it brought.
DERIVED_FROM = {
    "pain_daily": ("patients", "pain_ratings"),
    "practice_daily": ("home_practice",),
    "care_ends": ("patients", "sessions", "pain_ratings"),
}


def refresh_derived(
    cur: duckdb.DuckDBPyConnection, touched: str | None, names: Iterable[str] = tuple(DERIVED_SQL)
) -> None:
    """Recompute the derived tables `names` (every one by default, in DERIVED_SQL's order) for
    the patients listed in the table `touched` (one column, patient_id), or for everyone when
    None. Runs inside the caller's transaction."""
    wanted = set(names)
    for name in [n for n in DERIVED_SQL if n in wanted]:  # in order: care_ends reads pain_daily
        sql = DERIVED_SQL[name]
        if touched is None:
            cur.execute(f"DELETE FROM {name}")
            which = "true"
        else:
            which = f"patient_id IN (SELECT patient_id FROM {touched})"
            cur.execute(f"DELETE FROM {name} WHERE {which}")
        cur.execute(f"INSERT INTO {name} " + sql.format(patients=which))


class Store:
    """An open store. Reads use `cursor()`; every write goes through `write()`."""

    def __init__(self, path: Path, con: duckdb.DuckDBPyConnection, read_only: bool):
        self.path = path
        self.con = con
        self.read_only = read_only
        self._write_lock = threading.RLock()
        # The data version, remembered until this store's next write (every write goes through
        # write(), and a store open for writing is this process's alone). `_writes` counts them,
        # so a version read while a write commits is never remembered past it.
        self._version: int | None = None
        self._writes = 0
        self._version_lock = threading.Lock()
        self._readers = threading.local()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor of its own for one script run or thread (never the shared connection)."""
        cur = self.con.cursor()
        cur.execute("SET TimeZone = 'UTC'")
        return cur

    def reader(self) -> duckdb.DuckDBPyConnection:
        """This thread's cursor for reads, opened on its first read and kept for the next
        (closed with the store). A page's answers are read on two worker threads that live as
        long as the server: a cursor opened for each answer was a statement more each time
        (its time zone), and every statement hands the GIL back and waits to take it again
        while the page's own thread draws (about 3 ms a cursor on a network's patient page,
        28 of them). Only for reads that leave nothing on it (no transaction, no registered
        relation kept)."""
        cur = getattr(self._readers, "cur", None)
        if cur is None:
            cur = self._readers.cur = self.cursor()
        return cur

    @contextlib.contextmanager
    def write(
        self,
        cur: duckdb.DuckDBPyConnection | None = None,
        *,
        data_change: bool = True,
        changed_at: bool = True,
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """One transaction that bumps the data version; rolled back whole on any error.

        Pass `cur` to write on a cursor that already holds temporary tables (the importer's).
        `data_change=False` is for writes no page shows (the audit log): cached queries stay valid.
        `changed_at=False` is for a write that changes only what the store keeps computed from
        its data (kept.keep_day): the version moves, the time the data last changed does not.
        """
        if self.read_only:
            raise StoreError(f"The store {self.path} is open read-only; it cannot be changed here.")
        own = cur is None
        with self._write_lock:
            cur = self.cursor() if own else cur
            cur.begin()
            try:
                # The new version first, so what the write keeps (kept.py) can say which version
                # it belongs to; no reader sees it before the commit.
                if data_change:
                    cur.execute(
                        "UPDATE meta SET value = CAST(CAST(value AS BIGINT) + 1 AS VARCHAR) "
                        "WHERE key = 'data_version'"
                    )
                if data_change and changed_at:
                    cur.execute(
                        "UPDATE meta SET value = $now WHERE key = 'data_changed_at'",
                        {"now": _utc_now().isoformat(timespec="seconds")},
                    )
                yield cur
                cur.commit()
            except BaseException:
                with contextlib.suppress(duckdb.Error):
                    cur.rollback()
                raise
            finally:
                with self._version_lock:
                    self._writes += 1
                    self._version = None
                if own:
                    cur.close()

    def audit(self, actor: str, action: str, detail: str, patient_id: str | None = None) -> None:
        """Write who did what to the audit log (no page shows it: the data version stays)."""
        with self.write(data_change=False) as cur:
            cur.execute(
                "INSERT INTO audit_log VALUES ($ts, $actor, $action, $patient, $detail)",
                {"ts": _utc_now(), "actor": actor, "action": action, "patient": patient_id,
                 "detail": detail},
            )  # fmt: skip

    def data_version(self) -> int:
        """A number that changes on every write: the key of every cached query result. Read
        once and remembered until the next write (a page asks for it with every query)."""
        version, writes = self._version, self._writes
        if version is not None and not self.read_only:  # a read-only store reads it every time
            return version
        cur = self.cursor()
        try:
            row = cur.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchone()
        finally:
            cur.close()
        with self._version_lock:
            if self._writes == writes:  # no write committed meanwhile
                self._version = int(row[0])
        return int(row[0])

    def meta(self) -> dict[str, str]:
        cur = self.cursor()
        try:
            return dict(cur.execute("SELECT key, value FROM meta").fetchall())
        finally:
            cur.close()

    def close(self) -> None:
        self.con.close()  # and every cursor opened on it, the readers' too
        self._readers = threading.local()


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def connect(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the DuckDB file, turning a lock conflict into StoreBusy."""
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as e:
        if "lock" in str(e).lower():
            raise StoreBusy(
                f"The store {path} is in use by another program (normally the running dashboard)."
            ) from e
        raise StoreError(f"The store {path} could not be opened: {e}") from e


def open_store(
    path: str | os.PathLike | None = None, *, create: bool = True, read_only: bool = False
) -> Store:
    """Open (and if needed create or migrate) the store at `path`.

    Raises StoreError with a sentence a user can act on when the file is not a store, was made by
    a newer version, or does not exist and `create` is False.
    """
    db_path = resolve_db_path(path)
    exists = db_path.exists()
    if not exists and (not create or read_only):
        raise StoreError(
            f"There is no store at {db_path}. Create it by importing data: "
            f"mdt-dashboard import FOLDER --db {db_path}"
        )
    if not exists:
        db_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = connect(db_path, read_only=read_only)
    except StoreError:
        raise
    except duckdb.Error as e:
        raise StoreError(f"{db_path} is not a DuckDB store this dashboard can open ({e}).") from e
    store = Store(db_path, con, read_only)
    try:
        _prepare(store, new=not exists)
    except BaseException:
        con.close()
        raise
    return store


def _prepare(store: Store, new: bool) -> None:
    cur = store.cursor()
    try:
        tables = {r[0] for r in cur.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        if "meta" not in tables:
            if tables:
                raise StoreError(
                    f"{store.path} is a DuckDB file but not an MDT dashboard store (it has no meta "
                    "table). Choose another --db path; the dashboard does not change foreign files."
                )
            if store.read_only:
                raise StoreError(f"{store.path} is empty; open it once read-write to create it.")
            _create(cur)
            return
        meta = dict(cur.execute("SELECT key, value FROM meta").fetchall())
        version = int(meta.get("schema_version", "0"))
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"The store {store.path} was made by a newer version of the dashboard (schema "
                f"{version}; this version reads up to {SCHEMA_VERSION}). Upgrade the dashboard "
                "(git pull, then make run) to open it."
            )
        if version < SCHEMA_VERSION:
            if store.read_only:
                raise StoreError(
                    f"The store {store.path} has schema {version} and needs upgrading to "
                    f"{SCHEMA_VERSION}; open it once read-write (mdt-dashboard run) to migrate it."
                )
            migrate(cur, version)
    finally:
        cur.close()


def _create(cur: duckdb.DuckDBPyConnection) -> None:
    cur.begin()
    try:
        cur.execute("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)")
        for stmt in schema.ddl():
            cur.execute(stmt)
        seed_reference(cur)
        now = _utc_now().isoformat(timespec="seconds")
        cur.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [
                ("app", APP_ID),
                ("schema_version", str(SCHEMA_VERSION)),
                ("data_version", "1"),
                ("created_at", now),
                ("data_changed_at", now),
            ],
        )
        cur.commit()
    except BaseException:
        cur.rollback()
        raise


def migrate(cur: duckdb.DuckDBPyConnection, from_version: int) -> None:
    """Bring a store from `from_version` to SCHEMA_VERSION in one transaction."""
    missing = [v for v in range(from_version, SCHEMA_VERSION) if v not in MIGRATIONS]
    if missing:
        raise StoreError(
            f"The store has schema {from_version}, which this version cannot upgrade "
            f"(no migration from {missing[0]}). Re-create it: import your data into a new --db path."
        )
    cur.begin()
    try:
        for v in range(from_version, SCHEMA_VERSION):
            MIGRATIONS[v](cur)
        cur.execute(
            "UPDATE meta SET value = $v WHERE key = 'schema_version'", {"v": str(SCHEMA_VERSION)}
        )
        cur.execute(
            "UPDATE meta SET value = CAST(CAST(value AS BIGINT) + 1 AS VARCHAR) "
            "WHERE key = 'data_version'"
        )
        cur.commit()
    except BaseException:
        cur.rollback()
        raise


def seed_reference(cur: duckdb.DuckDBPyConnection) -> None:
    """Add the shipped reference rows (instruments, flag rules) that the store does not have yet.

    Rows already there are left alone, so a team's tuning survives upgrades.
    """
    for table, rows in (
        ("instruments", measures.instrument_rows()),
        ("flag_rules", measures.flag_rule_rows()),
    ):
        cols = schema.ALL_TABLES[table].column_names
        placeholders = ", ".join("?" for _ in cols)
        existing = {r[0] for r in cur.execute(f"SELECT code FROM {table}").fetchall()}
        new = [r for r in rows if r[0] not in existing]
        if new:
            cur.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({placeholders})", new)
