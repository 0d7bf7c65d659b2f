"""The synthetic data generator: deterministic, complete, and the committed sample_data/ is its
output byte for byte."""

from __future__ import annotations

import datetime as dt
import filecmp
import subprocess
import sys

from dashboard import cli, demo_data, importer, schema, store
from tests.conftest import AS_OF, SAMPLE_DATA


def test_committed_sample_data_is_the_generator_output_byte_for_byte(tmp_path):
    out = tmp_path / "regen"
    proc = subprocess.run(
        [sys.executable, "-m", "dashboard.cli", "demo-data", "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    committed = sorted(p.name for p in SAMPLE_DATA.iterdir())
    assert sorted(p.name for p in out.iterdir()) == committed
    match, mismatch, errors = filecmp.cmpfiles(SAMPLE_DATA, out, committed, shallow=False)
    assert mismatch == [] and errors == []


def test_same_seed_same_data_other_seed_other_data(tmp_path):
    demo_data.generate(tmp_path / "a", patients=12, weeks=8, seed=1)
    demo_data.generate(tmp_path / "b", patients=12, weeks=8, seed=1)
    demo_data.generate(tmp_path / "c", patients=12, weeks=8, seed=2)
    a = (tmp_path / "a" / "pain_ratings.csv").read_bytes()
    assert a == (tmp_path / "b" / "pain_ratings.csv").read_bytes()
    assert a != (tmp_path / "c" / "pain_ratings.csv").read_bytes()


def test_every_table_has_rows_and_names_are_synthetic(sample_db):
    st = store.open_store(sample_db)
    try:
        cur = st.cursor()
        for t in schema.TABLES:
            assert cur.execute(f"SELECT count(*) FROM {t}").fetchone()[0] > 0, t
        names = [r[0] for r in cur.execute("SELECT name FROM patients").fetchall()]
        assert all(n.split()[1] in demo_data.SURNAMES for n in names)
        disciplines = {r[0] for r in cur.execute("SELECT discipline FROM clinicians").fetchall()}
        assert {"PT", "OT", "PSY", "MED"} <= disciplines
        assert cur.execute("SELECT count(DISTINCT site) FROM clinicians").fetchone() == (2,)
    finally:
        st.close()


def test_the_clinical_stories_are_there(sample_db):
    """Responders, non-responders, a relapse, drop-outs, one safety item, stale data."""
    st = store.open_store(sample_db)
    try:
        cur = st.cursor()
        statuses = dict(cur.execute("SELECT status, count(*) FROM patients GROUP BY 1").fetchall())
        assert statuses.get("dropped_out", 0) >= 2 and statuses.get("discharged", 0) >= 1
        safety = cur.execute(
            "SELECT DISTINCT patient_id FROM assessments WHERE item9 > 0"
        ).fetchall()
        assert len(safety) == 1
        change = cur.execute(
            """
            WITH daily AS (
                SELECT patient_id, CAST(ts AS DATE) AS d, avg(nrs) AS v FROM pain_ratings
                WHERE context IN ('now', 'avg_24h') GROUP BY ALL),
            per AS (
                SELECT avg(v) FILTER (WHERE d BETWEEN p.start_date AND p.start_date + 6) AS base,
                       avg(v) FILTER (WHERE d BETWEEN $as_of - 6 AND $as_of) AS cur
                FROM patients p JOIN daily USING (patient_id)
                WHERE p.status = 'active' AND p.start_date <= $as_of - 56 GROUP BY p.patient_id)
            SELECT count(*) FILTER (WHERE (base - cur) / base >= 0.3),
                   count(*) FILTER (WHERE (base - cur) / base < 0.1)
            FROM per
            """,
            {"as_of": AS_OF},
        ).fetchone()
        responders, non_responders = change
        assert responders >= 3 and non_responders >= 1
        weekday_means = cur.execute(
            "SELECT isodow(ts) AS dow, avg(nrs) FROM pain_ratings WHERE context = 'avg_24h' "
            "GROUP BY 1 ORDER BY 1"
        ).fetchall()
        assert weekday_means[0][1] > weekday_means[6][1]  # Mondays worse than Sundays
        ladders = cur.execute(
            "SELECT count(*) FROM (SELECT patient_id, modality, level - lag(level) OVER "
            "(PARTITION BY patient_id, modality ORDER BY date) AS step FROM desensitization) "
            "WHERE step < 0"
        ).fetchone()[0]
        assert ladders >= 1  # setbacks happen
    finally:
        st.close()


def test_demo_store_builds_fast_and_ends_yesterday(tmp_path):
    import time

    started = time.perf_counter()
    result = cli.build_demo_store(tmp_path / "demo.duckdb", as_of=dt.date(2027, 3, 1))
    elapsed = time.perf_counter() - started
    assert result.applied and not result.errors
    st = store.open_store(tmp_path / "demo.duckdb")
    try:
        last = st.cursor().execute("SELECT max(CAST(ts AS DATE)) FROM pain_ratings").fetchone()[0]
    finally:
        st.close()
    assert last == dt.date(2027, 2, 28)
    print(f"demo store built in {elapsed:.2f} s")


def test_generator_writes_every_import_table(tmp_path):
    demo_data.generate(tmp_path, patients=12, weeks=4)
    files = {p.stem for p in tmp_path.glob("*.csv")}
    assert files == set(schema.TABLES)
    result = importer.import_path(tmp_path / "x.duckdb", tmp_path)
    assert result.applied and result.errors == []


def test_the_generator_at_2000_patients_keeps_the_sample_invariants(tmp_path):
    """At network scale (2,000 patients, 26 weeks) the data still imports with no rejected row
    (every reference resolves, every range and rule of the data model holds), and the episode,
    site and session invariants of the sample hold for every patient."""
    end = demo_data.DEMO_END
    written = demo_data.generate(tmp_path / "d", patients=2000, weeks=26, end=end)
    st = store.open_store(tmp_path / "s.duckdb")
    try:
        result = importer.import_into(st, tmp_path / "d", via="demo")
        assert result.applied and result.errors == [] and result.rejected_rows == 0
        assert result.accepted == {t: n for t, n in written.items() if n}
        cur = st.cursor()

        def one(sql: str):
            return cur.execute(sql).fetchone()

        assert one("SELECT count(*), count(DISTINCT patient_id), count(DISTINCT name) FROM patients") == (
            2000, 2000, 2000,
        )  # fmt: skip
        assert one("SELECT count(*), count(DISTINCT patient_id) FROM conditions") == (2000, 2000)
        # Nothing dated outside the patient's care episode or after the data set's last day.
        for table, day in (
            ("pain_ratings", "CAST(x.ts AS DATE)"), ("sessions", "CAST(x.ts AS DATE)"),
            ("sleep_diary", "x.date"), ("home_practice", "x.date"), ("assessments", "x.date"),
        ):  # fmt: skip
            outside = one(
                f"SELECT count(*) FROM {table} x JOIN patients p USING (patient_id) "
                f"WHERE {day} < p.start_date OR {day} > coalesce(p.discharge_date, DATE '{end}')"
            )[0]
            assert outside == 0, table
        # Each session is with a clinician of the patient's own site; a session's pain rating
        # belongs to that session's patient and time.
        assert one(
            "SELECT count(*) FROM sessions s JOIN patients p USING (patient_id) "
            "JOIN clinicians c USING (clinician_id) WHERE c.site <> p.site"
        ) == (0,)
        assert one(
            "SELECT count(*) FROM pain_ratings r JOIN sessions s USING (session_id) "
            "WHERE r.patient_id <> s.patient_id OR r.ts <> s.ts"
        ) == (0,)
        # Discharged patients have a discharge date; the stories of the sample recur by index.
        assert one(
            "SELECT count(*) FROM patients WHERE (status = 'discharged') <> (discharge_date IS NOT NULL)"
        ) == (0,)
        assert one("SELECT count(*) FROM patients WHERE status = 'dropped_out'") == (
            2000 // 12 + 1,
        )
        assert (
            one(
                "SELECT max(item9) FROM assessments WHERE patient_id = 'P0006' AND instrument = 'PHQ9'"
            )[0]
            > 0
        )
        nights = one("SELECT count(*) FROM sleep_diary")[0]
        assert 0.5 < nights / one("SELECT count(*) FROM pain_daily WHERE nrs IS NOT NULL")[0] < 1.5
    finally:
        st.close()
