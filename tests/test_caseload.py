"""Caseload outcomes on a store crafted here, against numbers worked out by hand: the KPIs and
their boundaries (-30.0% vs -28.0%, 8 vs 7.9 weeks in care, low n), filters, the page (AppTest),
the drill-down link, the masked export, and `mdt-dashboard caseload`."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import gc
import io
import json

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import queries
from dashboard import caseload, charts, cli, components, store
from tests.conftest import AS_OF as SAMPLE_AS_OF
from tests.conftest import ROOT
from tests.test_flags import AS_OF, at10, day, insert, pain, patient

APP = str(ROOT / "dashboard" / "app.py")


def opened(tab: str) -> AppTest:
    """The caseload page opened on `tab` through AppTest (the store and day from the
    environment)."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["tab"] = tab
    at.run()
    at.switch_page("../pages/caseload.py").run()
    assert not at.exception, (tab, at.exception)
    return at


@contextlib.contextmanager
def caseload_tab(db, as_of: dt.date, tab: str, monkeypatch):
    """opened(tab) on the store `db` as of `as_of`; the server's store closed after."""
    monkeypatch.setenv(store.DB_ENV, str(db))
    monkeypatch.setenv("MDT_AS_OF", as_of.isoformat())
    try:
        yield opened(tab)
    finally:
        components.open_store.clear()
        gc.collect()


PERIOD = caseload.Period(AS_OF, 12)  # 29 Aug .. 20 Nov 2026; the previous: 6 Jun .. 28 Aug


def course(pid: str, start: int, baseline: float, current: float, **kw) -> dict:
    """A patient `start` days into care: `baseline` every day of the first week, `current` every
    day of the last week."""
    rows = patient(pid, start)
    rows["patients"][0].update(kw)
    ratings = {n: baseline for n in range(start - 6, start + 1)} | {n: current for n in range(7)}
    return {**rows, "pain_ratings": pain(pid, ratings)}


def session(pid: str, n: int, status: str, days_ago: int) -> dict:
    return dict(session_id=f"{pid}-S{n}", patient_id=pid, ts=at10(days_ago), status=status)


@pytest.fixture
def crafted(tmp_path):
    """Outcome patients (in care >= 8 weeks with a current rating), NRS baseline -> now:
    P30 5.0 -> 3.5 (-30.0%: meaningful), P28 5.0 -> 3.6 (-28.0%: not), P2PT 6.7 -> 4.7
    (-29.9% but -2.0 points: meaningful), P50 6.0 -> 3.0 (-50%: substantial), W8 56 days in care
    5.0 -> 5.0 (counts, not meaningful). W7 55 days (7.9 weeks), 5.0 -> 2.0, does not count.
    NEW started 20 days ago at South with C2, last rating 15 days ago. DIS discharged 30 days ago;
    DROP dropped out without a date (last contact 40 days ago); OLD discharged before the period."""
    st_ = store.open_store(tmp_path / "caseload.duckdb")
    with st_.write() as cur:
        insert(cur, {"clinicians": [
            dict(clinician_id="C1", name="Test Clinician", discipline="PT"),
            dict(clinician_id="C2", name="Other Clinician", discipline="PSY"),
        ]})  # fmt: skip
        for rows in (
            course("P30", 100, 5.0, 3.5, site="North"),
            course("P28", 100, 5.0, 3.6, site="North"),
            course("P2PT", 100, 6.7, 4.7, site="North"),
            course("P50", 100, 6.0, 3.0, site="North"),
            course("W8", 56, 5.0, 5.0, site="North"),
            course("W7", 55, 5.0, 2.0, site="North"),
        ):
            insert(cur, rows)
        new = patient("NEW", 20)
        new["patients"][0].update(site="South", primary_clinician_id="C2")
        insert(cur, {**new, "pain_ratings": pain("NEW", {15: 6.0})})
        dis = patient("DIS", 150, status="discharged")
        dis["patients"][0].update(site="North", discharge_date=day(30))
        drop = patient("DROP", 120, status="dropped_out")
        drop["patients"][0].update(site="North")
        old = patient("OLD", 300, status="discharged")
        old["patients"][0].update(site="North", discharge_date=day(100))
        insert(cur, {**dis, "pain_ratings": pain("DIS", {140: 6.0, 35: 4.0})})
        insert(cur, {**drop, "pain_ratings": pain("DROP", {110: 6.0, 40: 6.0})})
        insert(cur, old)
        insert(cur, {
            "sessions": [
                session("P30", 1, "attended", 10), session("P30", 2, "attended", 20),
                session("P30", 3, "attended", 30), session("P30", 4, "dna", 40),
                session("P28", 1, "attended", 10), session("P28", 2, "cancelled_patient", 20),
                session("P28", 3, "cancelled_clinic", 30), session("DROP", 1, "attended", 40),
                session("P30", 5, "attended", 90), session("P30", 6, "attended", 95),
            ],
            "goals": [
                dict(goal_id="G30", patient_id="P30", domain="function", description="walk",
                     set_date=day(90)),
                dict(goal_id="G28", patient_id="P28", domain="function", description="walk",
                     set_date=day(90)),
            ],
            "goal_reviews": [dict(goal_id="G30", date=day(10), attainment=0),
                             dict(goal_id="G28", date=day(10), attainment=-1)],
            "home_practice": [
                dict(patient_id="P30", date=day(5), activity="exercise", prescribed_min=100,
                     completed_min=50),
                dict(patient_id="P28", date=day(5), activity="exercise", prescribed_min=100,
                     completed_min=100),
            ],
        })  # fmt: skip
    yield st_
    st_.close()


def run_on(st_: store.Store):
    cur = st_.cursor()
    return lambda name, **params: queries.run(cur, name, **params)


def by_key(rows: list[dict]) -> dict[str, dict]:
    return {r["kpi"]: r for r in rows}


def test_kpis_equal_the_hand_computation(crafted):
    k = by_key(caseload.kpis(run_on(crafted), PERIOD, caseload.Filters()))
    counts = {key: k[key]["value"] for key in
              ("active_patients", "referrals_started", "discharges", "dropouts", "sessions_delivered")}  # fmt: skip
    assert counts == {"active_patients": 7, "referrals_started": 3, "discharges": 1,
                      "dropouts": 1, "sessions_delivered": 5}  # fmt: skip
    # attended / (attended + DNA + patient cancellations): 5 / (5 + 1 + 1); clinic ones don't count
    assert (k["attendance"]["value"], k["attendance"]["numerator"], k["attendance"]["n"]) == (
        71.4,
        5,
        7,
    )
    assert k["attendance"]["previous"] == 100.0 and k["attendance"]["previous_n"] == 2
    # P30 (-30.0%), P2PT (-2.0 points), P50 (-50%) of P30, P28, P2PT, P50, W8; not W7 (7.9 weeks)
    assert (k["meaningful"]["value"], k["meaningful"]["numerator"], k["meaningful"]["n"]) == (
        60.0,
        3,
        5,
    )
    assert (k["substantial"]["value"], k["substantial"]["numerator"]) == (20.0, 1)
    assert k["median_change"]["value"] == -29.9  # of -50, -30, -29.9, -28, 0
    assert k["meaningful"]["low_n"] is False  # n = 5 is not under 5
    # GAS T: P30 attainment 0 -> 50 (met), P28 -1 -> 40; n = 2 is low
    assert (k["gas_met"]["value"], k["gas_met"]["n"], k["gas_met"]["low_n"]) == (50.0, 2, True)
    assert (k["adherence"]["value"], k["adherence"]["n"]) == (75.0, 2)  # 150 of 200 minutes
    assert (k["completeness"]["value"], k["completeness"]["numerator"]) == (85.7, 6)  # not NEW


def test_a_drop_out_without_a_date_is_in_care_until_their_last_contact_on_every_count(crafted):
    """DROP dropped out with no discharge date; their last contact was 40 days ago. Seen on the
    day 50 days ago they were still in care, and every count says so: the summary, the flags,
    the patient search, the KPIs (active, and no drop-out yet) and the caseload over time."""
    earlier = day(50)
    cur = crafted.cursor()
    q = run_on(crafted)
    drop = q("patient_summary", as_of=earlier, patient_ids=["DROP"]).iloc[0]
    assert (bool(drop.in_care), drop.end_of_care) == (True, pd.Timestamp(day(40)))
    assert bool(q("patient_summary", as_of=AS_OF, patient_ids=["DROP"]).in_care.iloc[0]) is False
    # in care then, and no rating or session for the 60 days before: flagged as stale
    flags = q("patient_flags", as_of=earlier, patient_ids=None)
    assert flags[flags.patient_id == "DROP"].flag.tolist() == ["stale_data"]
    stale = q("patients_without_recent_data", as_of=earlier)  # the Data page's list agrees
    assert "DROP" in stale.patient_id.tolist()
    assert set(stale.patient_id) == set(flags[flags.flag == "stale_data"].patient_id)
    found = q("patient_search", as_of=earlier, term="DROP", privacy_mode=False, limit=5)
    assert found[["patient_id", "in_care"]].values.tolist() == [["DROP", True]]
    then = by_key(caseload.kpis(q, caseload.Period(earlier, 12), caseload.Filters()))
    over_time = q("caseload_over_time", as_of=earlier, sites=None, clinicians=None, conditions=None)
    in_care_then = queries.run(cur, "patient_summary", as_of=earlier, patient_ids=None)
    assert then["active_patients"]["value"] == int(in_care_then.in_care.sum())
    assert then["active_patients"]["value"] == int(over_time.active.iloc[-1])
    assert then["dropouts"]["value"] == 0 and int(over_time.dropped_out.sum()) == 0
    # and on the as-of day, the drop-out 40 days ago is in the period and in its month
    now = q("caseload_over_time", as_of=AS_OF, sites=None, clinicians=None, conditions=None)
    month = pd.Timestamp(day(40).replace(day=1))
    assert int(now.set_index("month_start").dropped_out[month]) == 1


def test_patient_level_boundaries(crafted):
    table = caseload.patients(run_on(crafted), PERIOD, caseload.Filters()).set_index("patient_id")
    assert (
        table.loc["P30", "change_pct"] == -30.0
        and table.loc["P30", "pain_response"] == "meaningful"
    )
    assert (
        table.loc["P28", "change_pct"] == -28.0 and table.loc["P28", "pain_response"] == "not yet"
    )
    assert table.loc["P2PT", "change_pct"] == -29.9 and table.loc["P2PT", "change_points"] == -2.0
    assert table.loc["P2PT", "pain_response"] == "meaningful"
    assert table.loc["W8", "weeks_in_care"] == 8.0 and bool(table.loc["W8", "outcome_eligible"])
    assert table.loc["W7", "weeks_in_care"] == 7.9 and not table.loc["W7", "outcome_eligible"]
    assert table.loc["DROP", "end_of_care"].date() == day(40)
    assert "OLD" not in table.index  # care ended before the period


def test_filters_narrow_every_number(crafted):
    run = run_on(crafted)
    south = by_key(caseload.kpis(run, PERIOD, caseload.Filters(sites=("South",))))
    assert (south["active_patients"]["value"], south["referrals_started"]["value"]) == (1, 1)
    assert south["meaningful"]["n"] == 0 and south["meaningful"]["value"] is None
    other = by_key(caseload.kpis(run, PERIOD, caseload.Filters(clinicians=("C2",))))
    assert other["active_patients"]["value"] == 1
    groups = caseload.breakdown(run, PERIOD, caseload.Filters(), "site").set_index("group")
    assert groups.loc["North", "outcome_n"] == 5 and groups.loc["North", "meaningful_pct"] == 60.0
    assert groups.loc["South", "patients"] == 1


def test_the_export_is_masked_in_privacy_mode(crafted):
    with crafted.write() as cur:
        cur.execute("UPDATE patients SET name = 'Robin Realname' WHERE patient_id = 'P30'")
    frame = caseload.patients(run_on(crafted), PERIOD, caseload.Filters())
    private = caseload.to_csv(caseload.patient_table(frame, privacy_mode=True)).decode()
    shown = caseload.to_csv(caseload.patient_table(frame, privacy_mode=False)).decode()
    assert "Robin Realname (P30)" in shown
    assert "Robin" not in private and "R.R. ·P30" in private
    assert list(pd.read_csv(io.StringIO(private)).columns[:2]) == ["patient", "patient_id"]


def test_cli_json_equals_the_page(crafted, monkeypatch, capsys):
    db = crafted.path
    crafted.close()
    assert cli.main(["caseload", "--as-of", AS_OF.isoformat(), "--db", str(db)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert [p["patient_id"] for p in printed["patients"]][:3] == ["DIS", "DROP", "NEW"]

    monkeypatch.setenv(store.DB_ENV, str(db))
    monkeypatch.setenv("MDT_AS_OF", AS_OF.isoformat())
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("../pages/caseload.py").run()
    assert not at.exception, at.exception
    shown = {m.label: m.value for m in at.metric}
    for k in printed["kpis"]:
        if k["value"] is None:
            expected = "–"
        elif k["unit"]:
            expected = f"{k['value']:.1f}%"
        else:
            expected = f"{k['value']:,}"
        assert shown[k["label"]] == expected, k["label"]
    captions = " ".join(c.value for c in at.caption)
    assert "n = 2 patients · **low n**" in captions  # GAS T and adherence

    # Only the open tab runs: the page opens on its breakdowns, with no patient table yet.
    assert [t.label for t in at.tabs] == list(caseload.TABS)
    assert not any("open" in df.value.columns for df in at.dataframe)
    assert any("meaningful_pct" in df.value.columns for df in at.dataframe)
    # The Patients tab, named in the URL: its table, and no breakdown computed.
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["tab"] = "Patients"
    at.run()
    at.switch_page("../pages/caseload.py").run()
    assert not at.exception, at.exception
    assert not any("meaningful_pct" in df.value.columns for df in at.dataframe)
    # The drill-down link carries the patient id; a URL filter narrows the page.
    patients_table = next(df.value for df in at.dataframe if "open" in df.value.columns)
    links = dict(zip(patients_table["patient_id"], patients_table["open"], strict=True))
    assert links["P30"] == f"/patient?patient=P30&as_of={AS_OF}"
    south = AppTest.from_file(APP, default_timeout=60)
    south.query_params["site"] = "South"
    south.run()
    south.switch_page("../pages/caseload.py").run()
    assert {m.label: m.value for m in south.metric}["Active patients"] == "1"
    components.open_store.clear()
    gc.collect()

    assert cli.main(["caseload", "--as-of", AS_OF.isoformat(), "--db", str(db), "--format", "csv",
                     "--private", "--clinician", "C2"]) == 0  # fmt: skip
    kpi_block, table_block = capsys.readouterr().out.split("\n\n")
    kpis = pd.read_csv(io.StringIO(kpi_block)).set_index("kpi")
    assert kpis.loc["active_patients", "value"] == 1
    table = pd.read_csv(io.StringIO(table_block))
    assert table["patient_id"].tolist() == ["NEW"] and "name" not in table.columns


def test_cli_unknown_filter_value_is_one_sentence(crafted, capsys):
    db = crafted.path
    crafted.close()
    assert cli.main(["caseload", "--site", "Nowhere", "--as-of", AS_OF.isoformat(),
                     "--db", str(db)]) == 1  # fmt: skip
    err = capsys.readouterr().err
    assert "There is no site 'Nowhere' in the store; the sites are: North, South." in err


def test_the_pain_change_chart_keeps_each_response_class_one_block_at_any_size():
    # A 2-point drop from 8.0 is meaningful at -25%; sorted by change alone it would sit among
    # the 'not yet' bars, one invisible sliver once there are thousands of patients.
    nrs_ref = {"meaningful_change_pct": 30, "substantial_change_pct": 50, "source": "MEASURES.md"}
    rows = [("P1", -55.0, "substantial"), ("P2", -28.0, "not yet"), ("P3", -25.0, "meaningful"),
            ("P4", -35.0, "meaningful"), ("P5", 10.0, "not yet")]  # fmt: skip
    few = pd.DataFrame(rows, columns=["patient_id", "change_pct", "pain_response"])
    fig = charts.pain_change_distribution(few, nrs_ref)
    order = sorted((x, pid) for t in fig.data for x, (pid,) in zip(t.x, t.customdata, strict=True))
    assert [pid for _, pid in order] == ["P1", "P4", "P3", "P2", "P5"]
    assert fig.layout.bargap == 0.05 and all(t.marker.line.width == 0 for t in fig.data)
    many = pd.concat([few] * 100, ignore_index=True)  # 500 bars: they touch, no white gaps
    assert charts.pain_change_distribution(many, nrs_ref).layout.bargap == 0


def test_each_tab_opened_from_the_url_shows_its_own_answers_and_only_those(crafted, monkeypatch):
    """A tab runs only while open, so each is checked opened by itself: the numbers it shows
    are the store's, and the other tabs' answers are not there."""
    run = run_on(crafted)
    everyone = caseload.Filters()
    patients = caseload.patients(run, PERIOD, everyone)
    outcome = patients[patients.counts_for_outcome]
    flags = run("caseload_flags", as_of=AS_OF, patient_ids=None, **everyone.params())
    barriers = run("caseload_barriers", as_of=AS_OF, **everyone.params())
    db = crafted.path
    crafted.close()
    monkeypatch.setenv(store.DB_ENV, str(db))
    monkeypatch.setenv("MDT_AS_OF", AS_OF.isoformat())

    def figures(at) -> list[dict]:
        return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]

    try:
        at = opened("Pain change")
        (distribution,) = figures(at)
        drawn = {d[0] for t in distribution["data"] for d in t.get("customdata", [])}
        assert drawn == set(outcome["patient_id"])

        at = opened("Trends")
        assert len(figures(at)) == 2 and not at.dataframe

        at = opened("Factors")
        assert "Associations, not causes" in at.info[0].value
        titles = [f["layout"]["title"]["text"] for f in figures(at)]  # no sleep diary here
        assert titles == ["Social support", "Engagement"]
        assert any("no patient in care 8 weeks" in c.value for c in at.caption)

        at = opened("Flags and barriers")
        assert [h.value for h in at.subheader] == ["Patients by flag", "Open barriers by kind"]
        shown_flags, shown_barriers = (df.value for df in at.dataframe)
        assert len(shown_flags) == 3
        pd.testing.assert_frame_equal(shown_flags.reset_index(drop=True), flags)
        spelt = barriers.assign(kind=barriers["kind"].str.replace("_", " "))  # as people read it
        pd.testing.assert_frame_equal(shown_barriers.reset_index(drop=True), spelt)
        assert not figures(at)
    finally:
        components.open_store.clear()
        gc.collect()


def test_trends_before_anyone_has_8_weeks_in_care_say_so_instead_of_an_empty_chart(
    sample_db, monkeypatch
):
    """On 1 Jun 2026 nobody in the sample has been in care 8 weeks (the first started on
    11 Apr): the cohort trend is one kind sentence, and the caseload over time is still drawn."""
    june = dt.date(2026, 6, 1)
    st_ = store.open_store(sample_db)
    cohorts = caseload.cohorts(run_on(st_), june, caseload.Filters())
    st_.close()
    assert cohorts.outcome_n.sum() == 0 and len(cohorts) > 0
    with caseload_tab(sample_db, june, "Trends", monkeypatch) as at:
        titles = [
            json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")
        ]
        assert titles == ["Caseload over time"]
        assert any("no one who started care in the past year" in c.value for c in at.caption)


def test_open_barriers_are_counted_by_kind_spelt_out(sample_db, monkeypatch):
    """The sample's open barriers by kind (from the CSV, for patients in care on the as-of
    date), shown as people read them: 'workplace accommodation', not the import's code."""
    with open(ROOT / "sample_data" / "barriers.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    open_ids = {r["patient_id"] for r in rows if r["opened"] <= str(AS_OF)
                and not (r["closed"] and r["closed"] <= str(AS_OF))}  # fmt: skip
    with caseload_tab(sample_db, AS_OF, "Flags and barriers", monkeypatch) as at:
        shown = at.dataframe[1].value
    assert not shown["kind"].str.contains("_").any()
    assert "workplace accommodation" in set(shown["kind"])
    assert open_ids and shown["patients"].max() <= len(open_ids)


def test_the_factors_name_their_groups_in_words(sample_db, monkeypatch):
    """Each bar of the Factors tab is named as people say it: 'Workplace accommodation: in
    place', 'Work status: off work' (the accommodation read 'in_place')."""
    with caseload_tab(sample_db, SAMPLE_AS_OF, "Factors", monkeypatch) as at:
        bars = [
            label
            for c in at.get("plotly_chart")
            for trace in json.loads(c.proto.spec)["data"]
            for label in trace.get("y", [])
            if isinstance(label, str)
        ]
    assert "Workplace accommodation: in place" in bars and "Work status: off work" in bars
    assert [b for b in bars if "_" in b] == []
