"""The patient progress review through AppTest, on the sample store: numbers checked by hand."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import defaultdict

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import queries
from dashboard import charts as charts_module
from dashboard import measures, store
from tests.conftest import AS_OF, ROOT, SAMPLE_DATA, typed_array
from tests.test_app import headings, metrics

APP = str(ROOT / "dashboard" / "app.py")
PATIENT = "P0006"  # Finley Example: PHQ-9 item 9 > 0 in the sample data


def hand_summary(patient_id: str) -> dict:
    """Baseline and current NRS computed here from the CSV, as MEASURES.md defines them."""
    with open(SAMPLE_DATA / "patients.csv", encoding="utf-8") as fh:
        start = dt.date.fromisoformat(
            next(r for r in csv.DictReader(fh) if r["patient_id"] == patient_id)["start_date"]
        )
    by_day = defaultdict(list)
    with open(SAMPLE_DATA / "pain_ratings.csv", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if r["patient_id"] == patient_id and r["context"] in ("now", "avg_24h"):
                by_day[dt.date.fromisoformat(r["ts"][:10])].append(float(r["nrs"]))
    daily = {d: sum(v) / len(v) for d, v in by_day.items() if d <= AS_OF}

    def mean(first, last):
        values = [v for d, v in daily.items() if first <= d <= last]
        return sum(values) / len(values)

    baseline = round(mean(start, start + dt.timedelta(days=6)), 1)
    current = round(mean(AS_OF - dt.timedelta(days=6), AS_OF), 1)
    change = round(current - baseline, 1)
    pct = round(100 * (current - baseline) / baseline, 1)
    return {"baseline": baseline, "current": current, "change": change, "pct": pct, "start": start}


@pytest.fixture
def page(sample_db, monkeypatch):
    monkeypatch.setenv(store.DB_ENV, str(sample_db))
    monkeypatch.setenv("MDT_AS_OF", AS_OF.isoformat())

    def open_patient(patient_id: str | None = PATIENT, privacy: bool = False, **params) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        if patient_id:
            at.query_params["patient"] = patient_id
        for k, v in params.items():
            at.query_params[k] = v
        at.run()
        if privacy:
            at.sidebar.toggle(key="privacy_mode").set_value(True).run()
        at.switch_page("../pages/patient.py").run()
        assert not at.exception, at.exception
        return at

    return open_patient


def charts(at) -> dict[str, dict]:
    """Each Plotly chart on the page as its figure JSON, by title."""
    out = {}
    for el in at.get("plotly_chart"):
        fig = json.loads(el.proto.spec)
        out[fig["layout"]["title"]["text"]] = fig
    return out


def test_deep_link_selects_the_patient_and_the_summary_matches_a_hand_computation(page):
    at = page(PATIENT)
    assert at.selectbox(key="patient_pick").value == PATIENT
    assert at.header[0].value == "Finley Example (P0006)"
    hand = hand_summary(PATIENT)
    shown = metrics(at)
    assert shown["Baseline NRS"] == f"{hand['baseline']:.1f}"
    assert shown["Current NRS"] == f"{hand['current']:.1f}"
    assert shown["Change from baseline"] == f"{hand['pct']:+.1f}%"
    expected = "substantial" if hand["pct"] <= -50 else (
        "meaningful" if hand["change"] <= -2 or hand["pct"] <= -30 else "not yet")  # fmt: skip
    assert shown["Pain response"] == expected
    weeks = (AS_OF - hand["start"]).days / 7
    assert shown["Weeks in care"] == f"{weeks:.1f}"


def test_a_drop_out_is_in_care_before_their_last_contact_and_their_care_ends_there(
    page, sample_db, monkeypatch
):
    """P0044 dropped out with no discharge date; their last contact was 22 Jul 2026. On the
    as-of date their care has ended there; on 1 Jul they were in care, and flagged."""
    at = page("P0044")
    text = " ".join(m.value for m in at.markdown)
    assert "status **dropped out** · in care 29 May 2026 – 22 Jul 2026" in text
    assert any("Not in care on the as-of date" in c.value for c in at.caption)
    shown = metrics(at)  # weeks in care to the end of care (54 days), and no review due
    assert (shown["Weeks in care"], shown["Next review due"]) == ("7.7", "none")
    # no rating in the last 7 days: short enough for its quarter of the row, the reason on hover
    assert (shown["Current NRS"], shown["Pain response"]) == ("none", "n/a")
    response = next(m for m in at.metric if m.label == "Pain response")
    assert "n/a: no current rating" in response.help
    monkeypatch.setenv("MDT_AS_OF", "2026-07-01")
    at = page("P0044")
    text = " ".join(m.value for m in at.markdown)
    assert "status **dropped out** · in care since 29 May 2026" in text
    assert any("**Sleep decline** (review): ISI 15 on 26 Jun 2026" in w.value for w in at.warning)
    assert not any("Not in care" in c.value for c in at.caption)


def test_flags_are_shown_with_their_reasons_urgent_first(page):
    with open(SAMPLE_DATA / "assessments.csv", encoding="utf-8") as fh:
        phq9 = [r for r in csv.DictReader(fh) if r["patient_id"] == PATIENT and r["item9"]]
    latest = max(phq9, key=lambda r: r["date"])
    when = dt.date.fromisoformat(latest["date"])
    at = page(PATIENT)
    assert at.error[0].value.startswith(
        f"**Safety** (urgent): PHQ-9 item 9 = {latest['item9']} on {when:%d %b %Y} (above 0)"
    )
    assert any("**Catastrophizing** (review): PCS 30" in w.value for w in at.warning)


def test_pain_chart_carries_its_traces_baseline_and_meaningful_band(page):
    at = page(PATIENT)
    figs = charts(at)
    pain = figs["Pain intensity"]
    names = [t.get("name", "") for t in pain["data"]]
    hand = hand_summary(PATIENT)
    threshold = round(max(hand["baseline"] - 2, hand["baseline"] * 0.7), 1)
    assert "Daily pain" in names and "7-day mean" in names
    assert f"Baseline {hand['baseline']:.1f}" in names
    band = next(t for t in pain["data"] if t.get("name", "").startswith("Meaningful reduction"))
    assert band["fill"] == "toself" and max(band["y"]) == threshold
    assert "Farrar" in band["hovertext"]
    # Sessions, medication changes and events sit on their own lanes below.
    lanes = {t["y"][0] for t in pain["data"] if t.get("yaxis") == "y2"}
    assert lanes == {"Sessions", "Medication", "Events"}
    # Every time-series chart shares the period's x range.
    start = dt.datetime.combine(hand["start"], dt.time()) - dt.timedelta(hours=12)
    for title in (
        "Pain intensity",
        "Sleep and next-day pain",
        "Attendance",
        "Home practice by week",
    ):
        assert figs[title]["layout"]["xaxis"]["range"][0].startswith(start.isoformat()[:16])


def test_attendance_names_each_status_in_words_and_counts_the_csvs_sessions(page):
    """The legend read 'dna' (the clinic's code, lower-case: the molecule) and 'cancelled
    clinic'; each status is now named as said aloud, and its weekly bars add up to the CSV's
    sessions in the period."""
    patient = "P0040"  # all four statuses in the sample data
    start = hand_summary(patient)["start"]
    counted = defaultdict(int)
    with open(SAMPLE_DATA / "sessions.csv", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if r["patient_id"] == patient and start <= dt.date.fromisoformat(r["ts"][:10]) <= AS_OF:
                counted[r["status"]] += 1
    assert len(counted) == 4
    figure = charts(page(patient))["Attendance"]
    shown = {t["name"]: int(typed_array(t["y"]).sum()) for t in figure["data"]}
    named = {"attended": "attended", "dna": "did not attend",
             "cancelled_patient": "cancelled by patient", "cancelled_clinic": "cancelled by clinic"}  # fmt: skip
    assert shown == {named[status]: n for status, n in counted.items()}
    dna = next(t for t in figure["data"] if t["name"] == "did not attend")
    assert dna["hovertemplate"] == "Week of %{x|%d %b}: %{y} did not attend<extra></extra>"


def test_home_practice_names_the_flag_rules_line_in_the_legend_not_over_the_bars(page):
    """The rule's 50% (MEASURES.md's low home practice) was labelled on the plot in a white box
    that hid the top of a bar just under the line: it is named in the legend now, and the line
    runs the whole period at the rule's number."""
    below = next(r for r in measures.FLAG_RULES if r.code == "low_home_practice")
    pct = below.params["adherence_below_pct"]
    figure = charts(page("P0046"))["Home practice by week"]  # weeks at 24-43%, under the line
    assert figure["layout"].get("annotations", []) == []
    line = next(t for t in figure["data"] if "flag rule" in t.get("name", ""))
    assert line["name"] == f"low home practice: below {pct}% (flag rule)"
    assert list(line["y"]) == [pct, pct]
    assert [x[:13] for x in line["x"]] == [x[:13] for x in figure["layout"]["xaxis"]["range"]]
    weeks = typed_array(next(t for t in figure["data"] if t["name"] == "Adherence")["y"])
    assert (weeks < pct).any()


def test_a_period_from_the_link_sets_every_charts_range_and_keeps_the_baseline(page):
    """?from= starts every chart there; the baseline is still the first week of care. A start
    after the as-of date is named and the 12 weeks to it shown; one that is not a date is the
    start of care."""
    hand = hand_summary(PATIENT)
    at = page(PATIENT, **{"from": "2026-10-15"})
    assert f"Every chart below shows the period 15 Oct 2026 to {AS_OF:%d %b %Y}." in [
        c.value for c in at.caption
    ]
    assert metrics(at)["Baseline NRS"] == f"{hand['baseline']:.1f}"
    figs = charts(at)
    for title in ("Pain intensity", "Sleep and next-day pain", "Attendance"):
        assert figs[title]["layout"]["xaxis"]["range"][0].startswith("2026-10-14T12:00")
    daily = next(t for t in figs["Pain intensity"]["data"] if t.get("name") == "Daily pain")
    assert min(daily["x"])[:10] >= "2026-10-15"

    at = page(PATIENT, **{"from": "2026-12-25"})
    twelve = AS_OF - dt.timedelta(weeks=12)
    assert (
        f"The period would start on 25 Dec 2026, after the as-of date {AS_OF:%d %b %Y}: "
        "showing the 12 weeks to the as-of date instead."
    ) in [w.value for w in at.warning]
    assert f"Every chart below shows the period {twelve:%d %b %Y} to {AS_OF:%d %b %Y}." in [
        c.value for c in at.caption
    ]

    at = page(PATIENT, **{"from": "tomorrow'; DROP TABLE patients--"})
    assert f"Every chart below shows the period {hand['start']:%d %b %Y} to {AS_OF:%d %b %Y}." in [
        c.value for c in at.caption
    ]


def test_questionnaires_shade_the_reference_bands_and_mark_item_9(page):
    at = page(PATIENT)
    q = charts(at)["Questionnaires"]
    assert q["layout"]["title"]["subtitle"]["text"] == (
        "Shaded: reference bands. Dashed green: meaningful change from the first score."
    )
    bands = [t["name"] for t in q["data"] if t.get("fill") == "toself"]
    assert {"PHQ9 band moderately severe", "PHQ9 band severe", "ISI band moderate"} <= set(bands)
    assert any(t.get("name") == "PHQ-9 item 9 > 0" for t in q["data"])
    # A one-band instrument is shaded as a warning at the scale's worse end (PCS >= 30), neutral
    # where the reference gives no direction (PGIC's responders)
    fill = {t["name"]: t["fillcolor"] for t in q["data"] if t.get("fill") == "toself"}
    assert fill["PCS band clinically relevant"] == charts_module.BAND_FILLS[2]
    assert fill["PGIC band responder"] == charts_module.BAND_NEUTRAL


def test_the_questionnaire_table_names_the_band_of_each_latest_score(page):
    """Each latest score (from the CSV) in the band MEASURES.md gives it, both ends included."""
    latest = {}
    with open(SAMPLE_DATA / "assessments.csv", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if r["patient_id"] == PATIENT and r["date"] <= AS_OF.isoformat():
                if r["instrument"] not in latest or r["date"] >= latest[r["instrument"]][0]:
                    latest[r["instrument"]] = (r["date"], float(r["total"]))
    reference = {i.code: i.bands for i in measures.INSTRUMENTS}

    def band(code: str, total: float) -> str | None:
        return next((label for lo, hi, label in reference[code]
                     if (lo is None or total >= lo) and (hi is None or total <= hi)), None)  # fmt: skip

    expected = {code: band(code, total) for code, (_, total) in latest.items()}
    assert expected["PCS"] == "clinically relevant" and expected["PHQ9"] == "mild"
    at = page(PATIENT)
    table = next(d.value for d in at.dataframe if "latest_band" in d.value.columns)
    shown = {r.instrument: r.latest_band if isinstance(r.latest_band, str) else None
             for r in table.itertuples()}  # fmt: skip
    assert shown == expected
    text = " ".join(m.value for m in at.markdown)
    assert "work **off work**, workplace accommodation **in place**" in text
    assert "MSPSS 4 (moderate), caregiver burden ZBI-12 6." in text


def test_the_questionnaire_table_reads_each_change_against_its_threshold(page):
    """On a laptop the table's last column (the threshold) was out of view: each assessment now
    carries the meaningful change it was judged by (MEASURES.md), the dates read as one cell,
    and the CSV's scores give every cell."""
    scores = defaultdict(list)
    with open(SAMPLE_DATA / "assessments.csv", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if r["patient_id"] == PATIENT and r["date"] <= AS_OF.isoformat():
                scores[r["instrument"]].append(
                    (dt.date.fromisoformat(r["date"]), float(r["total"]))
                )
    reference = {i.code: i for i in measures.INSTRUMENTS}

    def expected(code: str) -> tuple:
        ordered = sorted(scores[code])
        (first_on, first), (latest_on, latest) = ordered[0], ordered[-1]
        if len(ordered) == 1:
            return None, "one score", f"{first_on:%-d %b %Y}"
        change, ref = round(latest - first, 6), reference[code]
        if ref.meaningful_change is None:
            said = "no reference threshold"
        elif abs(change) < ref.meaningful_change:
            said = f"no meaningful change (< {ref.meaningful_change:g})"
        else:
            better = (change < 0) == (ref.direction == measures.HIGHER_WORSE)
            said = f"meaningful {'improvement' if better else 'worsening'} (≥ {ref.meaningful_change:g})"
        on = f"{first_on:%-d %b}" if first_on.year == latest_on.year else f"{first_on:%-d %b %Y}"
        return change, said, f"{on} → {latest_on:%-d %b %Y}"

    at = page(PATIENT)
    table = next(t for t in at.dataframe if "latest_band" in t.value.columns)
    assert headings(table) == ["instrument", "first", "latest", "latest band", "change",
                               "assessment", "scored, first → latest"]  # fmt: skip
    shown = {r.instrument: (None if pd.isna(r.change) else round(r.change, 6), r.assessment_text,
                            r.scored) for r in table.value.itertuples()}  # fmt: skip
    assert shown == {code: expected(code) for code in scores}
    assert shown["PHQ9"][1] == "no meaningful change (< 5)"  # 13 -> 9 by the CSV
    assert [code for code, (change, *_) in shown.items() if change is None] == ["DN4"]


def test_privacy_mode_removes_the_name_and_the_item_9_value_everywhere(page):
    at = page(PATIENT, privacy=True)
    assert at.header[0].value == "F.E. ·0006"
    assert at.error[0].value == "**Safety** (urgent): safety flag: see record"
    everything = " ".join(
        [str(e.value) for kind in ("markdown", "caption", "error", "warning", "info", "header",
                                   "metric", "selectbox") for e in getattr(at, kind)]
        + [el.proto.spec for el in at.get("plotly_chart")]
        + [df.value.to_csv() for df in at.dataframe]
    )  # fmt: skip
    assert "Finley" not in everything
    assert "item 9 =" not in everything and "item9" not in everything
    assert "born" not in everything


def test_a_patient_without_data_gets_one_line_per_domain(page, sample_db):
    st_ = store.open_store(sample_db)
    with st_.write() as cur:
        cur.execute(
            "INSERT INTO patients (patient_id, name, condition, start_date, status) "
            "VALUES ('P9000', 'New Example', 'Post-herpetic neuralgia', DATE '2026-11-01', 'active')"
        )
    st_.close()
    at = page("P9000")
    assert not at.get("plotly_chart")
    assert (  # in care, but in nobody's caseload
        "No primary clinician: Previous and Next step through a clinician's patients in care."
    ) in [c.value for c in at.caption]
    lines = {c.value for c in at.caption}
    for text in (
        "No pain ratings in this period.",
        "No desensitization sessions in this period.",
        "No graded functional tasks in this period.",
        "No grip or range-of-motion measurements in this period.",
        "No questionnaires scored in this period.",
        "No sleep diary entries in this period.",
        "No social-support records in this period.",
        "No home practice logged in this period.",
        "No goal reviews yet.",
        "No sessions in this period.",
    ):
        assert text in lines, text
    assert metrics(at)["Baseline NRS"] == "none"


def test_the_header_names_birth_year_and_sex_in_words_and_leaves_out_what_is_missing(
    page, sample_db
):
    at = page(PATIENT)  # Finley Example: born 1960, F, hands and feet L, Riverside Clinic
    line = next(m.value for m in at.markdown if m.value.startswith("Chemotherapy"))
    assert line == (
        "Chemotherapy-induced peripheral neuropathy (G62.0) · hands and feet L · "
        "Riverside Clinic · born 1960 · female"
    )
    st_ = store.open_store(sample_db)
    with st_.write() as cur:  # a birth year without sex, and a sex without birth year
        cur.execute(
            "INSERT INTO patients (patient_id, name, birth_year, sex, condition, start_date, "
            "status) VALUES ('P9001', 'Year Example', 1980, NULL, 'Phantom limb pain', "
            "DATE '2026-11-01', 'active'), ('P9002', 'Sex Example', NULL, 'X', "
            "'Phantom limb pain', DATE '2026-11-01', 'active')"
        )
    st_.close()
    lines = {
        pid: next(m.value for m in page(pid).markdown if m.value.startswith("Phantom"))
        for pid in ("P9001", "P9002")
    }
    assert lines == {"P9001": "Phantom limb pain · born 1980", "P9002": "Phantom limb pain · sex X"}
    private = page("P9001", privacy=True)
    assert next(m.value for m in private.markdown if m.value.startswith("Phantom")) == (
        "Phantom limb pain"
    )


def test_milestones_are_keyed_by_status_and_named_whole_on_hover(page):
    at = page("P0009")  # both overdue on 20 Nov: one status, whose key plotly would leave out
    fig = charts(at)["Milestones"]
    assert [(t["name"], t["showlegend"]) for t in fig["data"]] == [("overdue", True)]
    [trace] = fig["data"]
    assert list(trace["y"]) == [
        "P0009-G1-M1 · Synthetic milestone towards the function…",
        "P0009-G2-M1 · Synthetic milestone towards the desensit…",
    ]
    assert [list(c) for c in trace["customdata"]] == [
        ["P0009-G1-M1", "Synthetic milestone towards the function goal"],
        ["P0009-G2-M1", "Synthetic milestone towards the desensitization goal"],
    ]
    assert trace["hovertemplate"].startswith("%{customdata[0]}: %{customdata[1]}<br>overdue ")
    statuses = [t["name"] for t in charts(page("P0006"))["Milestones"]["data"]]
    assert statuses == [
        "achieved",
        "due",
        "overdue",
    ]  # G1 achieved, G3 due 27 Nov, G2 overdue (30 Oct)


def test_sleep_quality_breaks_over_nights_not_logged_and_each_measure_says_which_way_is_better(
    page,
):
    with open(SAMPLE_DATA / "sleep_diary.csv", encoding="utf-8") as fh:
        diary = {r["date"]: float(r["quality"]) for r in csv.DictReader(fh)
                 if r["patient_id"] == PATIENT and r["date"] <= AS_OF.isoformat()}  # fmt: skip
    fig = charts(page(PATIENT))["Sleep and next-day pain"]
    by_name = {t["name"]: t for t in fig["data"]}
    assert list(by_name) == ["Total sleep", "Sleep quality (0-10) ↑", "Next-day pain (NRS) ↓"]
    quality = by_name["Sleep quality (0-10) ↑"]
    days = [d[:10] for d in quality["x"]]
    first = dt.date.fromisoformat(min(diary))
    assert days == [  # every day from the first night logged to the last
        (first + dt.timedelta(days=i)).isoformat()
        for i in range((dt.date.fromisoformat(max(diary)) - first).days + 1)
    ]
    values = quality["y"]  # plotly's typed array, or a list
    values = typed_array(values).tolist() if isinstance(values, dict) else list(values)
    shown = {d: v for d, v in zip(days, values, strict=True) if v == v}  # NaN: a gap in the line
    assert shown == diary  # a value on each night logged, and nothing on the nights between
    assert len(days) > len(diary)  # the sample has nights not logged


def test_a_discharged_patients_page_offers_the_day_care_ended(page):
    """P0001's care ended on 7 Nov, before the as-of date: 'current' counts the 7 days to the
    as-of date, after care, and has no rating. One button shows the page as of the end of care,
    with the current NRS of the 7 days to it (computed here from the CSV)."""
    at = page("P0001")
    assert metrics(at)["Current NRS"] == "none"
    assert [b.disabled for b in at.button if b.label in ("Previous", "Next")] == [True, True]
    assert (
        "Not in care on 20 Nov 2026: Previous and Next step through a clinician's patients in care."
    ) in [c.value for c in at.caption]
    assert (
        "Care ended on 07 Nov 2026, so the current NRS counts the 7 days to 20 Nov 2026, after "
        "care. The pain at the end of care: the page as of 07 Nov 2026."
    ) in [c.value for c in at.caption]
    [button] = [b for b in at.button if b.label == "As of 07 Nov 2026"]
    button.click().run()
    assert not at.exception
    assert at.sidebar.date_input(key="as_of").value == dt.date(2026, 11, 7)
    with open(SAMPLE_DATA / "pain_ratings.csv", encoding="utf-8") as fh:
        by_day = defaultdict(list)
        for r in csv.DictReader(fh):
            if r["patient_id"] == "P0001" and r["context"] in ("now", "avg_24h"):
                by_day[r["ts"][:10]].append(float(r["nrs"]))
    last_week = [sum(v) / len(v) for d, v in by_day.items() if "2026-11-01" <= d <= "2026-11-07"]
    assert metrics(at)["Current NRS"] == f"{sum(last_week) / len(last_week):.1f}"
    assert not [b for b in at.button if b.label.startswith("As of ")]  # the as-of date is that day


def test_previous_and_next_step_through_the_clinicians_caseload(page):
    at = page(PATIENT)
    caption = next(c.value for c in at.caption if "caseload in care" in c.value)
    position = int(caption.split(" of ")[0])
    [b for b in at.button if b.label == "Next"][0].click().run()
    assert not at.exception
    moved = at.selectbox(key="patient_pick").value
    caption = next(c.value for c in at.caption if "caseload in care" in c.value)
    assert moved != PATIENT and caption.startswith(f"{position + 1} of ")
    [b for b in at.button if b.label == "Previous"][0].click().run()
    assert at.selectbox(key="patient_pick").value == PATIENT


def test_an_unknown_patient_in_the_link_is_named(page):
    at = page("P9999")
    assert any('There is no patient "P9999"' in w.value for w in at.warning)
    # In privacy mode the link's value is not repeated: it can hold a name.
    private = page("Noel Example", privacy=True)
    assert [w.value for w in private.warning] == [
        "There is no patient with the id in this link in the store; showing the first patient."
    ]


@pytest.fixture
def network(monkeypatch):
    """The pickers as on a network's store: the sample's 48 patients are more than a picker lists
    whole, so it searches, showing the first five matches."""
    from dashboard import components

    monkeypatch.setattr(components, "LIST_ALL_UP_TO", 10)
    monkeypatch.setattr(components, "SEARCH_SHOWS", 5)


def options(at, key="patient_pick") -> list[str]:
    return list(at.selectbox(key=key).options)


def test_on_a_network_the_picker_searches_and_one_match_opens_that_patient(page, network):
    at = page("P0014")
    assert at.selectbox(key="patient_pick").value == "P0014"
    # before a search: the patient on screen, then the first five (in care first, by id; P0001
    # was discharged)
    assert [o[-6:-1] for o in options(at)] == ["P0014", "P0002", "P0003", "P0004", "P0005", "P0006"]
    assert "The list shows the first 5 patients: type above to find others." in [
        c.value for c in at.caption
    ]
    at.text_input(key="patient_find").input("example").run()
    assert "More than 5 patients match 'example'; the list shows the first 5." in [
        c.value for c in at.caption
    ]
    assert at.selectbox(key="patient_pick").value == "P0014"  # a search alone moves nobody
    at.text_input(key="patient_find").input("FINLEY example").run()
    assert not at.exception
    assert at.selectbox(key="patient_pick").value == PATIENT
    assert at.header[0].value == "Finley Example (P0006)"
    assert at.query_params["patient"] == PATIENT
    # Next still steps through the clinician's caseload, found in SQL
    caption = next(c.value for c in at.caption if "caseload in care" in c.value)
    [b for b in at.button if b.label == "Next"][0].click().run()
    moved = at.selectbox(key="patient_pick").value
    assert moved != PATIENT
    assert any(c.value.startswith(f"{int(caption.split()[0]) + 1} of ") for c in at.caption)
    at.text_input(key="patient_find").input("nobody like this").run()
    assert "No patient matches 'nobody like this'." in [c.value for c in at.caption]
    assert at.selectbox(key="patient_pick").value == moved


def test_on_a_network_privacy_mode_searches_aliases_never_names(page, network):
    at = page(PATIENT, privacy=True)
    at.text_input(key="patient_find").input("noel").run()
    assert "No patient matches 'noel'." in [c.value for c in at.caption]
    at.text_input(key="patient_find").input("·0014").run()
    assert at.selectbox(key="patient_pick").value == "P0014"
    assert at.header[0].value == "N.E. ·0014"
    shown = " ".join(options(at)) + " ".join(c.value for c in at.caption)
    assert "Noel" not in shown


def test_a_patient_without_a_primary_clinician_has_no_caseload_to_step_through(page, sample_db):
    st_ = store.open_store(sample_db)
    with st_.write() as cur:
        cur.execute("UPDATE patients SET primary_clinician_id = NULL WHERE patient_id = 'P0003'")
    st_.close()
    at = page("P0003")
    steps = [b for b in at.button if b.label in ("Previous", "Next")]
    assert [b.help for b in steps] == [
        "Previous patient in no primary clinician's caseload",
        "Next patient in no primary clinician's caseload",
    ]
    assert all(b.disabled for b in steps)
    assert not any("caseload in care" in c.value for c in at.caption)


def test_a_current_pain_the_same_as_baseline_reads_no_change(page):
    """P0011: 5.3 at baseline and now; the delta is 'no change' (it was drawn as a red +0.0)."""
    hand = hand_summary("P0011")
    assert hand["baseline"] == hand["current"]
    current = {m.label: m for m in page("P0011").metric}["Current NRS"]
    assert (current.value, current.delta) == (f"{hand['current']:.1f}", "no change")
    moved = {m.label: m for m in page(PATIENT).metric}["Current NRS"]
    assert moved.delta == f"{hand_summary(PATIENT)['change']:+.1f} points"


def test_tables_spell_out_their_codes(page):
    """The tables show 'self care', 'no change', 'adaptive equipment', not the import's codes."""
    at = page(PATIENT)
    cells = {str(v) for d in at.dataframe for col in d.value.columns for v in d.value[col]}
    with open(SAMPLE_DATA / "functional_tasks.csv", encoding="utf-8") as fh:
        domains = {r["domain"] for r in csv.DictReader(fh) if r["patient_id"] == PATIENT}
    assert domains and {d.replace("_", " ") for d in domains} <= cells
    assert not any("_" in c for c in cells if c in {"self_care", "no_change", "adaptive_equipment",
                                                   "task_modification", "work_schedule"})  # fmt: skip


def test_the_functional_tasks_table_reads_each_task_from_first_to_latest(page):
    """Each task's completion time from its first attempt in the period to its latest, in
    minutes (the unit of the chart above it; the table gave seconds once), and the latest
    attempt's pain before and after, micro-breaks and completion, from the CSV: one cell for
    each pair, so the table's eight columns fit a laptop's page beside the sidebar (ten did not:
    the pain after, the breaks and the completion were out of view at 1,280 px)."""
    with open(SAMPLE_DATA / "functional_tasks.csv", encoding="utf-8") as fh:
        rows = sorted(
            (
                r
                for r in csv.DictReader(fh)
                if r["patient_id"] == PATIENT and r["date"] <= str(AS_OF)
            ),
            key=lambda r: r["date"],
        )
    first, latest = {}, {}
    for row in rows:
        first.setdefault(row["task"], int(row["completion_time_s"]) / 60)
        latest[row["task"]] = row
    assert len(rows) > len(latest) >= 2  # every task tried more than once
    expected = {
        task: (
            f"{first[task]:.1f} → {int(row['completion_time_s']) / 60:.1f} min",
            f"{float(row['pain_before']):g} → {float(row['pain_after']):g}",
            int(row["microbreaks"]),
            row["completed"] == "true",
        )
        for task, row in latest.items()
    }
    at = page(PATIENT)
    shown = next(d for d in at.dataframe if "task" in d.value.columns)
    table = shown.value
    assert {
        t: (time, pain, breaks, done)
        for t, time, pain, breaks, done in table[
            ["task", "time_min", "pain", "microbreaks", "completed"]
        ].itertuples(index=False)
    } == expected
    assert headings(shown) == [
        "task", "domain", "latest", "level", "time, first → latest", "pain before → after",
        "breaks", "done",
    ]  # fmt: skip
    fig = charts(at)["Graded functional tasks (open circle: not completed)"]
    assert fig["layout"]["yaxis"]["title"]["text"] == "Completion time (min) ↓ better"


def test_the_medications_table_reads_a_dose_as_prescribed(page):
    """'60 mg', the daily dose with its unit in one cell, as a prescription reads it, from the
    CSV; the unit had a column of its own, which put the side effects out of view at 1,280 px."""
    with open(SAMPLE_DATA / "medications.csv", encoding="utf-8") as fh:
        doses = {
            (r["drug"], r["start_date"]): f"{float(r['daily_dose']):g} {r['unit']}"
            for r in csv.DictReader(fh)
            if r["patient_id"] == PATIENT and r["start_date"] <= str(AS_OF)
        }
    shown = next(d for d in page(PATIENT).dataframe if "drug" in d.value.columns)
    table = shown.value
    rows = table[["drug", "start_date", "daily_dose"]].itertuples(index=False)
    assert len(doses) >= 2
    assert {(drug, f"{start:%Y-%m-%d}"): dose for drug, start, dose in rows} == doses
    assert "unit" not in table.columns and "daily dose" in headings(shown)


def test_a_review_one_day_overdue_says_1_day(page, sample_db, monkeypatch):
    """The day after P0006's next review falls due, the page says '1 day overdue' ('1 days
    overdue' before), as the meeting's agenda does; a week later '8 days overdue'; on the day
    itself 'due today' (it said nothing), and the day before nothing."""
    st_ = store.open_store(sample_db, read_only=True)
    try:
        due = queries.run(st_.cursor(), "patient_summary", as_of=AS_OF, patient_ids=[PATIENT])
    finally:
        st_.close()
    due = due.next_review_due.iloc[0].date()
    assert due > AS_OF  # no review between the as-of date and then: the same due date
    for days, said in ((1, "1 day overdue"), (8, "8 days overdue"), (0, "due today"), (-1, "")):
        monkeypatch.setenv("MDT_AS_OF", (due + dt.timedelta(days=days)).isoformat())
        review = next(m for m in page(PATIENT).metric if m.label == "Next review due")
        assert (review.value, review.delta) == (f"{due:%d %b %Y}", said)


def test_each_questionnaire_is_shown_with_its_source(page, sample_db):
    """Every questionnaire's bands and meaningful change are shown with their source from the
    store's reference table, under the table (a column cut the longer ones off)."""
    at = page(PATIENT)
    table = next(t.value for t in at.dataframe if "assessment_text" in t.value.columns)
    assert "source" not in table.columns
    st_ = store.open_store(sample_db)
    try:
        source = dict(st_.cursor().execute("SELECT code, source FROM instruments").fetchall())
    finally:
        st_.close()
    listed = " · ".join(f"**{code}** {source[code]}" for code in table.instrument)
    assert [c.value for c in at.caption if c.value.startswith("Bands and meaningful")] == [
        f"Bands and meaningful change (shared/MEASURES.md): {listed}."
    ]
    assert len(table) >= 5 and "Kroenke et al., J Gen Intern Med 2001" in listed  # PHQ-9
