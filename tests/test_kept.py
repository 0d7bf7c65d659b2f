"""The answers the store keeps (dashboard/kept.py): the same rows as computing them, read only
when they stand for what was asked, and kept true by every write."""

from __future__ import annotations

import datetime as dt

import pandas as pd

import queries
from dashboard import caseload, importer, kept, meeting, store
from tests.conftest import AS_OF, snapshot, write_csv


def _kept_rows(cur, name: str, variant: dict | None = None) -> pd.DataFrame:
    """The rows kept for `name`, for one of its variants (default: the as-of day's)."""
    variant = variant or {"as_of": kept.kept_as_of(cur)}
    columns = ", ".join(["_kept_row", *(f"_kept_{k}" for k in kept.keys(name))])
    where = " AND ".join(f"_kept_{k} = ${k}" for k in kept.keys(name))
    return cur.execute(
        f"SELECT * EXCLUDE ({columns}) FROM {kept.table_name(name)} WHERE {where}", variant
    ).df()


def _computed(cur, name: str, variant: dict) -> pd.DataFrame:
    params = {p: variant.get(p) for p in queries.params_of(name)}  # the rest: NULL, all
    return queries.run(cur, name, **params)


def _assert_all_kept_true(cur, day: dt.date) -> None:
    """Every kept answer, for every variant kept, is the answer computed whole."""
    assert kept.kept_as_of(cur) == day
    for name in kept.KEPT:
        for variant in kept.variants(name, day):
            _same_rows(_kept_rows(cur, name, variant), _computed(cur, name, variant))


def _same_rows(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """The same rows: a row per patient in any order; an answer kept whole in its own order."""
    key = [c for c in ("patient_id", "flag") if c in a.columns]
    if key:
        a, b = a.sort_values(key), b.sort_values(key)
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))


def _agenda(cur, day: dt.date = AS_OF) -> tuple[pd.DataFrame | None, pd.DataFrame]:
    """The agenda read on the kept answers (None when they do not serve), and computed whole."""
    params = dict(as_of=day, meeting_id=day.isoformat(), patient_ids=None)
    on_kept = kept.from_kept(cur, "meeting_agenda", params, queries.run)
    return on_kept, queries.run(cur, "meeting_agenda", **params)


def _recording():
    """queries.run for kept.from_kept, and the list of which kept answers each call read."""
    read_from: list[set] = []

    def run(cur, name, kept, **params):
        read_from.append(set(kept))
        return queries.run(cur, name, kept=kept, **params)

    return run, read_from


def _assert_read_in_order(cur, day: dt.date) -> None:
    """A row-per-patient answer read from its kept rows for every patient, without a sort,
    comes back in the order the query gives, row for row."""
    for name in kept.PER_PATIENT:
        for variant in kept.variants(name, day):
            params = {p: variant.get(p) for p in queries.params_of(name)}
            on_kept = kept.from_kept(cur, name, params, queries.run)
            assert on_kept is not None, name
            pd.testing.assert_frame_equal(on_kept, queries.run(cur, name, **params))


def _assert_kept_true(cur) -> None:
    _assert_all_kept_true(cur, AS_OF)
    _assert_read_in_order(cur, AS_OF)
    on_kept, whole = _agenda(cur)
    assert on_kept is not None
    pd.testing.assert_frame_equal(on_kept, whole)


def test_the_answers_kept_on_import_are_the_answers_computed_whole(sample_db):
    st = store.open_store(sample_db)
    try:
        cur = st.cursor()
        flags = _kept_rows(cur, "patient_flags")
        assert len(flags) > 20 and flags["patient_id"].nunique() > 10
        assert len(_kept_rows(cur, "patient_summary")) == 48  # every patient
        _assert_kept_true(cur)
        on_kept, whole = _agenda(cur)
        assert list(on_kept["patient_id"][:3]) == list(whole["patient_id"][:3])
    finally:
        st.close()


def test_the_caseload_page_on_the_kept_rows_shows_what_it_computes(sample_db):
    """Its default period, the previous one its KPIs compare with, and the year of cohorts are
    read from the kept rows, whole or narrowed by a filter; another period is computed."""
    st = store.open_store(sample_db)
    try:
        cur = st.cursor()
        shown = caseload.Period(AS_OF, caseload.DEFAULT_WEEKS)
        site = _kept_rows(cur, "caseload_patients", {"as_of": AS_OF, "start": shown.start})
        site = site["site"].iloc[0]
        calls = []
        for filters in (caseload.Filters(), caseload.Filters(sites=(site,)),
                        caseload.Filters(clinicians=("C01", "C02"), conditions=("CRPS",))):  # fmt: skip
            for period in (shown, shown.previous, caseload.Period(AS_OF, 52)):
                params = caseload._params(period, filters)
                calls += [(name, params) for name in ("caseload_patients", "caseload_kpis",
                                                      "caseload_factors", "caseload_cohorts")]  # fmt: skip
                calls.append(("caseload_breakdown", dict(params, by="site")))
        for name, params in calls:
            on_kept = kept.from_kept(cur, name, params, queries.run)
            assert on_kept is not None, (name, params)
            pd.testing.assert_frame_equal(on_kept, queries.run(cur, name, **params))
        narrowed = kept.from_kept(cur, "caseload_patients", caseload._params(
            shown, caseload.Filters(sites=(site,))), queries.run)  # fmt: skip
        assert 0 < len(narrowed) < 48 and set(narrowed["site"]) == {site}
        other = caseload._params(caseload.Period(AS_OF, 26), caseload.Filters())
        assert kept.from_kept(cur, "caseload_kpis", other, queries.run) is None
        assert kept.from_kept(cur, "caseload_patients", dict(other, patient_ids=["P0001"]),
                              queries.run) is None  # fmt: skip
    finally:
        st.close()


def test_the_caseload_pages_opening_view_is_read_whole_and_a_filtered_view_on_the_patient_rows(
    sample_db,
):
    """The page's own calls on its opening view (every tab's) read each answer's kept rows; a
    filter or another breakdown computes the answer on the kept patient rows (or on the store's
    tables where it does not build on them); every read equals the answer computed whole."""
    st = store.open_store(sample_db)
    try:
        cur = st.cursor()
        run, read_from = _recording()
        period, everyone = caseload.Period(AS_OF, caseload.DEFAULT_WEEKS), caseload.Filters()
        every_tab = [
            *caseload.opening_calls(period, everyone).values(),
            *(call for tab in caseload.TABS
              for call in caseload.tab_calls(period, everyone, tab, caseload.DEFAULT_BY).values()),
        ]  # fmt: skip
        calls = [(n, p) for n, p in every_tab if n in kept.KEPT]
        assert {n for n, _ in calls} == set(kept.WHOLE) | {"caseload_patients"}
        for name, params in calls:
            read_from.clear()
            on_kept = kept.from_kept(cur, name, params, run)
            assert read_from == [{name}], name
            pd.testing.assert_frame_equal(on_kept, queries.run(cur, name, **params))
        some = caseload.Filters(clinicians=("C01", "C02"))
        for name, params in calls:
            read_from.clear()
            params = dict(params, **some.params())
            on_kept = kept.from_kept(cur, name, params, run)
            if not queries.includes(name):  # trends, barriers: on the store's tables
                assert on_kept is None and read_from == [], name
                continue
            narrowed = {name} if name in kept.FILTERS else set(queries.includes(name))
            assert read_from == [narrowed], name  # the patient rows, narrowed by the filter
            pd.testing.assert_frame_equal(on_kept, queries.run(cur, name, **params))
        by_site = dict(caseload._params(caseload.Period(AS_OF, caseload.DEFAULT_WEEKS),
                                        caseload.Filters()), by="site")  # fmt: skip
        read_from.clear()
        on_kept = kept.from_kept(cur, "caseload_breakdown", by_site, run)
        assert read_from == [{"caseload_patients"}]
        pd.testing.assert_frame_equal(on_kept, queries.run(cur, "caseload_breakdown", **by_site))
        assert set(on_kept["group"]) == set(
            _computed(cur, "patient_summary", {"as_of": AS_OF})["site"].dropna()
        )
    finally:
        st.close()


def test_the_days_agenda_is_read_whole_and_another_meeting_or_day_on_the_patient_rows(sample_db):
    st = store.open_store(sample_db)
    try:
        cur = st.cursor()
        run, read_from = _recording()
        day = dict(as_of=AS_OF, meeting_id=meeting.meeting_id_for(AS_OF), patient_ids=None)
        on_kept = kept.from_kept(cur, "meeting_agenda", day, run)
        assert read_from == [{"meeting_agenda"}]  # its own kept rows, in agenda order
        pd.testing.assert_frame_equal(on_kept, queries.run(cur, "meeting_agenda", **day))
        assert on_kept["position"].tolist() == list(range(1, len(on_kept) + 1))
        read_from.clear()
        other = dict(day, meeting_id="2026-11-13")  # another meeting's items, on this day's rows
        on_kept = kept.from_kept(cur, "meeting_agenda", other, run)
        assert read_from == [{"patient_summary", "patient_flags"}]
        pd.testing.assert_frame_equal(on_kept, queries.run(cur, "meeting_agenda", **other))
    finally:
        st.close()


def test_a_patients_summary_and_flags_read_from_the_kept_answers_are_the_ones_computed(sample_db):
    """The patient page asks for one patient's summary and flags: every patient's, in the
    order the queries give them."""
    st = store.open_store(sample_db)
    try:
        cur = st.cursor()
        seen_flags = 0
        for pid in _computed(cur, "patient_summary", {"as_of": AS_OF})["patient_id"]:
            for name in ("patient_summary", "patient_flags"):
                params = dict(as_of=AS_OF, patient_ids=[pid])
                on_kept = kept.from_kept(cur, name, params, queries.run)
                assert on_kept is not None
                pd.testing.assert_frame_equal(on_kept, queries.run(cur, name, **params))
                seen_flags += len(on_kept) if name == "patient_flags" else 0
        assert seen_flags > 20
        two = dict(as_of=AS_OF - dt.timedelta(days=1), patient_ids=["P0001"])
        assert kept.from_kept(cur, "patient_flags", two, queries.run) is None  # a day not kept
    finally:
        st.close()


def test_kept_answers_are_read_only_for_the_day_kept_every_patient_and_the_current_data(
    sample_db,
):
    st = store.open_store(sample_db)
    try:
        cur = st.cursor()
        assert _agenda(cur)[0] is not None
        assert _agenda(cur, AS_OF - dt.timedelta(days=1))[0] is None  # another day: computed
        one = dict(as_of=AS_OF, meeting_id=AS_OF.isoformat(), patient_ids=["P0001"])
        assert kept.from_kept(cur, "meeting_agenda", one, queries.run) is None
        with st.write() as w:  # a write that does not keep them (none in the dashboard does)
            w.execute("UPDATE patients SET review_interval_days = 7 WHERE patient_id = 'P0001'")
        assert kept.kept_as_of(cur) is None
        assert _agenda(cur)[0] is None
    finally:
        st.close()


def test_answers_kept_by_another_version_of_the_sql_are_not_read(sample_db):
    st = store.open_store(sample_db)
    try:
        with st.write(data_change=False) as w:
            w.execute("UPDATE meta SET value = 'older' WHERE key = 'kept_code'")
        assert _agenda(st.cursor())[0] is None
    finally:
        st.close()


def test_meeting_writes_keep_the_kept_answers_true(sample_db):
    st = store.open_store(sample_db)
    try:
        cur = st.cursor()
        before = _agenda(cur)[1]
        due = before[before["review_due"]].iloc[0]
        pid = due["patient_id"]
        meeting.start(st, AS_OF, "tester")
        meeting.add_note(st, AS_OF, pid, "Continue the plan.", "tester")
        meeting.add_action(st, AS_OF, pid, "Call GP", "C01", AS_OF + dt.timedelta(days=7), "tester")
        _assert_kept_true(cur)
        assert meeting.mark_reviewed(st, AS_OF, pid, "tester")
        summary = _kept_rows(cur, "patient_summary").set_index("patient_id").loc[pid]
        assert summary["last_review"].date() == AS_OF
        assert summary["last_review_kind"] == "MDT meeting"
        assert summary["days_overdue"] < 0 <= due["days_overdue"]
        _assert_kept_true(cur)
        meeting.unmark_reviewed(st, AS_OF, pid, "tester")
        summary = _kept_rows(cur, "patient_summary").set_index("patient_id").loc[pid]
        assert summary["days_overdue"] == due["days_overdue"]
        _assert_kept_true(cur)
    finally:
        st.close()


def test_a_patients_recomputed_rows_are_written_in_place_or_anew_and_read_in_order(sample_db):
    """Recomputing a patient's kept rows (as marking them reviewed does) puts a changed row back
    where it was when the patient has as many rows as before, and writes the table anew in its
    order when not; either way every read of every patient comes back in the query's order."""
    st = store.open_store(sample_db)
    try:
        cur = st.cursor()
        flags = _kept_rows(cur, "patient_flags")
        pid = flags["patient_id"].value_counts().index[0]  # the patient with the most flags
        with st.write() as w:  # the kept rows go stale: one value changed, one flag lost
            w.execute(
                "UPDATE kept_caseload_patients SET current_nrs = 99 WHERE patient_id = $p",
                {"p": pid},
            )
            w.execute(
                "DELETE FROM kept_patient_flags WHERE patient_id = $p AND _kept_row = "
                "(SELECT min(_kept_row) FROM kept_patient_flags WHERE patient_id = $p)",
                {"p": pid},
            )
            kept.refresh(w, patient_ids=[pid])
        assert 99 not in set(_kept_rows(cur, "caseload_patients", {
            "as_of": AS_OF, "start": caseload.Period(AS_OF, caseload.DEFAULT_WEEKS).start,
        })["current_nrs"])  # fmt: skip
        assert len(_kept_rows(cur, "patient_flags")) == len(flags)
        _assert_kept_true(cur)
    finally:
        st.close()


def test_an_import_recomputes_the_kept_answers_and_a_failed_one_leaves_them_as_they_were(
    sample_db, tmp_path
):
    st = store.open_store(sample_db)
    try:
        cur = st.cursor()
        summary = _kept_rows(cur, "patient_summary").set_index("patient_id")
        pid = summary[summary["in_care"]].index[0]
        ratings = [
            {"patient_id": pid, "ts": f"2026-11-{14 + i}T09:00:00", "source": "diary",
             "nrs": 10, "context": "now", "session_id": ""}
            for i in range(7)
        ]  # fmt: skip
        bad = [dict(ratings[0], ts="2026-11-13T09:00:00", nrs=11)]
        write_csv(tmp_path / "bad", "pain_ratings", [*ratings, *bad])
        st.close()
        before = snapshot(sample_db)
        st = store.open_store(sample_db)
        result = importer.import_into(st, tmp_path / "bad", keep_as_of=AS_OF)
        assert not result.applied
        st.close()
        assert snapshot(sample_db) == before
        st = store.open_store(sample_db)
        write_csv(tmp_path / "good", "pain_ratings", ratings)
        assert importer.import_into(st, tmp_path / "good", keep_as_of=AS_OF).applied
        cur = st.cursor()
        _assert_kept_true(cur)
        now = _kept_rows(cur, "patient_summary").set_index("patient_id").loc[pid, "current_nrs"]
        assert now > summary.loc[pid, "current_nrs"]
        flags = _kept_rows(cur, "patient_flags")
        assert "pain_flare" in set(flags.loc[flags["patient_id"] == pid, "flag"])
    finally:
        st.close()


def test_an_import_keeps_the_answers_for_the_day_the_dashboard_opens_on(
    sample_db, tmp_path, monkeypatch
):
    day = AS_OF - dt.timedelta(days=30)
    monkeypatch.setenv(kept.AS_OF_ENV, day.isoformat())
    write_csv(tmp_path / "one", "pain_ratings", [
        {"patient_id": "P0001", "ts": "2026-10-01T09:00:00", "nrs": 5, "source": "diary",
         "context": "now", "session_id": ""},
    ])  # fmt: skip
    st = store.open_store(sample_db)
    try:
        assert importer.import_into(st, tmp_path / "one").applied
        cur = st.cursor()
        _assert_all_kept_true(cur, day)
    finally:
        st.close()


def test_the_dashboard_keeps_the_answers_for_its_day_once_without_changing_when_data_changed(
    sample_db,
):
    st = store.open_store(sample_db)
    try:
        cur = st.cursor()
        changed = st.meta()["data_changed_at"]
        version = st.data_version()
        next_day = AS_OF + dt.timedelta(days=1)
        assert _agenda(cur, next_day)[0] is None  # computed: the store keeps them for AS_OF
        assert kept.keep_day(st, next_day)
        _assert_all_kept_true(cur, next_day)
        on_kept, whole = _agenda(cur, next_day)
        pd.testing.assert_frame_equal(on_kept, whole)
        assert st.data_version() == version + 1  # cached answers are asked again
        assert st.meta()["data_changed_at"] == changed  # the data itself did not change
        assert not kept.keep_day(st, next_day)  # already kept: no write
        assert st.data_version() == version + 1
        with st.write() as w:  # a write that does not keep them: the next visit keeps them again
            w.execute("UPDATE patients SET review_interval_days = 7 WHERE patient_id = 'P0001'")
        assert kept.kept_as_of(cur) is None
        assert kept.keep_day(st, next_day)
        _assert_all_kept_true(cur, next_day)
    finally:
        st.close()
    read_only = store.open_store(sample_db, read_only=True)
    try:
        assert not kept.keep_day(read_only, AS_OF)  # a read-only store is never written
        assert kept.kept_as_of(read_only.cursor()) == AS_OF + dt.timedelta(days=1)
    finally:
        read_only.close()
