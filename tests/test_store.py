"""The store: creation, reference seeding, schema versions and migrations, data version."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from dashboard import measures, schema, store


def test_new_store_has_every_table_and_the_reference(tmp_path):
    st = store.open_store(tmp_path / "s.duckdb")
    try:
        cur = st.cursor()
        tables = {r[0] for r in cur.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        assert set(schema.ALL_TABLES) | {"meta"} == tables
        nrs = cur.execute(
            "SELECT range_min, range_max, direction, meaningful_change, meaningful_change_pct, "
            "substantial_change_pct, loinc, source FROM instruments WHERE code = 'NRS'"
        ).fetchone()
        assert nrs[:7] == (0, 10, "higher_worse", 2, 30, 50, "72514-3")
        assert "Farrar" in nrs[7]
        assert cur.execute("SELECT count(*) FROM instruments").fetchone()[0] == len(
            measures.INSTRUMENTS
        )
        phq = cur.execute("SELECT bands, loinc FROM instruments WHERE code = 'PHQ9'").fetchone()
        assert '"label": "moderately severe"' in phq[0] and phq[1] == "44261-6"
        stale = cur.execute("SELECT level, params FROM flag_rules WHERE code = 'stale_data'")
        assert stale.fetchone() == ("info", '{"window_days": 14}')
        assert st.meta()["schema_version"] == str(store.SCHEMA_VERSION)
    finally:
        st.close()


def test_columns_follow_the_declaration(tmp_path):
    st = store.open_store(tmp_path / "s.duckdb")
    try:
        got = (
            st.cursor()
            .execute(
                "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
                "WHERE table_name = 'pain_ratings' ORDER BY ordinal_position"
            )
            .fetchall()
        )
    finally:
        st.close()
    assert got[:4] == [
        ("patient_id", "VARCHAR", "NO"),
        ("ts", "TIMESTAMP", "NO"),
        ("nrs", "DOUBLE", "NO"),
        ("context", "VARCHAR", "YES"),
    ]
    assert ("qualities", "VARCHAR[]", "YES") in got


def test_team_tuning_of_the_reference_survives_reopening(tmp_path):
    db = tmp_path / "s.duckdb"
    st = store.open_store(db)
    with st.write() as cur:
        cur.execute("UPDATE instruments SET meaningful_change = 3 WHERE code = 'PHQ9'")
        store.seed_reference(cur)
    st.close()
    st = store.open_store(db)
    try:
        got = (
            st.cursor()
            .execute("SELECT meaningful_change FROM instruments WHERE code = 'PHQ9'")
            .fetchone()
        )
    finally:
        st.close()
    assert got == (3,)


def test_data_version_changes_on_every_write_and_not_on_a_failed_one(tmp_path):
    st = store.open_store(tmp_path / "s.duckdb")
    try:
        v0 = st.data_version()
        with st.write() as cur:
            cur.execute(
                "INSERT INTO clinicians (clinician_id, name, discipline) VALUES ('C1', 'A', 'PT')"
            )
        assert st.data_version() == v0 + 1
        with pytest.raises(RuntimeError), st.write() as cur:
            cur.execute(
                "INSERT INTO clinicians (clinician_id, name, discipline) VALUES ('C2', 'B', 'PT')"
            )
            raise RuntimeError("boom")
        assert st.data_version() == v0 + 1
        assert st.cursor().execute("SELECT count(*) FROM clinicians").fetchone() == (1,)
    finally:
        st.close()


def test_store_from_a_newer_version_says_what_to_do(tmp_path):
    db = tmp_path / "s.duckdb"
    st = store.open_store(db)
    with st.write() as cur:
        cur.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    st.close()
    with pytest.raises(store.StoreError, match=r"made by a newer version .*schema 99.*Upgrade"):
        store.open_store(db)


def test_foreign_duckdb_file_is_not_touched(tmp_path):
    db = tmp_path / "other.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE t (x INTEGER)")
    con.close()
    with pytest.raises(store.StoreError, match="not an MDT dashboard store"):
        store.open_store(db)
    con = duckdb.connect(str(db))
    assert {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()} == {"t"}
    con.close()


def test_not_a_duckdb_file(tmp_path):
    db = tmp_path / "notes.duckdb"
    db.write_text("hello")
    with pytest.raises(store.StoreError, match="could not be opened|not a DuckDB store"):
        store.open_store(db)


def test_missing_store_read_only_says_how_to_create_it(tmp_path):
    with pytest.raises(store.StoreError, match="mdt-dashboard import FOLDER --db"):
        store.open_store(tmp_path / "none.duckdb", create=False)


def test_migration_runs_once_in_order_and_keeps_data(tmp_path, monkeypatch):
    """A store made at the current version opens under a next version that adds a column."""
    db = tmp_path / "s.duckdb"
    st = store.open_store(db)
    with st.write() as cur:
        cur.execute(
            "INSERT INTO clinicians (clinician_id, name, discipline) VALUES ('C1', 'A', 'PT')"
        )
    st.close()

    def add_phone(cur):
        cur.execute("ALTER TABLE clinicians ADD COLUMN phone VARCHAR")

    now = store.SCHEMA_VERSION
    monkeypatch.setattr(store, "SCHEMA_VERSION", now + 1)
    monkeypatch.setitem(store.MIGRATIONS, now, add_phone)
    st = store.open_store(db)
    try:
        cur = st.cursor()
        assert st.meta()["schema_version"] == str(now + 1)
        assert cur.execute("SELECT clinician_id, phone FROM clinicians").fetchall() == [
            ("C1", None)
        ]
    finally:
        st.close()
    st = store.open_store(db)  # and a second open does not migrate again
    st.close()


def test_failed_migration_leaves_the_old_store(tmp_path, monkeypatch):
    db = tmp_path / "s.duckdb"
    store.open_store(db).close()

    def broken(cur):
        cur.execute("ALTER TABLE clinicians ADD COLUMN phone VARCHAR")
        raise RuntimeError("migration bug")

    now = store.SCHEMA_VERSION
    monkeypatch.setattr(store, "SCHEMA_VERSION", now + 1)
    monkeypatch.setitem(store.MIGRATIONS, now, broken)
    with pytest.raises(RuntimeError):
        store.open_store(db)
    monkeypatch.setattr(store, "SCHEMA_VERSION", now)
    st = store.open_store(db)
    try:
        cols = [r[0] for r in st.cursor().execute("DESCRIBE clinicians").fetchall()]
        assert "phone" not in cols and st.meta()["schema_version"] == str(now)
    finally:
        st.close()


def test_store_without_a_migration_path_says_so(tmp_path, monkeypatch):
    db = tmp_path / "s.duckdb"
    store.open_store(db).close()
    monkeypatch.setattr(store, "SCHEMA_VERSION", store.SCHEMA_VERSION + 1)
    with pytest.raises(store.StoreError, match="cannot upgrade"):
        store.open_store(db)


def test_a_version_1_store_migrates_to_the_current_schema_and_keeps_its_data(tmp_path):
    """A store made before MDT meeting mode (schema 1) gets review_meetings and review_items (2),
    then conditions and patients.deceased_date (3), then the per-day tables filled from the
    ratings and home practice already there (4), then each patient's end of care (5): none while
    care goes on, the discharge date, else a drop-out's last attended session or pain rating."""
    db = tmp_path / "s.duckdb"
    st = store.open_store(db)
    with st.write() as cur:
        cur.execute(
            "INSERT INTO clinicians (clinician_id, name, discipline) VALUES ('C1', 'A', 'PT')"
        )
        cur.execute(
            "INSERT INTO patients (patient_id, name, condition, start_date, status, "
            "discharge_date) VALUES ('P1', 'A', 'CRPS', DATE '2026-01-10', 'active', NULL), "
            "('P2', 'B', 'CRPS', DATE '2026-01-10', 'dropped_out', NULL), "
            "('P3', 'C', 'CRPS', DATE '2026-01-10', 'discharged', DATE '2026-03-01')"
        )
        cur.execute(
            "INSERT INTO sessions (session_id, patient_id, ts, status) VALUES "
            "('S1', 'P2', TIMESTAMP '2026-02-03 10:00', 'attended'), "
            "('S2', 'P2', TIMESTAMP '2026-02-10 10:00', 'dna'), "
            "('S3', 'P3', TIMESTAMP '2026-03-20 10:00', 'attended')"
        )
        cur.execute(
            "INSERT INTO pain_ratings (patient_id, ts, nrs, context) VALUES "
            "('P2', TIMESTAMP '2026-02-05 08:00', 5, 'now'), "
            "('P1', TIMESTAMP '2026-01-11 08:00', 6, 'now'), "
            "('P1', TIMESTAMP '2026-01-11 20:00', 7, 'avg_24h'), "
            "('P1', TIMESTAMP '2026-01-11 20:01', 9, 'worst_24h'), "
            "('P1', TIMESTAMP '2026-01-12 20:01', 8, 'worst_24h')"
        )
        cur.execute(
            "INSERT INTO home_practice (patient_id, date, activity, prescribed_min, completed_min) "
            "VALUES ('P1', DATE '2026-01-11', 'relaxation', 10, 5), "
            "('P1', DATE '2026-01-11', 'exercise', 20, NULL)"
        )
        for t in ("pain_daily", "practice_daily"):
            cur.execute(f"DROP TABLE {t}")
        cur.execute("DROP TABLE review_items")
        cur.execute("DROP TABLE review_meetings")
        cur.execute("DROP TABLE conditions")
        cur.execute("ALTER TABLE patients DROP COLUMN deceased_date")
        cur.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    st.close()
    st = store.open_store(db)
    try:
        cur = st.cursor()
        assert st.meta()["schema_version"] == str(store.SCHEMA_VERSION) == "5"
        assert cur.execute("SELECT * FROM care_ends ORDER BY patient_id").fetchall() == [
            ("P1", None),
            ("P2", dt.date(2026, 2, 5)),  # the rating after the last attended session
            ("P3", dt.date(2026, 3, 1)),  # the discharge date, whatever came after it
        ]
        assert cur.execute(
            "SELECT * FROM pain_daily WHERE patient_id = 'P1' ORDER BY day"
        ).fetchall() == [
            ("P1", dt.date(2026, 1, 11), 1, 6.5, 3),  # worst_24h counts as a rating, not in NRS
            ("P1", dt.date(2026, 1, 12), 2, None, 1),
        ]
        assert cur.execute("SELECT * FROM practice_daily").fetchall() == [
            ("P1", dt.date(2026, 1, 11), 30, 5)
        ]
        assert cur.execute("SELECT count(*) FROM review_items").fetchone() == (0,)
        assert cur.execute("SELECT count(*) FROM conditions").fetchone() == (0,)
        columns = [r[0] for r in cur.execute("DESCRIBE patients").fetchall()]
        assert columns[-1] == "deceased_date"
        assert cur.execute("SELECT count(*) FROM review_meetings").fetchone() == (0,)
        assert cur.execute("SELECT clinician_id FROM clinicians").fetchall() == [("C1",)]
    finally:
        st.close()


def test_db_path_from_argument_environment_or_default(monkeypatch):
    monkeypatch.delenv(store.DB_ENV, raising=False)
    assert store.resolve_db_path(None) == store.DEFAULT_DB
    monkeypatch.setenv(store.DB_ENV, "/x/y.duckdb")
    assert str(store.resolve_db_path(None)) == "/x/y.duckdb"
    assert str(store.resolve_db_path("z.duckdb")) == "z.duckdb"
