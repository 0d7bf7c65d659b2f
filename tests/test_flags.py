"""Every flag rule of MEASURES.md at its boundaries, on a store crafted in the test.

Each case writes two patients: one just at the threshold (the flag fires) and one just short of
it (it does not). The query runs once for the whole store, as the meeting agenda will run it.
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

import queries
from dashboard import importer, store

AS_OF = dt.date(2026, 11, 20)


def day(n: int) -> dt.date:
    """The as-of date minus n days."""
    return AS_OF - dt.timedelta(days=n)


def at10(n: int) -> dt.datetime:
    return dt.datetime.combine(day(n), dt.time(10))


def patient(pid: str, start_days_ago: int = 100, status: str = "active") -> dict:
    return {"patients": [dict(patient_id=pid, name=f"Test {pid}", condition="Neuropathic pain",
                              start_date=day(start_days_ago), status=status,
                              primary_clinician_id="C1", review_interval_days=28)]}  # fmt: skip


def pain(pid: str, values_by_day: dict[int, float]) -> list[dict]:
    return [
        dict(patient_id=pid, ts=at10(n), nrs=v, context="now") for n, v in values_by_day.items()
    ]


def daily(first: int, last: int, value: float) -> dict[int, float]:
    """The same pain every day from `first` days ago to `last` days ago."""
    return {n: value for n in range(last, first + 1)}


def score(pid, n, instrument, total, item9=None):
    return dict(patient_id=pid, date=day(n), instrument=instrument, total=total, item9=item9)


def flare(pid, previous, recent):
    return {"pain_ratings": pain(pid, {**daily(20, 7, previous), **daily(6, 0, recent)})}


def progress(pid, start, baseline, current):
    rows = {**daily(start, start - 6, baseline), **daily(6, 0, current)}
    return {**patient(pid, start), "pain_ratings": pain(pid, rows)}


def sleep(pid, previous, recent, minutes=(420, 420)):
    return {"sleep_diary": [
        dict(patient_id=pid, date=day(n), quality=previous if n >= 14 else recent,
             total_sleep_min=minutes[0] if n >= 14 else minutes[1])
        for n in range(0, 28)
    ]}  # fmt: skip


def ladder(pid, previous_level, recent_level, areas=(None, None)):
    rows = [
        dict(session_id=f"{pid}-S1", patient_id=pid, date=day(20), modality="light_touch",
             level=previous_level, tolerated=True, allodynia_area_cm2=areas[0]),
        dict(session_id=f"{pid}-S2", patient_id=pid, date=day(3), modality="light_touch",
             level=recent_level, tolerated=True, allodynia_area_cm2=areas[1]),
    ]  # fmt: skip
    return {"desensitization": rows}


def sessions(pid, dna_days):
    return {"sessions": [dict(session_id=f"{pid}-S{n}", patient_id=pid, ts=at10(n), status="dna")
                         for n in dna_days]}  # fmt: skip


def practice(pid, prescribed, completed):
    return {"home_practice": [dict(patient_id=pid, date=day(2), activity="exercise",
                                   prescribed_min=prescribed, completed_min=completed)]}  # fmt: skip


def goals(pid, review_days_ago, attainment=0):
    return {
        "goals": [dict(goal_id=f"{pid}-G1", patient_id=pid, domain="function", description="walk",
                       set_date=day(60))],
        "goal_reviews": [dict(goal_id=f"{pid}-G1", date=day(review_days_ago), attainment=attainment)],
    }  # fmt: skip


def medication(pid, change_days_ago, ome=None, drug_class="gabapentinoid"):
    return {"medications": [dict(patient_id=pid, drug="Drug", drug_class=drug_class,
                                 start_date=day(change_days_ago), change="start",
                                 ome_mg_day=ome)]}  # fmt: skip


def barrier(pid, closed_days_ago=None):
    return {"barriers": [dict(barrier_id=f"{pid}-B1", patient_id=pid, kind="caregiver_burnout",
                              opened=day(40),
                              closed=None if closed_days_ago is None else day(closed_days_ago))]}  # fmt: skip


# (flag, what fires, what just does not): each a function of the patient id
CASES = {
    "safety item 9 = 1 vs 0": ("safety",
        lambda p: {"assessments": [score(p, 3, "PHQ9", 8, item9=1)]},
        lambda p: {"assessments": [score(p, 9, "PHQ9", 8, item9=1), score(p, 3, "PHQ9", 8, item9=0)]}),
    "flare +2.0 vs +1.9 points": ("pain_flare", lambda p: flare(p, 7.0, 9.0), lambda p: flare(p, 7.0, 8.9)),
    "flare +30% vs +28%": ("pain_flare", lambda p: flare(p, 5.0, 6.5), lambda p: flare(p, 5.0, 6.4)),
    "no progress: -28% vs -30.0% (8 weeks)": ("no_progress",
        lambda p: progress(p, 56, 5.0, 3.6), lambda p: progress(p, 56, 5.0, 3.5)),
    "no progress: 8 vs 7 weeks in care": ("no_progress",
        lambda p: progress(p, 56, 5.0, 5.0), lambda p: progress(p, 55, 5.0, 5.0)),
    "no progress: -1.9 vs -2.0 points": ("no_progress",
        lambda p: progress(p, 70, 9.0, 7.1), lambda p: progress(p, 70, 9.0, 7.0)),
    "mood: PHQ-9 15 vs 14": ("mood",
        lambda p: {"assessments": [score(p, 1, "PHQ9", 15)]},
        lambda p: {"assessments": [score(p, 1, "PHQ9", 14)]}),
    "mood: PHQ-9 up 5 vs 4": ("mood",
        lambda p: {"assessments": [score(p, 30, "PHQ9", 5), score(p, 1, "PHQ9", 10)]},
        lambda p: {"assessments": [score(p, 30, "PHQ9", 6), score(p, 1, "PHQ9", 10)]}),
    "mood: GAD-7 15 vs 14": ("mood",
        lambda p: {"assessments": [score(p, 1, "GAD7", 15)]},
        lambda p: {"assessments": [score(p, 1, "GAD7", 14)]}),
    "catastrophizing: PCS 30 vs 29": ("catastrophizing",
        lambda p: {"assessments": [score(p, 1, "PCS", 30)]},
        lambda p: {"assessments": [score(p, 1, "PCS", 29)]}),
    "self-efficacy: PSEQ 19 vs 20": ("low_self_efficacy",
        lambda p: {"assessments": [score(p, 1, "PSEQ", 19)]},
        lambda p: {"assessments": [score(p, 1, "PSEQ", 20)]}),
    "sleep quality down 2.0 vs 1.9": ("sleep_decline", lambda p: sleep(p, 7.0, 5.0), lambda p: sleep(p, 7.0, 5.1)),
    "sleep down 60 vs 59 min": ("sleep_decline",
        lambda p: sleep(p, 6, 6, (420, 360)), lambda p: sleep(p, 6, 6, (420, 361))),
    "sleep: ISI 15 vs 14": ("sleep_decline",
        lambda p: {"assessments": [score(p, 1, "ISI", 15)]},
        lambda p: {"assessments": [score(p, 1, "ISI", 14)]}),
    "desensitization: 2 vs 1 levels down": ("desensitization_setback",
        lambda p: ladder(p, 5, 3), lambda p: ladder(p, 5, 4)),
    "allodynia area +25% vs +24%": ("desensitization_setback",
        lambda p: ladder(p, 5, 5, (100.0, 125.0)), lambda p: ladder(p, 5, 5, (100.0, 124.0))),
    "missed sessions: 2 vs 1 DNA in 28 days": ("missed_sessions",
        lambda p: sessions(p, [27, 0]), lambda p: sessions(p, [28, 0])),
    "home practice 49% vs 50%": ("low_home_practice",
        lambda p: practice(p, 100, 49), lambda p: practice(p, 100, 50)),
    "stalled goals: 29 vs 28 days": ("stalled_goals", lambda p: goals(p, 29), lambda p: goals(p, 28)),
    "stalled goals: GAS T 40 vs 50": ("stalled_goals", lambda p: goals(p, 3, -1), lambda p: goals(p, 3, 0)),
    "caregiver: ZBI-12 21 vs 20": ("caregiver_strain",
        lambda p: {"assessments": [score(p, 1, "ZBI12", 21)]},
        lambda p: {"assessments": [score(p, 1, "ZBI12", 20)]}),
    "caregiver: burnout barrier open vs closed": ("caregiver_strain",
        lambda p: barrier(p), lambda p: barrier(p, closed_days_ago=2)),
    "medication change 13 vs 14 days ago": ("medication_change",
        lambda p: medication(p, 13), lambda p: medication(p, 14)),
    "opioid OME 50 vs 49": ("medication_change",
        lambda p: medication(p, 60, 50, "opioid"), lambda p: medication(p, 60, 49, "opioid")),
    "stale: last rating 14 vs 13 days ago": ("stale_data",
        lambda p: {"pain_ratings": pain(p, {14: 5.0})}, lambda p: {"pain_ratings": pain(p, {13: 5.0})}),
}  # fmt: skip


def insert(cur, rows_by_table: dict[str, list[dict]]) -> None:
    for table, rows in rows_by_table.items():
        for row in rows:
            cols = list(row)
            cur.execute(
                f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
                [row[c] for c in cols],
            )
    if set(rows_by_table) & set(importer.DERIVED_FROM):
        # Rows written here bypass the importer, which keeps the per-day tables in step.
        store.refresh_derived(cur, None)


@pytest.fixture(scope="module")
def crafted(tmp_path_factory):
    """A store with two patients per case: '<n>-fires' and '<n>-quiet'."""
    st = store.open_store(tmp_path_factory.mktemp("flags") / "flags.duckdb")
    with st.write() as cur:
        insert(
            cur, {"clinicians": [dict(clinician_id="C1", name="Test Clinician", discipline="PT")]}
        )
        for n, (_flag, fires, quiet) in enumerate(CASES.values()):
            for pid, make in ((f"{n:02d}-fires", fires), (f"{n:02d}-quiet", quiet)):
                rows = make(pid)
                if "patients" not in rows:
                    rows = {**patient(pid), **rows}
                if "pain_ratings" not in rows:  # recent data, so only the stale case is stale
                    rows["pain_ratings"] = pain(pid, {1: 5.0})
                insert(cur, rows)
    cur = st.cursor()
    flags = queries.run(cur, "patient_flags", as_of=AS_OF, patient_ids=None)
    yield flags
    st.close()


@pytest.mark.parametrize("case", list(CASES))
def test_flag_fires_at_the_threshold_and_not_just_below(crafted, case):
    n = list(CASES).index(case)
    flag = CASES[case][0]
    fired = set(crafted[crafted["flag"] == flag]["patient_id"])
    assert f"{n:02d}-fires" in fired
    assert f"{n:02d}-quiet" not in fired


def test_each_flag_names_its_rule_level_and_values(crafted):
    flare = crafted[(crafted["patient_id"] == "01-fires") & (crafted["flag"] == "pain_flare")].iloc[
        0
    ]
    assert flare.level == "review"
    assert flare.rule.startswith("7-day mean NRS up >= 2 points")
    assert json.loads(flare.evidence) == {
        "recent_mean": 9.0, "previous_mean": 7.0, "rise_points": 2.0, "rise_pct": 28.6
    }  # fmt: skip
    assert flare.reason == "7-day mean 9.0 vs 7.0 over the previous 14 days (+2.0 points, +29%)"
    safety = crafted[crafted["flag"] == "safety"].iloc[0]
    assert (safety.level, json.loads(safety.evidence)["item9"]) == ("urgent", 1)
    dna = crafted[crafted["flag"] == "missed_sessions"].iloc[0]
    assert json.loads(dna.evidence)["dna"] == 2


def test_thresholds_come_from_the_reference_table(tmp_path):
    """A team that tunes a rule in flag_rules changes what fires, with no code change."""
    st = store.open_store(tmp_path / "tuned.duckdb")
    with st.write() as cur:
        insert(cur, {**patient("P1"), "assessments": [score("P1", 1, "PCS", 26)],
                     "pain_ratings": pain("P1", {1: 5.0})})  # fmt: skip
    cur = st.cursor()
    assert "catastrophizing" not in set(
        queries.run(cur, "patient_flags", as_of=AS_OF, patient_ids=["P1"])["flag"]
    )
    with st.write() as w:
        w.execute(
            "UPDATE flag_rules SET params = '{\"pcs_at_least\": 25}' WHERE code = 'catastrophizing'"
        )
    fired = queries.run(cur, "patient_flags", as_of=AS_OF, patient_ids=["P1"])
    assert fired[fired["flag"] == "catastrophizing"]["reason"].tolist() == [
        f"PCS 26 on {day(1):%d %b %Y} (>= 25)"
    ]
    st.close()


def test_one_patient_or_all_give_the_same_flags(sample_db):
    st = store.open_store(sample_db)
    cur = st.cursor()
    everyone = queries.run(cur, "patient_flags", as_of=dt.date(2026, 11, 20), patient_ids=None)
    one = queries.run(cur, "patient_flags", as_of=dt.date(2026, 11, 20), patient_ids=["P0006"])
    st.close()
    assert one["flag"].tolist() == everyone[everyone["patient_id"] == "P0006"]["flag"].tolist()
    assert "safety" in one["flag"].tolist()
    # Discharged and not-yet-started patients are not flagged.
    assert "P0001" not in set(everyone["patient_id"])  # discharged 2026-11-07


def test_a_flag_with_several_parts_tells_them_in_the_same_order_every_time(tmp_path):
    # Sleep: quality, then total sleep, then ISI; mood: PHQ-9, then GAD-7; stalled goals: the
    # missing review, then the GAS T-score at the latest review on or before the as-of date.
    st = store.open_store(tmp_path / "parts.duckdb")
    with st.write() as cur:
        insert(cur, {"clinicians": [dict(clinician_id="C1", name="Test", discipline="PT")]})
        review = goals("P1", review_days_ago=40, attainment=-2)
        review["goal_reviews"].append(dict(goal_id="P1-G1", date=day(-3), attainment=1))  # later
        insert(cur, {**patient("P1"), **sleep("P1", 7.0, 5.0, minutes=(460, 400)),
                     "assessments": [score("P1", 2, "ISI", 16), score("P1", 2, "PHQ9", 16),
                                     score("P1", 2, "GAD7", 15)],
                     "pain_ratings": pain("P1", {1: 5.0}), **review})  # fmt: skip
    cur = st.cursor()
    runs = [queries.run(cur, "patient_flags", as_of=AS_OF, patient_ids=None) for _ in range(5)]
    st.close()
    for fired in runs[1:]:
        pd.testing.assert_frame_equal(fired, runs[0])
    flag = runs[0].set_index("flag")
    assert flag.loc["sleep_decline", "reason"] == (
        "14-day mean sleep quality 5.0 vs 7.0 the 14 days before; "
        "14-day mean total sleep 400 min vs 460 min the 14 days before; "
        f"ISI 16 on {day(2):%d %b %Y} (>= 15)"
    )
    assert [list(e) for e in json.loads(flag.loc["sleep_decline", "evidence"])] == [
        ["recent_quality", "previous_quality"], ["recent_sleep_min", "previous_sleep_min"],
        ["ISI", "isi_date"],
    ]  # fmt: skip
    assert list(json.loads(flag.loc["mood", "evidence"])) == ["PHQ9", "GAD7"]
    assert flag.loc["mood", "reason"].startswith(f"PHQ-9 16 on {day(2):%d %b %Y}; GAD-7 15")
    # The review 3 days after the as-of date does not count yet: GAS at the review of day 40.
    assert flag.loc["stalled_goals", "reason"] == (
        f"no goal review and no milestone achieved for 40 days (since {day(40):%d %b %Y}); "
        f"GAS T-score 30.0 at the review of {day(40):%d %b %Y} (below 50)"
    )


def test_a_questionnaire_change_of_exactly_the_meaningful_change_is_meaningful(tmp_path):
    """BPI interference (a mean of 7 items, stored as a double) from 4.1 to 3.1 is down exactly
    1 point, MEASURES.md's meaningful change: as doubles 3.1 - 4.1 is -0.9999999999999996, which
    missed it. From 4.1 to 3.2 it is not meaningful; from 6.2 to 4.5 the change shown is -1.7,
    not -1.7000000000000002."""
    st = store.open_store(tmp_path / "changes.duckdb")
    with st.write() as cur:
        insert(cur, {"clinicians": [dict(clinician_id="C1", name="Test", discipline="PT")]})
        for pid, first, latest in (("EXACT", 4.1, 3.1), ("SHORT", 4.1, 3.2), ("SHOWN", 6.2, 4.5)):
            insert(cur, patient(pid))
            insert(cur, {"assessments": [score(pid, 60, "BPI_INT", first),
                                         score(pid, 3, "BPI_INT", latest)]})  # fmt: skip
    cur = st.cursor()

    def change(pid: str) -> pd.Series:
        rows = queries.run(cur, "patient_instrument_changes", patient_id=pid, as_of=AS_OF)
        return rows.set_index("instrument").loc["BPI_INT"]

    assert change("EXACT").change == -1.0
    assert change("EXACT").assessment == "meaningful improvement"
    assert change("SHORT").change == pytest.approx(-0.9)
    assert change("SHORT").assessment == "no meaningful change"
    assert change("SHOWN").change == -1.7
    assert change("SHOWN").assessment == "meaningful improvement"
    st.close()


def test_the_questionnaire_table_reads_each_assessment_with_its_threshold_and_dates(tmp_path):
    """The page's and the report's questionnaire table on a laptop: the assessment carries the
    threshold it was judged by (MEASURES.md's meaningful change: PHQ-9 5, PSEQ 11, BPI 1; PCS
    none), the two dates read as one cell with the year once when they share it, and a
    questionnaire scored once has no change (it read +0, as if nothing had changed)."""
    st = store.open_store(tmp_path / "texts.duckdb")
    scores = [score("A", 340, "PHQ9", 16), score("A", 10, "PHQ9", 11),  # -5: meaningful
              score("A", 60, "PSEQ", 30), score("A", 10, "PSEQ", 19),  # -11: meaningful worse
              score("A", 60, "BPI_INT", 5.0), score("A", 10, "BPI_INT", 4.5),  # -0.5: not
              score("A", 60, "PCS", 20), score("A", 10, "PCS", 35),  # no threshold
              score("A", 40, "DN4", 6)]  # fmt: skip
    with st.write() as cur:
        insert(cur, {"clinicians": [dict(clinician_id="C1", name="Test", discipline="PT")]})
        insert(cur, patient("A", start_days_ago=360))
        insert(cur, {"assessments": scores})
    rows = queries.run(st.cursor(), "patient_instrument_changes", patient_id="A", as_of=AS_OF)
    shown = {r.instrument: (None if pd.isna(r.change) else r.change, r.assessment_text, r.scored)
             for r in rows.itertuples()}  # fmt: skip
    assert shown == {
        "PHQ9": (-5, "meaningful improvement (≥ 5)", "15 Dec 2025 → 10 Nov 2026"),
        "PSEQ": (-11, "meaningful worsening (≥ 11)", "21 Sep → 10 Nov 2026"),
        "BPI_INT": (-0.5, "no meaningful change (< 1)", "21 Sep → 10 Nov 2026"),
        "PCS": (15, "no reference threshold", "21 Sep → 10 Nov 2026"),
        "DN4": (None, "one score", "11 Oct 2026"),
    }
    assert [r.assessment for r in rows.itertuples()] == [
        "meaningful worsening", "no reference threshold", "meaningful improvement",
        "no meaningful change", "one score",
    ]  # fmt: skip
    st.close()


def test_a_latest_score_is_named_by_the_reference_band_it_falls_in(tmp_path):
    """The questionnaire table's "latest band" (page and report) and the social-support line's
    MSPSS and ZBI-12 bands are the reference bands of MEASURES.md, both ends included: PHQ-9 9 is
    mild and 10 moderate; PCS 30 is clinically relevant and 29 in no band; PSEQ 19 is severe
    (low) and 20 in none; PGIC 2 is a responder; MSPSS 2.9 low, 3 moderate, 5.1 high; ZBI-12 20
    in no band and 21 high burden."""
    st = store.open_store(tmp_path / "bands.duckdb")
    latest = {
        "A": {"PHQ9": 9, "PCS": 30, "PSEQ": 19, "PGIC": 2},
        "B": {"PHQ9": 10, "PCS": 29, "PSEQ": 20, "PGIC": 3},
    }
    support = {"A": (2.9, 20), "B": (3.0, 21), "C": (5.1, None)}
    with st.write() as cur:
        insert(cur, {"clinicians": [dict(clinician_id="C1", name="Test", discipline="PT")]})
        for pid in ("A", "B", "C"):
            insert(cur, patient(pid))
        for pid, totals in latest.items():
            insert(cur, {"assessments": [score(pid, 5, code, total) for code, total in totals.items()]})  # fmt: skip
        for pid, (mspss, zbi) in support.items():
            insert(cur, {"social_support": [dict(patient_id=pid, date=day(4), mspss=mspss,
                                                 caregiver_burden_zbi12=zbi)]})  # fmt: skip
    cur = st.cursor()

    def bands(pid: str) -> dict:
        rows = queries.run(cur, "patient_instrument_changes", patient_id=pid, as_of=AS_OF)
        return {r.instrument: r.latest_band if isinstance(r.latest_band, str) else None
                for r in rows.itertuples()}  # fmt: skip

    assert bands("A") == {"PHQ9": "mild", "PCS": "clinically relevant",
                          "PSEQ": "severe (low self-efficacy)", "PGIC": "responder"}  # fmt: skip
    assert bands("B") == {"PHQ9": "moderate", "PCS": None, "PSEQ": None, "PGIC": None}

    def social(pid: str) -> tuple:
        row = queries.run(cur, "patient_social_support", patient_id=pid, start=day(30), as_of=AS_OF)
        return tuple(None if pd.isna(v) else v for v in row[["mspss_band", "zbi12_band"]].iloc[-1])

    assert [social(pid) for pid in ("A", "B", "C")] == [
        ("low", None), ("moderate", "high burden"), ("high", None)
    ]  # fmt: skip
    brief = queries.run(cur, "patient_brief", patient_id="B", as_of=AS_OF).iloc[0]
    assert brief.mspss_band == "moderate"  # the meeting's presenter view reads the same bands
    st.close()
