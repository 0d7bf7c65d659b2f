"""Queries of the Data page and overview, on real stores."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

import queries
from dashboard import importer, schema, store
from tests.conftest import AS_OF, write_csv


def run(db, name, **params):
    st = store.open_store(db)
    try:
        return queries.run(st.cursor(), name, **params)
    finally:
        st.close()


def test_row_counts_cover_every_table(sample_db):
    counts = run(sample_db, "table_row_counts").set_index("table_name").row_count
    assert set(counts.index) == set(schema.ALL_TABLES)
    st = store.open_store(sample_db)
    try:
        for t in schema.ALL_TABLES:
            assert counts[t] == st.cursor().execute(f"SELECT count(*) FROM {t}").fetchone()[0]
    finally:
        st.close()


@pytest.fixture
def stale_db(tmp_path):
    """Four active patients whose latest data is 13, 14 and 30 days old, or who have none."""
    folder = tmp_path / "b"
    write_csv(folder, "clinicians", [{"clinician_id": "C1", "name": "Cee", "discipline": "PT"}])
    patients = []
    for pid in ("P13", "P14", "P30", "PNONE", "PGONE"):
        patients.append(
            {
                "patient_id": pid,
                "name": f"Name {pid}",
                "condition": "PHN",
                "start_date": "2026-01-01",
                "status": "discharged" if pid == "PGONE" else "active",
                "primary_clinician_id": "C1",
            }
        )
    write_csv(folder, "patients", patients)
    as_of = dt.date(2026, 6, 30)
    write_csv(
        folder,
        "pain_ratings",
        [
            {"patient_id": "P13", "ts": f"{as_of - dt.timedelta(days=13)}T20:00", "nrs": "4"},
            {"patient_id": "P14", "ts": f"{as_of - dt.timedelta(days=14)}T20:00", "nrs": "4"},
            {"patient_id": "P30", "ts": f"{as_of - dt.timedelta(days=30)}T20:00", "nrs": "4"},
            {"patient_id": "PGONE", "ts": f"{as_of - dt.timedelta(days=30)}T20:00", "nrs": "4"},
            # a rating after the as-of date does not count
            {"patient_id": "P14", "ts": f"{as_of + dt.timedelta(days=1)}T20:00", "nrs": "4"},
        ],
    )
    write_csv(
        folder,
        "sessions",
        [
            {
                "session_id": "S1",
                "patient_id": "P30",
                "ts": f"{as_of - dt.timedelta(days=20)}T10:00",
                "status": "attended",
            }
        ],
    )
    db = tmp_path / "s.duckdb"
    assert importer.import_path(db, folder).applied
    return db, as_of


def test_patients_without_recent_data_at_the_14_day_boundary(stale_db):
    db, as_of = stale_db
    stale = run(db, "patients_without_recent_data", as_of=as_of)
    assert list(stale.patient_id) == ["PNONE", "P30", "P14"]
    by_id = stale.set_index("patient_id")
    assert by_id.loc["P30", "days_without_data"] == 20  # the session is more recent
    assert by_id.loc["P14", "days_without_data"] == 14
    assert by_id.loc["P14", "primary_clinician"] == "Cee"


def test_stale_window_comes_from_the_reference(stale_db):
    db, as_of = stale_db
    st = store.open_store(db)
    with st.write() as cur:
        cur.execute(
            "UPDATE flag_rules SET params = '{\"window_days\": 21}' WHERE code = 'stale_data'"
        )
    st.close()
    stale = run(db, "patients_without_recent_data", as_of=as_of)
    assert list(stale.patient_id) == ["PNONE"]


def test_sample_caseload_summary(sample_db):
    summary = run(sample_db, "caseload_summary", as_of=AS_OF).iloc[0]
    st = store.open_store(sample_db)
    try:
        active = (
            st.cursor()
            .execute(
                # on the sample's last day no one's last contact is still to come: in care is
                # started, not discharged by then, active or on hold
                "SELECT count(*) FROM patients WHERE start_date <= $d "
                "AND coalesce(discharge_date > $d, true) AND status IN ('active', 'on_hold')",
                {"d": AS_OF},
            )
            .fetchone()[0]
        )
    finally:
        st.close()
    assert summary.active_patients == active
    assert summary.all_patients == 48


def test_queries_refuse_wrong_parameters(sample_db):
    st = store.open_store(sample_db)
    try:
        with pytest.raises(TypeError, match=r"takes \['as_of'\]"):
            queries.run(st.cursor(), "caseload_summary", as_of=AS_OF, patient_id="x")
        with pytest.raises(ValueError):
            queries.sql("../etc/passwd")
    finally:
        st.close()


def test_every_query_file_says_what_a_row_is():
    for path in sorted(queries.HERE.glob("*.sql")):
        first = path.read_text().splitlines()[0]
        assert first.startswith("-- One row"), path.name


def test_answers_built_on_shared_answers_equal_the_ones_computed_whole(sample_db):
    """The agenda and the caseload KPIs read the caseload's summary, flags and patient list
    computed once (as the dashboard's cache and the CLI do): the same rows as computing each
    query whole, and each shared answer computed once. (On a day the store keeps no answers
    for: test_kept.py has the day it keeps.)"""
    st = store.open_store(sample_db)
    try:
        cur = st.cursor()
        answers = queries.Answers(cur)
        day = AS_OF - dt.timedelta(days=1)
        agenda = dict(as_of=day, meeting_id=day.isoformat(), patient_ids=None)
        kpis = dict(as_of=day, start=day - dt.timedelta(days=83), patient_ids=None,
                    sites=None, clinicians=None, conditions=None)  # fmt: skip
        for name, params in (("meeting_agenda", agenda), ("caseload_kpis", kpis)):
            whole = queries.run(cur, name, **params)
            shared = answers(name, **params)
            assert len(whole) > 0
            pd.testing.assert_frame_equal(shared, whole, check_dtype=False)
        assert sorted(name for name, _ in answers._tables) == [
            "caseload_patients", "patient_flags", "patient_pain", "patient_summary",
        ]  # fmt: skip
        # A few patients' rows (the presenter's summary and flags) are those of the whole
        # answer, not computed again; their flag lists (the agenda page's 40 rows) are made from
        # those flags; the agenda's own places depend on its set, so it is computed. (Each such
        # answer is one others build on: it is asked for as a table, where reuse is.)
        assert queries.SAME_ROWS_PER_PATIENT <= queries.included_anywhere()
        ids = queries.run(cur, "meeting_agenda", **agenda)["patient_id"].head(4).tolist()[::-1]
        names = ("patient_flag_lists", "patient_summary", "patient_flags")
        expected = [queries.run(cur, n, as_of=day, patient_ids=ids) for n in names]
        ran, run, run_arrow = [], queries.run, queries.run_arrow
        queries.run = lambda cur, name, **kw: ran.append(name) or run(cur, name, **kw)
        queries.run_arrow = lambda cur, name, **kw: ran.append(name) or run_arrow(cur, name, **kw)
        try:
            for name, rows in zip(names, expected, strict=True):
                pd.testing.assert_frame_equal(answers(name, as_of=day, patient_ids=ids), rows)
            assert ran == ["patient_flag_lists"]
            ran.clear()
            few = answers("meeting_agenda", **dict(agenda, patient_ids=ids))
            assert ran == ["meeting_agenda"]
        finally:
            queries.run, queries.run_arrow = run, run_arrow
        assert few["position"].tolist() == [1, 2, 3, 4]
    finally:
        st.close()


def _patients_csv() -> pd.DataFrame:
    from tests.conftest import SAMPLE_DATA

    return pd.read_csv(SAMPLE_DATA / "patients.csv", dtype=str, keep_default_na=False)


def _in_care(p: pd.Series) -> bool:
    started = dt.date.fromisoformat(p.start_date) <= AS_OF
    if p.discharge_date:
        return started and dt.date.fromisoformat(p.discharge_date) > AS_OF
    return started and p.status in ("active", "on_hold")


def test_patient_rows_computing_the_summary_within_are_those_built_on_it_given(sample_db):
    """The caseload's patient rows compute the summary they build on within themselves on a
    day the store does not keep (queries.COMPUTED_WITHIN): the same rows as on the summary
    computed whole and given, for the whole caseload and for one site, across two periods."""
    assert queries.given_includes("caseload_patients") == ()
    st = store.open_store(sample_db)
    try:
        cur = st.cursor()
        for day, sites in (
            (AS_OF - dt.timedelta(days=1), None),
            (AS_OF - dt.timedelta(days=40), ["North Clinic"]),
        ):
            params = dict(as_of=day, start=day - dt.timedelta(days=83), patient_ids=None,
                          sites=sites, clinicians=None, conditions=None)  # fmt: skip
            summary = queries.run_arrow(cur, "patient_summary", as_of=day, patient_ids=None)
            given = queries.run_arrow(cur, "caseload_patients", given={"patient_summary": summary},
                                      **params)  # fmt: skip
            within = queries.run_arrow(cur, "caseload_patients", **params)
            assert within.num_rows > 10
            assert within.equals(given)
    finally:
        st.close()


def test_patient_search_aliases_are_the_screens_aliases(sample_db):
    from dashboard import privacy

    st = store.open_store(sample_db)
    with st.write() as cur:  # names the sample does not have: odd spacing, accents, digits, none
        for pid, name in (
            ("X1", "  anna   maría  de-la Cruz "),
            ("X2", "Émile 2nd Zola"),
            ("X3", "  "),
            ("X4", "42 Example"),
        ):
            cur.execute(
                "INSERT INTO patients (patient_id, name, condition, start_date, status) "
                "VALUES (?, ?, 'PHN', DATE '2026-01-01', 'active')",
                [pid, name],
            )
    st.close()
    everyone = run(sample_db, "patient_search", as_of=AS_OF, term="", privacy_mode=True, limit=999)
    assert len(everyone) == len(_patients_csv()) + 4
    for r in everyone.itertuples():  # the alias the screen shows finds the patient it belongs to
        shown = privacy.alias(r.name, r.patient_id)
        found = run(
            sample_db, "patient_search", as_of=AS_OF, term=shown, privacy_mode=True, limit=999
        )
        assert r.patient_id in found.patient_id.tolist(), (shown, r.patient_id)
    assert privacy.alias("  anna   maría  de-la Cruz ", "X1") == "A.M.D.C. ·X1"
    for wrong in ("A.M.D. ·X1", "A.M.D.C.D. ·X1"):  # not the same initials: not found
        found = run(
            sample_db, "patient_search", as_of=AS_OF, term=wrong, privacy_mode=True, limit=9
        )
        assert found.empty, wrong


def test_patient_search_finds_by_id_and_name_or_by_alias_in_privacy_mode(sample_db):
    sample = _patients_csv()
    order = sorted(sample.itertuples(), key=lambda p: (not _in_care(p), p.patient_id))

    def search(term, privacy_mode=False, limit=100):
        rows = run(
            sample_db,
            "patient_search",
            as_of=AS_OF,
            term=term,
            privacy_mode=privacy_mode,
            limit=limit,
        )
        return rows.patient_id.tolist()

    # everyone, in care first then by id; the limit cuts that order
    assert search("") == [p.patient_id for p in order]
    assert search("", limit=5) == [p.patient_id for p in order][:5]
    # part of a name, any case; and part of an id
    word = sample.name.iloc[5].split()[0]
    by_name = [p.patient_id for p in order if word.lower() in p.name.lower()]
    assert by_name and search(word.upper()) == by_name
    assert search("p000") == [p.patient_id for p in order if "P000" in p.patient_id]
    # privacy mode: names are not searched, aliases are (initials and the end of the id)
    assert search(word, privacy_mode=True) == []
    assert search("·0007", privacy_mode=True) == ["P0007"]
    # a term is plain text, never a pattern or SQL
    for term in ("%", "_", "' OR 1=1 --", "P00%"):
        assert search(term) == []


def test_patient_picked_places_the_patient_in_their_clinicians_caseload(sample_db):
    sample = _patients_csv()
    for pid in ("P0006", "P0012", "P0001"):
        me = sample.set_index("patient_id").loc[pid]
        caseload = sorted(
            p.patient_id
            for p in sample.itertuples()
            if p.primary_clinician_id == me.primary_clinician_id and _in_care(p)
        )
        row = run(sample_db, "patient_picked", as_of=AS_OF, patient_id=pid).iloc[0]
        assert row["name"] == me["name"]
        if pid not in caseload:
            assert not row.in_care and pd.isna(row.position) and pd.isna(row.next_id)
            continue
        i = caseload.index(pid)
        assert (row.position, row.caseload_size) == (i + 1, len(caseload))
        assert row.previous_id == (caseload[i - 1] if i else None)
        assert row.next_id == (caseload[i + 1] if i + 1 < len(caseload) else None)
    assert run(sample_db, "patient_picked", as_of=AS_OF, patient_id="P9999").empty


def test_an_answer_as_a_frame_has_the_values_and_types_duckdb_gives(sample_db):
    """queries.frame makes most columns from Arrow (faster for many rows): the same frame as
    DuckDB's .df(), text, NULLs, a column of only NULLs, numbers (with NULLs too), booleans
    (with NULLs too), dates, decimals, timestamps and lists alike."""
    st = store.open_store(sample_db)
    try:
        cur = st.cursor()
        mixed = cur.sql(
            "SELECT i, CASE WHEN i % 3 = 0 THEN NULL ELSE 'v' || i END AS text, "
            "CAST(NULL AS VARCHAR) AS none, DATE '2026-11-20' + CAST(i AS INTEGER) AS day, i / 7 AS ratio, "
            "[i, i + 1] AS pair, CAST(i AS DECIMAL(18, 0)) AS whole, i > 2 AS big, "
            "'€ ' || i AS unicode, CASE WHEN i <> 1 THEN i > 2 END AS maybe, "
            "CASE WHEN i <> 1 THEN CAST(i AS INTEGER) END AS some, "
            "CASE WHEN i <> 1 THEN DATE '2026-01-01' + CAST(i AS INTEGER) END AS some_day, "
            "sum(i) OVER (ORDER BY i) AS running, TIMESTAMP '2026-11-20 08:30' AS at, "
            "CAST(i AS SMALLINT) AS small, CASE WHEN i <> 1 THEN ['a', 'b' || i] END AS words, "
            "CAST(NULL AS TIMESTAMP) AS never, {'k': i} AS pair_struct FROM range(5) t(i)"
        ).to_arrow_table()
        answers = [
            mixed,
            mixed.slice(0, 0),
            queries.run_arrow(cur, "patient_flags", as_of=AS_OF, patient_ids=None),
            queries.run_arrow(cur, "meeting_agenda", as_of=AS_OF, meeting_id="m", patient_ids=None),
        ]
        for table in answers:
            made = queries.frame(cur, table, arrow_from=0)
            pd.testing.assert_frame_equal(made, cur.from_arrow(table).df())
            assert list(made.columns) == table.column_names
        assert list(queries.frame(cur, mixed, arrow_from=0)["text"].fillna("NULL")) == [
            "NULL", "v1", "v2", "NULL", "v4"
        ]  # fmt: skip
    finally:
        st.close()


def gas_t(points: list[tuple[int, int]]) -> float:
    """MEASURES.md: T = 50 + 10*sum(w*x) / sqrt(0.7*sum(w^2) + 0.3*(sum w)^2), for (w, x) pairs,
    rounded to one decimal as the page shows it."""
    sw = sum(w for w, _ in points)
    sww = sum(w * w for w, _ in points)
    return round(50 + 10 * sum(w * x for w, x in points) / (0.7 * sww + 0.3 * sw * sw) ** 0.5, 1)


def test_a_patients_gas_t_at_each_review_date_weighs_each_goal_at_its_latest_attainment(tmp_path):
    """The patient page's GAS T series: one point per review date up to the as-of date, over the
    goals reviewed by then, each at its latest attainment, weighted by importance x difficulty
    (1 when not given); another patient's goals and a later review do not count."""
    folder = tmp_path / "g"
    write_csv(folder, "clinicians", [{"clinician_id": "C1", "name": "Cee", "discipline": "PT"}])
    write_csv(folder, "patients", [
        {"patient_id": pid, "name": f"Name {pid}", "condition": "PHN", "start_date": "2026-01-01",
         "status": "active", "primary_clinician_id": "C1"} for pid in ("P1", "P2")
    ])  # fmt: skip
    goal = {"domain": "function", "description": "walk", "set_date": "2026-02-01"}
    write_csv(folder, "goals", [
        {"goal_id": "G1", "patient_id": "P1", "importance": "2", "difficulty": "3", **goal},
        {"goal_id": "G2", "patient_id": "P1", "importance": "", "difficulty": "", **goal},
        {"goal_id": "G3", "patient_id": "P2", "importance": "3", "difficulty": "3", **goal},
    ])  # fmt: skip
    write_csv(folder, "goal_reviews", [
        {"goal_id": "G1", "date": "2026-03-01", "attainment": "-1"},
        {"goal_id": "G3", "date": "2026-03-10", "attainment": "2"},
        {"goal_id": "G2", "date": "2026-03-15", "attainment": "0"},
        {"goal_id": "G1", "date": "2026-04-01", "attainment": "1"},
        {"goal_id": "G2", "date": "2026-05-01", "attainment": "2"},  # after the as-of date
    ])  # fmt: skip
    db = tmp_path / "g.duckdb"
    assert importer.import_path(db, folder).applied
    series = run(db, "patient_gas_t", patient_id="P1", as_of=dt.date(2026, 4, 15))
    assert [d.date() for d in series.review_date] == [
        dt.date(2026, 3, 1), dt.date(2026, 3, 15), dt.date(2026, 4, 1),
    ]  # fmt: skip
    assert series.goals.tolist() == [1, 2, 2]
    assert series.gas_t.tolist() == [
        gas_t([(6, -1)]),  # 40.0
        gas_t([(6, -1), (1, 0)]),  # 40.6
        gas_t([(6, 1), (1, 0)]),  # 59.4
    ]


def test_a_patients_home_practice_by_week_gives_adherence_and_the_caregiver_share(tmp_path):
    """Weeks start on Monday; a week whose minutes were all done without a caregiver shows 0%, not
    nothing; a week that does not record it either way shows nothing."""
    folder = tmp_path / "h"
    write_csv(folder, "patients", [{"patient_id": "P1", "name": "Name P1", "condition": "PHN",
                                    "start_date": "2026-03-01", "status": "active"}])  # fmt: skip
    rows = [  # (date, prescribed, completed, with a caregiver)
        ("2026-03-02", 30, 20, "no"), ("2026-03-08", 30, 10, "no"),  # Mon and Sun of one week
        ("2026-03-09", 30, 20, "yes"), ("2026-03-10", 30, 10, "no"),
        ("2026-03-16", 20, 20, ""),
        ("2026-03-23", 40, 10, "yes"), ("2026-03-24", 0, 30, ""),
    ]  # fmt: skip
    write_csv(folder, "home_practice", [
        {"patient_id": "P1", "date": d, "activity": "exercise", "prescribed_min": str(p),
         "completed_min": str(c), "caregiver_assisted": cg} for d, p, c, cg in rows
    ])  # fmt: skip
    db = tmp_path / "h.duckdb"
    assert importer.import_path(db, folder).applied
    weeks = run(db, "patient_home_practice_weekly", patient_id="P1",
                start=dt.date(2026, 3, 1), as_of=dt.date(2026, 3, 31))  # fmt: skip
    assert [w.date() for w in weeks.week] == [
        dt.date(2026, 3, 2), dt.date(2026, 3, 9), dt.date(2026, 3, 16), dt.date(2026, 3, 23),
    ]  # fmt: skip
    # the 23rd's 10 of 40 prescribed: the 24th's 30 minutes were not prescribed
    assert weeks.adherence_pct.tolist() == [50.0, 50.0, 100.0, 25.0]
    shares = [None if pd.isna(v) else v for v in weeks.caregiver_assisted_pct]
    assert shares == [0.0, round(100 * 20 / 30, 1), None, 25.0]  # 10 of 40 minutes


def test_a_patients_functional_tasks_read_from_first_timed_attempt_to_latest(tmp_path):
    """Each task's time from its first timed attempt in the period to its latest, in minutes; a
    task timed once gives its one time, one never timed nothing; the latest attempt's own pain
    before and after ("—" for the one not logged, nothing when neither was) and micro-breaks,
    never an earlier attempt's (the table took each from the latest attempt that logged it)."""
    folder = tmp_path / "f"
    write_csv(folder, "patients", [{"patient_id": "P1", "name": "Name P1", "condition": "PHN",
                                    "start_date": "2026-03-01", "status": "active"}])  # fmt: skip
    days = {"S1": "2026-03-02", "S2": "2026-03-09", "S3": "2026-03-16", "S4": "2026-04-06"}
    write_csv(folder, "sessions", [
        {"session_id": s, "patient_id": "P1", "ts": f"{d}T10:00", "status": "attended"}
        for s, d in days.items()
    ])  # fmt: skip
    rows = [  # (session, task, seconds, pain before, pain after, micro-breaks)
        ("S1", "Typing", "600", "5", "6.5", "2"), ("S2", "Typing", "483", "4", "", ""),
        ("S4", "Typing", "300", "3", "3", "0"),  # after the as-of date
        ("S1", "Buttoning", "", "", "", "1"), ("S3", "Buttoning", "90", "", "", "0"),
        ("S2", "Gardening", "", "", "", ""),
    ]  # fmt: skip
    write_csv(folder, "functional_tasks", [
        {"session_id": s, "patient_id": "P1", "date": days[s], "task": t, "level": "2",
         "completion_time_s": sec, "pain_before": b, "pain_after": a, "microbreaks": m}
        for s, t, sec, b, a, m in rows
    ])  # fmt: skip
    db = tmp_path / "f.duckdb"
    assert importer.import_path(db, folder).applied
    tasks = run(db, "patient_functional_tasks_latest", patient_id="P1",
                start=dt.date(2026, 3, 1), as_of=dt.date(2026, 3, 31))  # fmt: skip
    shown = {
        row[0]: tuple(None if pd.isna(v) else v for v in row[1:])
        for row in tasks[["task", "time_min", "pain", "microbreaks"]].itertuples(index=False)
    }
    # the latest attempt's own pain after and micro-breaks: none logged, not the 6.5 and 2 before
    assert shown == {
        "Buttoning": ("1.5 min", None, 0),
        "Gardening": (None, None, None),
        "Typing": ("10.0 → 8.1 min", "4 → —", None),
    }
    assert [d.date() for d in pd.to_datetime(tasks.latest_date)] == [
        dt.date(2026, 3, 16), dt.date(2026, 3, 9), dt.date(2026, 3, 9),
    ]  # fmt: skip
