"""The importer: every rule of shared/DATA_MODEL.md, bad files, idempotence, atomicity."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from dashboard import importer, schema, store
from tests.conftest import count, snapshot, write_csv

# A valid row of every table, all pointing at P1 / C1 / S1 / G1 (which the base store holds).
VALID = {
    "clinicians": {"clinician_id": "C2", "name": "Test Clinician", "discipline": "OT"},
    "patients": {
        "patient_id": "P2",
        "name": "Test Person",
        "birth_year": "1970",
        "sex": "F",
        "condition": "Post-herpetic neuralgia",
        "side": "L",
        "primary_clinician_id": "C1",
        "start_date": "2026-01-05",
        "discharge_date": "2026-06-01",
        "status": "discharged",
        "review_interval_days": "28",
    },
    "sessions": {
        "session_id": "S2",
        "patient_id": "P1",
        "clinician_id": "C1",
        "ts": "2026-02-01T10:00:00",
        "duration_min": "45",
        "mode": "tele",
        "status": "attended",
        "caregiver_present": "yes",
    },
    "pain_ratings": {
        "patient_id": "P1",
        "ts": "2026-02-01T20:00:00",
        "nrs": "5.5",
        "context": "avg_24h",
        "source": "diary",
        "session_id": "S1",
        "qualities": "burning;tingling",
        "interference": "4",
    },
    "assessments": {
        "patient_id": "P1",
        "date": "2026-02-01",
        "instrument": "PHQ9",
        "total": "12",
        "item9": "0",
        "respondent": "patient",
    },
    "desensitization": {
        "session_id": "S1",
        "patient_id": "P1",
        "date": "2026-02-01",
        "modality": "light_touch",
        "level": "3",
        "duration_s": "300",
        "distress": "4",
        "tolerated": "true",
        "allodynia_area_cm2": "120",
    },
    "functional_tasks": {
        "session_id": "S1",
        "patient_id": "P1",
        "date": "2026-02-01",
        "task": "Buttoning a shirt",
        "domain": "self_care",
        "level": "2",
        "completion_time_s": "180",
        "reps": "3",
        "microbreaks": "2",
        "pain_before": "4",
        "pain_after": "5",
        "completed": "1",
    },
    "objective_measures": {
        "patient_id": "P1",
        "date": "2026-02-01",
        "measure": "grip",
        "side": "L",
        "value": "30.5",
        "unit": "kg",
        "affected": "true",
    },
    "sleep_diary": {
        "patient_id": "P1",
        "date": "2026-02-01",
        "total_sleep_min": "400",
        "time_in_bed_min": "480",
        "quality": "6",
        "awakenings_pain": "2",
    },
    "home_practice": {
        "patient_id": "P1",
        "date": "2026-02-01",
        "activity": "relaxation",
        "prescribed_min": "10",
        "completed_min": "8",
        "caregiver_assisted": "no",
    },
    "medications": {
        "patient_id": "P1",
        "drug": "Pregabalin",
        "drug_class": "gabapentinoid",
        "start_date": "2026-01-10",
        "stop_date": "2026-03-01",
        "daily_dose": "150",
        "unit": "mg",
        "change": "start",
        "ome_mg_day": "0",
    },
    "goals": {
        "goal_id": "G2",
        "patient_id": "P1",
        "domain": "function",
        "description": "Cook a meal",
        "baseline": "-1",
        "importance": "2",
        "difficulty": "2",
        "set_date": "2026-01-12",
    },
    "goal_reviews": {"goal_id": "G1", "date": "2026-02-09", "attainment": "0"},
    "milestones": {
        "milestone_id": "M2",
        "patient_id": "P1",
        "goal_id": "G1",
        "description": "First meal",
        "due_date": "2026-03-01",
    },
    "social_support": {
        "patient_id": "P1",
        "date": "2026-02-01",
        "caregiver_involvement": "regular",
        "peer_group_sessions": "2",
        "work_status": "modified",
        "accommodation": "requested",
        "mspss": "5.5",
        "caregiver_burden_zbi12": "12",
    },
    "barriers": {
        "barrier_id": "B2",
        "patient_id": "P1",
        "kind": "transport",
        "opened": "2026-01-20",
        "closed": "2026-02-20",
        "owner_clinician_id": "C1",
    },
    "adaptations": {
        "adaptation_id": "A2",
        "patient_id": "P1",
        "setting": "work",
        "kind": "ergonomic",
        "description": "Vertical mouse",
        "recommended_date": "2026-01-20",
        "in_place_date": "2026-02-01",
        "effect": "helped",
    },
    "education": {
        "session_id": "S1",
        "patient_id": "P1",
        "date": "2026-02-01",
        "topic": "pacing",
        "teach_back": "partial",
    },
    "events": {"patient_id": "P1", "ts": "2026-02-03T08:00:00", "kind": "flare", "text": "x"},
    "conditions": {
        "condition_id": "K1",
        "patient_id": "P1",
        "code": "82423001",
        "system": "http://snomed.info/sct",
        "display": "Chronic pain",
        "onset_date": "2025-11-02",
        "abatement_date": "2026-01-02",
        "pain_relevant": "true",
    },
}

BASE = {
    "clinicians": [{"clinician_id": "C1", "name": "Base Clinician", "discipline": "PT"}],
    "patients": [
        {
            "patient_id": "P1",
            "name": "Base Person",
            "condition": "CRPS type II",
            "start_date": "2026-01-05",
            "status": "active",
        }
    ],
    "sessions": [
        {"session_id": "S1", "patient_id": "P1", "ts": "2026-01-06T09:00", "status": "attended"}
    ],
    "goals": [
        {
            "goal_id": "G1",
            "patient_id": "P1",
            "domain": "function",
            "description": "Base goal",
            "set_date": "2026-01-06",
        }
    ],
}


@pytest.fixture
def base_db(tmp_path) -> Path:
    folder = tmp_path / "base"
    for table, rows in BASE.items():
        write_csv(folder, table, rows)
    db = tmp_path / "store.duckdb"
    result = importer.import_path(db, folder)
    assert result.applied
    return db


# (table, column, bad value, the rule's words in the report)
RULE_CASES = [
    ("clinicians", "clinician_id", "", "required"),
    ("clinicians", "discipline", "NURSE_PRACTITIONER", "must be one of: PT, OT, PSY, MED"),
    ("clinicians", "role", "boss", "must be one of: clinician, lead, manager"),
    ("patients", "name", "", "required"),
    ("patients", "birth_year", "1899", "must be between 1900 and"),
    ("patients", "birth_year", "2999", "must be between 1900 and"),
    ("patients", "birth_year", "19x0", "must be a whole number"),
    ("patients", "sex", "female", "must be one of: F, M, X, U"),
    ("patients", "side", "left", "must be one of: L, R, bilateral, NA"),
    ("patients", "primary_clinician_id", "C99", "refers to clinicians.clinician_id"),
    ("patients", "referral_date", "05/01/2026", "must be a date (YYYY-MM-DD)"),
    ("patients", "start_date", "", "required"),
    ("patients", "discharge_date", "2025-12-31", "must not be before start_date"),
    ("patients", "status", "closed", "must be one of: active, discharged, on_hold, dropped_out"),
    ("patients", "review_interval_days", "6", "must be between 7 and 180"),
    ("patients", "review_interval_days", "181", "must be between 7 and 180"),
    ("sessions", "patient_id", "P404", "refers to patients.patient_id"),
    ("sessions", "clinician_id", "C404", "refers to clinicians.clinician_id"),
    ("sessions", "ts", "yesterday", "must be a date and time"),
    ("sessions", "duration_min", "0", "must be between 1 and 480"),
    ("sessions", "duration_min", "481", "must be between 1 and 480"),
    ("sessions", "mode", "phone", "must be one of: in_person, tele, group"),
    ("sessions", "status", "no_show", "must be one of: attended, dna"),
    ("sessions", "caregiver_present", "maybe", "must be true/false, yes/no or 1/0"),
    ("pain_ratings", "nrs", "10.5", "must be between 0 and 10"),
    ("pain_ratings", "nrs", "-0.1", "must be between 0 and 10"),
    ("pain_ratings", "nrs", "high", "must be a number"),
    ("pain_ratings", "nrs", "nan", "must be a number"),
    ("pain_ratings", "nrs", "", "required"),
    ("pain_ratings", "context", "best_24h", "must be one of: now, avg_24h, worst_24h"),
    ("pain_ratings", "source", "email", "must be one of: session, diary, phone, import"),
    ("pain_ratings", "session_id", "S404", "refers to sessions.session_id"),
    ("pain_ratings", "qualities", "burning;throbbing", "each item must be one of: burning"),
    ("pain_ratings", "interference", "11", "must be between 0 and 10"),
    ("assessments", "instrument", "PHQ10", "refers to instruments.code"),
    ("assessments", "total", "28", "must be within PHQ9's range 0.0..27.0"),
    ("assessments", "item9", "4", "must be between 0 and 3"),
    ("assessments", "respondent", "doctor", "must be one of: patient, caregiver, clinician"),
    ("desensitization", "modality", "ice", "must be one of: light_touch"),
    ("desensitization", "level", "11", "must be between 1 and 10"),
    ("desensitization", "level", "2.5", "must be a whole number"),
    ("desensitization", "duration_s", "1801", "must be between 0 and 1800"),
    ("desensitization", "distress", "10.1", "must be between 0 and 10"),
    ("desensitization", "allodynia_area_cm2", "2001", "must be between 0 and 2000"),
    ("desensitization", "session_id", "S404", "refers to sessions.session_id"),
    ("functional_tasks", "session_id", "S404", "refers to sessions.session_id"),
    ("functional_tasks", "domain", "sport", "must be one of: self_care"),
    ("functional_tasks", "level", "0", "must be between 1 and 10"),
    ("functional_tasks", "pain_before", "-1", "must be between 0 and 10"),
    ("functional_tasks", "completion_time_s", "7201", "must be between 0 and 7200"),
    ("functional_tasks", "reps", "1001", "must be between 0 and 1000"),
    ("functional_tasks", "microbreaks", "101", "must be between 0 and 100"),
    ("functional_tasks", "pain_after", "12", "must be between 0 and 10"),
    ("functional_tasks", "completed", "done", "must be true/false"),
    ("objective_measures", "measure", "pinch_grip", "must be one of: grip, pinch, rom"),
    ("objective_measures", "value", "101", "must be between 0 and 100 when measure is grip"),
    ("objective_measures", "unit", "lb", "must be one of: kg, deg"),
    ("objective_measures", "side", "B", "must be one of: L, R"),
    ("objective_measures", "session_id", "S404", "refers to sessions.session_id"),
    ("sleep_diary", "total_sleep_min", "1441", "must be between 0 and 1440"),
    ("sleep_diary", "time_in_bed_min", "300", "must not be before total_sleep_min"),
    ("sleep_diary", "quality", "11", "must be between 0 and 10"),
    ("sleep_diary", "awakenings_pain", "51", "must be between 0 and 50"),
    ("home_practice", "activity", "yoga", "must be one of: desensitization"),
    ("home_practice", "prescribed_min", "301", "must be between 0 and 300"),
    ("home_practice", "completed_min", "-1", "must be between 0 and 300"),
    ("medications", "drug_class", "antiepileptic", "must be one of: gabapentinoid"),
    ("medications", "stop_date", "2026-01-09", "must not be before start_date"),
    ("medications", "daily_dose", "0", "must be greater than 0"),
    ("medications", "unit", "g", "must be one of: mg, mcg, mcg/h, patch"),
    ("medications", "change", "switch", "must be one of: start, increase"),
    ("medications", "ome_mg_day", "2001", "must be between 0 and 2000"),
    ("goals", "domain", "fitness", "must be one of: desensitization, function"),
    ("goals", "baseline", "0", "must be between -2 and -1"),
    ("goals", "importance", "4", "must be between 0 and 3"),
    ("goals", "difficulty", "-1", "must be between 0 and 3"),
    ("goals", "set_date", "", "required"),
    ("goal_reviews", "goal_id", "G404", "refers to goals.goal_id"),
    ("goal_reviews", "attainment", "3", "must be between -2 and 2"),
    ("milestones", "goal_id", "G404", "refers to goals.goal_id"),
    ("milestones", "description", "", "required"),
    ("social_support", "caregiver_involvement", "daily", "must be one of: none, occasional"),
    ("social_support", "peer_group_sessions", "32", "must be between 0 and 31"),
    ("social_support", "work_status", "sick", "must be one of: full, modified"),
    ("social_support", "accommodation", "maybe", "must be one of: none, requested, in_place"),
    ("social_support", "mspss", "0.5", "must be between 1 and 7"),
    ("social_support", "caregiver_burden_zbi12", "49", "must be between 0 and 48"),
    ("barriers", "kind", "weather", "must be one of: transport, cost"),
    ("barriers", "closed", "2026-01-19", "must not be before opened"),
    ("barriers", "owner_clinician_id", "C404", "refers to clinicians.clinician_id"),
    ("adaptations", "setting", "car", "must be one of: home, work, community"),
    ("adaptations", "kind", "magic", "must be one of: ergonomic"),
    ("adaptations", "in_place_date", "2026-01-19", "must not be before recommended_date"),
    ("conditions", "abatement_date", "2025-11-01", "must not be before onset_date"),
    ("conditions", "display", "", "required"),
    ("conditions", "pain_relevant", "maybe", "must be true/false, yes/no or 1/0"),
    ("patients", "deceased_date", "29/06/2002", "must be a date (YYYY-MM-DD)"),
    ("adaptations", "effect", "great", "must be one of: helped, no_change, worse, unknown"),
    ("education", "teach_back", "good", "must be one of: correct, partial, incorrect"),
    ("education", "topic", "", "required"),
    ("education", "session_id", "S404", "refers to sessions.session_id"),
    ("events", "kind", "party", "must be one of: flare, life_event"),
    ("events", "ts", "2026-13-01T08:00", "must be a date and time"),
]


# How the first (valid) row's key differs from the bad row's, per table.
OTHER_KEY = {
    "clinicians": {"clinician_id": "C3"},
    "patients": {"patient_id": "P3"},
    "sessions": {"session_id": "S3"},
    "pain_ratings": {"ts": "2026-02-02T20:00:00"},
    "assessments": {"date": "2026-02-02"},
    "desensitization": {"modality": "vibration"},
    "functional_tasks": {"task": "Typing"},
    "objective_measures": {"side": "R"},
    "sleep_diary": {"date": "2026-02-02"},
    "home_practice": {"date": "2026-02-02"},
    "medications": {"start_date": "2026-01-11"},
    "goals": {"goal_id": "G3"},
    "goal_reviews": {"date": "2026-02-10"},
    "milestones": {"milestone_id": "M3"},
    "social_support": {"date": "2026-02-02"},
    "barriers": {"barrier_id": "B3"},
    "adaptations": {"adaptation_id": "A3"},
    "education": {"topic": "sleep"},
    "events": {"ts": "2026-02-04T08:00:00"},
    "conditions": {"condition_id": "K2"},
}


def _case_id(case):
    return f"{case[0]}.{case[1]}={case[2]!r}"


@pytest.mark.parametrize("case", RULE_CASES, ids=_case_id)
def test_each_rule_rejects_the_row_and_names_it(base_db, tmp_path, case):
    table, column, bad, rule_words = case
    good = dict(VALID[table])
    bad_row = {**good, column: bad}
    # The bad row is on line 3: a valid row with another key comes first.
    first = {**good, **OTHER_KEY[table]}
    folder = tmp_path / "batch"
    columns = schema.TABLES[table].column_names
    columns = [c for c in columns if c in good or c == column]
    write_csv(folder, table, [first, bad_row], columns)
    before = snapshot(base_db)

    result = importer.import_path(base_db, folder)

    assert not result.applied
    matching = [e for e in result.errors if e.column == column]
    assert matching, [e.sentence() for e in result.errors]
    e = matching[0]
    assert e.file == f"{table}.csv"
    assert e.line == 3
    assert e.value == (bad.strip() or None)
    assert rule_words in e.rule, e.rule
    assert len({(x.line) for x in result.errors}) == 1, [x.sentence() for x in result.errors]
    assert snapshot(base_db) == before


def test_every_declared_rule_has_a_case():
    """Each column that carries a rule is exercised by RULE_CASES (so new rules get tests)."""
    covered = {(t, c) for t, c, _, _ in RULE_CASES}
    missing = []
    for t in schema.IMPORT_TABLES:
        for c in t.columns:
            has_rule = (
                c.kind in ("enum", "list")
                or c.min is not None
                or c.range_by
                or c.instrument_range
                or c.not_before
                or (c.ref and c.name not in ("patient_id",))
            )
            if has_rule and (t.name, c.name) not in covered and c.name != "patient_id":
                missing.append(f"{t.name}.{c.name}")
    assert missing == []


def test_valid_rows_of_every_table_import(base_db, tmp_path):
    folder = tmp_path / "batch"
    for table, row in VALID.items():
        write_csv(folder, table, [row])
    result = importer.import_path(base_db, folder)
    assert result.errors == []
    assert result.applied
    assert result.rows_accepted == len(VALID)
    assert count(base_db, "pain_ratings") == 1


def test_item9_only_on_phq9(base_db, tmp_path):
    row = {**VALID["assessments"], "instrument": "GAD7", "total": "8", "item9": "1"}
    write_csv(tmp_path / "b", "assessments", [row])
    result = importer.import_path(base_db, tmp_path / "b")
    assert [(e.line, e.column, e.value, e.rule) for e in result.errors] == [
        (2, "item9", "1", "only allowed when instrument is PHQ9")
    ]


def test_rom_range_differs_from_grip(base_db, tmp_path):
    rom = {**VALID["objective_measures"], "measure": "rom", "value": "150", "unit": "deg"}
    bad = {**rom, "side": "R", "value": "-31"}
    write_csv(tmp_path / "b", "objective_measures", [rom, bad])
    result = importer.import_path(base_db, tmp_path / "b")
    assert [(e.line, e.value, e.rule) for e in result.errors] == [
        (3, "-31", "must be between -30 and 180 when measure is rom")
    ]


def test_duplicate_key_in_file_is_rejected(base_db, tmp_path):
    row = VALID["sleep_diary"]
    write_csv(tmp_path / "b", "sleep_diary", [row, {**row, "quality": "2"}])
    before = snapshot(base_db)
    result = importer.import_path(base_db, tmp_path / "b")
    assert len(result.errors) == 1
    e = result.errors[0]
    assert (e.file, e.line, e.column) == ("sleep_diary.csv", 3, "patient_id, date")
    assert e.value == "P1, 2026-02-01"
    assert "duplicate key" in e.rule
    assert snapshot(base_db) == before


def test_a_key_repeated_in_another_spelling_is_a_duplicate_and_each_repeat_is_named(
    base_db, tmp_path
):
    """Keys are compared as values, not text: '2026-2-1' and '2026-02-01' are the same day.
    Every repeat after the first is rejected, and a row with a key of its own is not."""
    row = VALID["sleep_diary"]
    rows = [
        row,
        {**row, "date": "2026-02-02"},
        {**row, "date": "2026-2-1"},
        {**row, "quality": "1"},
    ]
    write_csv(tmp_path / "b", "sleep_diary", rows)
    before = snapshot(base_db)
    result = importer.import_path(base_db, tmp_path / "b")
    assert [(e.line, e.column, e.value) for e in result.errors] == [
        (4, "patient_id, date", "P1, 2026-02-01"),
        (5, "patient_id, date", "P1, 2026-02-01"),
    ]
    assert snapshot(base_db) == before


def test_unknown_and_missing_columns_are_named(base_db, tmp_path):
    folder = tmp_path / "b"
    (folder).mkdir()
    (folder / "pain_ratings.csv").write_text("patient_id,ts,pain_score\nP1,2026-02-01,5\n")
    result = importer.import_path(base_db, folder)
    described = sorted((e.line, e.column, e.rule) for e in result.errors)
    assert described == [
        (1, "nrs", "required column is missing from the header"),
        (1, "pain_score", "unknown column: table pain_ratings has no column 'pain_score'"),
    ]
    assert not result.applied


def test_reference_within_the_batch_resolves(tmp_path):
    folder = tmp_path / "b"
    write_csv(folder, "clinicians", BASE["clinicians"])
    write_csv(folder, "patients", BASE["patients"])
    write_csv(folder, "sessions", BASE["sessions"])
    result = importer.import_path(tmp_path / "new.duckdb", folder)
    assert result.applied, [e.sentence() for e in result.errors]
    assert result.accepted == {"clinicians": 1, "patients": 1, "sessions": 1}


def test_reimport_is_idempotent(sample_db):
    from tests.conftest import SAMPLE_DATA

    counts_before = {t: count(sample_db, t) for t in schema.TABLES}
    data_before = snapshot(sample_db)
    result = importer.import_path(sample_db, SAMPLE_DATA)
    assert result.applied and result.errors == []
    assert {t: count(sample_db, t) for t in schema.TABLES} == counts_before
    after = snapshot(sample_db)
    for t in schema.TABLES:
        assert after[t] == data_before[t], t
    assert count(sample_db, "import_batches") == 2


def test_reimport_with_a_changed_value_replaces_the_row(base_db, tmp_path):
    row = VALID["pain_ratings"]
    write_csv(tmp_path / "a", "pain_ratings", [row])
    importer.import_path(base_db, tmp_path / "a")
    write_csv(tmp_path / "b", "pain_ratings", [{**row, "nrs": "3.25"}])
    importer.import_path(base_db, tmp_path / "b")
    st = store.open_store(base_db)
    rows = st.cursor().execute("SELECT nrs FROM pain_ratings").fetchall()
    st.close()
    assert rows == [(3.25,)]


def test_the_per_day_tables_follow_every_import(sample_db, tmp_path):
    """pain_daily, practice_daily and care_ends after imports that change a rating, add a day,
    move a start of care, change practice minutes and add a drop-out's session equal a
    recompute from scratch; untouched patients keep their rows."""
    st = store.open_store(sample_db)
    cur = st.cursor()
    p1_before = cur.execute("SELECT * FROM pain_daily WHERE patient_id = 'P0001'").fetchall()
    rating = (
        cur.execute(
            "SELECT patient_id, strftime(ts, '%Y-%m-%dT%H:%M:%S') AS ts, nrs, context FROM pain_ratings "
            "WHERE patient_id = 'P0002' AND context = 'avg_24h' ORDER BY ts LIMIT 1"
        )
        .fetchdf()
        .iloc[0]
    )
    patient = cur.execute("SELECT * FROM patients WHERE patient_id = 'P0003'").fetchdf().iloc[0]
    practice = (
        cur.execute(
            "SELECT patient_id, date, activity, prescribed_min FROM home_practice "
            "WHERE patient_id = 'P0004' ORDER BY date LIMIT 1"
        )
        .fetchdf()
        .iloc[0]
    )
    st.close()
    write_csv(tmp_path / "b", "pain_ratings", [
        {"patient_id": "P0002", "ts": rating.ts, "nrs": "0.5", "context": "avg_24h"},
        {"patient_id": "P0002", "ts": "2026-11-21T09:00:00", "nrs": "4", "context": "now"},
    ])  # fmt: skip
    new_start = (pd.Timestamp(patient.start_date) + pd.Timedelta(days=3)).date().isoformat()
    write_csv(tmp_path / "b", "patients", [{
        "patient_id": "P0003", "name": patient["name"], "condition": patient.condition,
        "start_date": new_start, "status": patient.status,
    }])  # fmt: skip
    write_csv(tmp_path / "b", "home_practice", [{
        "patient_id": "P0004", "date": practice.date.date().isoformat(), "activity": practice.activity,
        "prescribed_min": "25", "completed_min": "",
    }])  # fmt: skip
    # P0044 dropped out without a discharge date; their last contact was 22 Jul 2026
    write_csv(tmp_path / "b", "sessions", [
        {"session_id": "S-late", "patient_id": "P0044", "ts": "2026-08-05T10:00:00",
         "status": "attended"},
        {"session_id": "S-dna", "patient_id": "P0044", "ts": "2026-08-12T10:00:00",
         "status": "dna"},
    ])  # fmt: skip
    result = importer.import_path(sample_db, tmp_path / "b")
    assert result.applied, result.errors
    st = store.open_store(sample_db)
    try:
        cur = st.cursor()
        kept = {t: cur.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
                for t in ("pain_daily", "practice_daily", "care_ends")}  # fmt: skip
        assert cur.execute(
            "SELECT end_of_care FROM care_ends WHERE patient_id = 'P0044'"
        ).fetchone() == (dt.date(2026, 8, 5),)  # the attended session, not the missed one
        assert cur.execute(
            "SELECT nrs, ratings FROM pain_daily WHERE patient_id = 'P0002' AND day = DATE '2026-11-21'"
        ).fetchone() == (4.0, 1)
        assert cur.execute(
            "SELECT count(*), count(*) FILTER (WHERE care_day = date_diff('day', $s, day)) "
            "FROM pain_daily WHERE patient_id = 'P0003'",
            {"s": dt.date.fromisoformat(new_start)},
        ).fetchone() == (
            n3 := cur.execute(
                "SELECT count(*) FROM pain_daily WHERE patient_id = 'P0003'"
            ).fetchone()[0],
            n3,
        )
        assert n3 > 0
        assert (
            cur.execute(
                "SELECT prescribed_min FROM practice_daily WHERE patient_id = 'P0004' AND day = $d",
                {"d": practice.date.date()},
            ).fetchone()[0]
            == cur.execute(
                "SELECT sum(prescribed_min) FROM home_practice WHERE patient_id = 'P0004' AND date = $d "
                "AND prescribed_min > 0",
                {"d": practice.date.date()},
            ).fetchone()[0]
        )
        assert (
            cur.execute("SELECT * FROM pain_daily WHERE patient_id = 'P0001'").fetchall()
            == p1_before
        )
        with st.write() as w:
            store.refresh_derived(w, None)
        for t, rows in kept.items():
            assert cur.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() == rows, t
    finally:
        st.close()


def test_skip_invalid_imports_the_rest_and_cascades_references(base_db, tmp_path):
    folder = tmp_path / "b"
    p_ok = {**VALID["patients"], "patient_id": "P7"}
    p_bad = {**VALID["patients"], "patient_id": "P8", "status": "unknown"}
    write_csv(folder, "patients", [p_ok, p_bad])
    s_ok = {**VALID["sessions"], "session_id": "S7", "patient_id": "P7"}
    s_orphan = {**VALID["sessions"], "session_id": "S8", "patient_id": "P8"}
    write_csv(folder, "sessions", [s_ok, s_orphan])

    result = importer.import_path(base_db, folder, skip_invalid=True)

    assert result.applied
    assert result.accepted == {"patients": 1, "sessions": 1}
    assert result.rejected_rows == 2
    assert [(e.file, e.line, e.column) for e in result.errors] == [
        ("patients.csv", 3, "status"),
        ("sessions.csv", 3, "patient_id"),
    ]
    assert count(base_db, "patients") == 2  # P1 and P7


def test_timestamps_with_offset_are_stored_as_utc(base_db, tmp_path):
    rows = [
        {**VALID["pain_ratings"], "ts": "2026-03-14T10:00:00+02:00"},
        {**VALID["pain_ratings"], "ts": "2026-03-15T10:00:00"},
    ]
    write_csv(tmp_path / "b", "pain_ratings", rows)
    assert importer.import_path(base_db, tmp_path / "b").applied
    st = store.open_store(base_db)
    got = st.cursor().execute("SELECT CAST(ts AS VARCHAR) FROM pain_ratings ORDER BY ts").fetchall()
    st.close()
    assert got == [("2026-03-14 08:00:00",), ("2026-03-15 10:00:00",)]


def test_cells_are_read_the_same_whatever_their_form(base_db, tmp_path):
    """Plain cells take shortcuts past trim(), the zone-aware cast and the list clean-up; every
    other form is read as before: offsets and zones to UTC, Unicode spaces trimmed, empty list
    items dropped, a cell of spaces missing."""
    forms = [
        # (ts, body_site, qualities) as written -> as stored
        (
            ("2026-03-14T10:00:00", "knee", "burning;tingling"),
            ("2026-03-14 10:00:00", "knee", ["burning", "tingling"]),
        ),
        (
            ("2026-03-14T10:00:01Z", "\u00a0knee\u00a0", " burning ; tingling "),
            ("2026-03-14 10:00:01", "knee", ["burning", "tingling"]),
        ),
        (
            ("2026-03-14T10:00:02+02:00", " ", "burning;;tingling;"),
            ("2026-03-14 08:00:02", None, ["burning", "tingling"]),
        ),
        (
            ("2026-03-14T10:00:03.5-05:30", "\u3000ankle", "\u2003burning"),
            ("2026-03-14 15:30:03.5", "ankle", ["burning"]),
        ),
        (
            ("2026-03-14 10:00:04 America/New_York", "wrist ", ";burning"),
            ("2026-03-14 14:00:04", "wrist", ["burning"]),
        ),
        (
            ("2026-03-14T10:05", "Knöchel", "tingling"),
            ("2026-03-14 10:05:00", "Knöchel", ["tingling"]),
        ),
    ]
    rows = [
        {**VALID["pain_ratings"], "ts": ts, "body_site": site, "qualities": q}
        for (ts, site, q), _ in forms
    ]
    write_csv(tmp_path / "b", "pain_ratings", rows)
    result = importer.import_path(base_db, tmp_path / "b")
    assert result.applied, [e.sentence() for e in result.errors]
    st = store.open_store(base_db)
    got = (
        st.cursor()
        .execute(
            "SELECT CAST(ts AS VARCHAR), body_site, qualities FROM pain_ratings "
            "WHERE ts >= TIMESTAMP '2026-03-14' ORDER BY ts"
        )
        .fetchall()
    )
    st.close()
    assert got == sorted((tuple(stored) for _, stored in forms), key=lambda r: r[0])


def test_the_trim_shortcut_is_trim_on_every_kind_of_text():
    """blank_to_null() is NULLIF(trim(x), '') on ASCII of every character, Unicode spaces at
    either end, empty text and NULL."""
    edge = [chr(i) for i in range(1, 128)] + list(
        "\u00a0\u1680\u2003\u202f\u205f\u3000\u2028\u0085é😀"
    )
    texts = [None, ""] + [f"{a}x{b}" for a in edge for b in ("", " ", "\u00a0", "y")]
    texts += [a for a in edge] + [f"{a}{a}" for a in edge] + [f" {a} " for a in edge]
    con = duckdb.connect()
    con.execute("CREATE TABLE t (x VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?)", [[x] for x in texts])
    differ = con.execute(
        f"SELECT x FROM t WHERE NULLIF(trim(x), '') IS DISTINCT FROM {importer.blank_to_null('x')}"
    ).fetchall()
    trimmed = con.execute("SELECT count(*) FROM t WHERE x <> trim(x)").fetchone()[0]
    con.close()
    assert differ == []
    assert trimmed > 400  # the cases include text that trim() changes


def test_line_numbers_count_multiline_notes_and_unreadable_rows(base_db, tmp_path):
    folder = tmp_path / "b"
    folder.mkdir()
    (folder / "sessions.csv").write_text(
        "session_id,patient_id,ts,status,notes\n"
        'S5,P1,2026-02-01T09:00,attended,"two\nline note"\n'  # lines 2-3
        "S6,P1,2026-02-02T09:00,attended,a,extra\n"  # line 4: too many fields
        "S7,P1,2026-02-03T09:00,absent,x\n"  # line 5: bad status
    )
    result = importer.import_path(base_db, folder)
    assert [(e.line, e.column) for e in result.errors] == [(4, None), (5, "status")]
    assert "cannot be read" in result.errors[0].rule


def test_parquet_import_with_lists(base_db, tmp_path):
    folder = tmp_path / "b"
    csv_path = write_csv(tmp_path / "csv", "pain_ratings", [VALID["pain_ratings"]])
    folder.mkdir()
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT patient_id, CAST(ts AS TIMESTAMP) AS ts, CAST(nrs AS DOUBLE) AS nrs, "
        f"context, string_split(qualities, ';') AS qualities FROM read_csv('{csv_path}', "
        f"all_varchar=true)) TO '{folder / 'pain_ratings.parquet'}' (FORMAT parquet)"
    )
    con.close()
    result = importer.import_path(base_db, folder)
    assert result.applied, [e.sentence() for e in result.errors]
    st = store.open_store(base_db)
    got = st.cursor().execute("SELECT nrs, qualities FROM pain_ratings").fetchall()
    st.close()
    assert got == [(5.5, ["burning", "tingling"])]


def test_parquet_errors_report_the_row(base_db, tmp_path):
    folder = tmp_path / "b"
    folder.mkdir()
    con = duckdb.connect()
    con.execute(
        "COPY (SELECT 'P1' AS patient_id, TIMESTAMP '2026-02-01 20:00' + INTERVAL (i) DAY AS ts, "
        f"CASE WHEN i = 2 THEN 12.0 ELSE 4.0 END AS nrs FROM range(3) t(i)) "
        f"TO '{folder / 'pain_ratings.parquet'}' (FORMAT parquet)"
    )
    con.close()
    result = importer.import_path(base_db, folder)
    assert [(e.file, e.line, e.column, e.value) for e in result.errors] == [
        ("pain_ratings.parquet", 3, "nrs", "12.0")
    ]


def _sessions_csv_with_at_one_mib(text: bytes) -> bytes:
    """A sessions CSV whose `text` starts on the last byte of its first MiB (the file is read a
    MiB at a time), in the notes of its row on line 4."""
    head = b"session_id,patient_id,ts,status,notes\nS7,P1,2026-02-01,attended,x\n"
    fill, row = b"S8,P1,2026-02-01,attended,", b"S9,P1,2026-02-01,attended,"
    fill += b"x" * ((1 << 20) - 1 - len(head) - len(fill) - 1 - len(row)) + b"\n"
    return head + fill + row + text + b"\n"


# Whole-file problems: a sentence for a data officer, never a traceback, store unchanged.
@pytest.mark.parametrize(
    "name, content, words",
    [
        ("sessions.csv", b"", "is empty (0 bytes)"),
        ("sessions.csv", b"session_id;patient_id;ts;status\nS9;P1;2026-02-01;attended\n", "semicolons"),
        ("sessions.csv", b"session_id\tpatient_id\tts\tstatus\n", "tabs"),
        ("sessions.csv", "session_id,patient_id,ts,status,notes\nS9,P1,2026-02-01,attended,caf\u00e9\n"
         .encode("latin-1"), "is not UTF-8 text (byte 0xE9 on line 2)"),
        ("sessions.csv", "session_id,patient_id,ts,status,caf\u00e9\nS9,P1,2026-02-01,attended,x\n"
         .encode("latin-1"), "is not UTF-8 text (byte 0xE9 on line 1)"),
        ("sessions.csv", b"session_id,patient_id,ts,status,notes\n" + b"S9,P1,2026-02-01,attended,x\n" * 50_000
         + "S9,P1,2026-02-01,attended,caf\u00e9\n".encode("latin-1"), "is not UTF-8 text (byte 0xE9 on line 50002)"),
        ("sessions.csv", _sessions_csv_with_at_one_mib(b"\xc3("), "is not UTF-8 text (byte 0xC3 on line 4)"),
        ("sessions.csv", b"session_id,patient_id,ts,status\n" + b"S9,P1,2026-02-01,attended\n" * 50_000
         + b"S9,P1,\x00,attended\n", "not a text CSV file"),
        ("sessions.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00", "not a text CSV file"),
        ("sessions.parquet", b"", "is empty (0 bytes), so it is not a Parquet file"),
        ("sessions.parquet", b"not parquet at all", "could not be read as Parquet"),
        ("sessions.xlsx", b"PK\x03\x04", "not a CSV or Parquet file"),
        ("visits.csv", b"a,b\n1,2\n", "there is no table named 'visits'"),
    ],
)  # fmt: skip
def test_bad_files_get_a_sentence(base_db, tmp_path, name, content, words):
    path = tmp_path / name
    path.write_bytes(content)
    before = snapshot(base_db)
    with pytest.raises(importer.ImportFailed) as info:
        importer.import_path(base_db, path)
    assert words in str(info.value)
    assert "Traceback" not in str(info.value)
    assert snapshot(base_db) == before


def test_a_character_across_the_first_mib_of_a_file_is_read_whole(base_db, tmp_path):
    """The file is checked for UTF-8 a MiB at a time: an 'é' whose two bytes fall either side of
    that boundary is text like any other."""
    path = tmp_path / "sessions.csv"
    path.write_bytes(_sessions_csv_with_at_one_mib("caf\u00e9".encode()[3:] + b" ok"))
    assert path.read_bytes()[(1 << 20) - 1 : (1 << 20) + 1] == "\u00e9".encode()
    result = importer.import_path(base_db, path)
    assert result.errors == [] and result.accepted["sessions"] == 3
    with duckdb.connect(str(base_db), read_only=True) as con:
        assert con.execute("SELECT notes FROM sessions WHERE session_id = 'S9'").fetchone() == (
            "\u00e9 ok",
        )


def test_header_only_file_says_so(base_db, tmp_path):
    path = tmp_path / "sessions.csv"
    path.write_text("session_id,patient_id,ts,status\n")
    with pytest.raises(importer.ImportFailed, match="no rows to import"):
        importer.import_path(base_db, path)


def test_missing_path(base_db, tmp_path):
    with pytest.raises(importer.ImportFailed, match="No file or folder at"):
        importer.import_path(base_db, tmp_path / "nowhere")


def test_import_into_a_new_db_path_creates_the_store(tmp_path):
    folder = tmp_path / "b"
    write_csv(folder, "clinicians", BASE["clinicians"])
    db = tmp_path / "deep" / "new.duckdb"
    assert importer.import_path(db, folder).applied
    assert count(db, "clinicians") == 1


def test_failure_mid_batch_leaves_the_store_unchanged(sample_db, monkeypatch):
    from tests.conftest import SAMPLE_DATA

    before = snapshot(sample_db)
    calls = []

    def fail_after_sessions(table):
        calls.append(table)
        if table == "pain_ratings":
            raise RuntimeError("disk full (injected)")

    monkeypatch.setattr(importer, "after_table_applied", fail_after_sessions)
    with pytest.raises(RuntimeError, match="injected"):
        importer.import_path(sample_db, SAMPLE_DATA)
    assert "sessions" in calls  # earlier tables were written inside the transaction
    assert snapshot(sample_db) == before


def test_killed_import_leaves_the_store_unchanged(base_db, tmp_path):
    folder = tmp_path / "b"
    for table, row in VALID.items():
        write_csv(folder, table, [row])
    before = snapshot(base_db)
    script = textwrap.dedent(
        f"""
        import os, signal
        from dashboard import importer
        def die(table):
            if table == "pain_ratings":
                os.kill(os.getpid(), signal.SIGKILL)
        importer.after_table_applied = die
        importer.import_path({str(base_db)!r}, {str(folder)!r})
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).parent.parent)
    assert proc.returncode == -signal.SIGKILL
    assert snapshot(base_db) == before
    # and the same batch then imports cleanly
    assert importer.import_path(base_db, folder).applied


def test_import_while_another_process_holds_the_store_is_queued(base_db, tmp_path):
    folder = tmp_path / "b"
    write_csv(folder, "pain_ratings", [VALID["pain_ratings"]])
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys, time; c = duckdb.connect({str(base_db)!r}); "
            "print('ready', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        result = importer.import_path(base_db, folder)
        assert result.queued_to is not None and not result.applied
        assert (result.queued_to / "pain_ratings.csv").exists()
        assert (result.queued_to / "manifest.json").exists()
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)
    # The writer (here: this process, as the dashboard would) applies the inbox.
    st = store.open_store(base_db)
    try:
        outcomes = importer.apply_inbox(st)
        assert [o.failed for o in outcomes] == [None]
        assert st.cursor().execute("SELECT count(*) FROM pain_ratings").fetchone()[0] == 1
        via = st.cursor().execute("SELECT via FROM import_batches ORDER BY started_at").fetchall()
        assert via[-1] == ("inbox",)
    finally:
        st.close()
    assert not any(p for p in store.inbox_dir(base_db).iterdir() if p.name not in ("done",))


def test_queued_batch_that_fails_store_checks_is_kept_with_its_report(base_db, tmp_path):
    folder = tmp_path / "b"
    write_csv(folder, "sessions", [{**VALID["sessions"], "patient_id": "P404"}])
    # Queue directly (as the CLI does when the store is busy): P404 cannot be checked without it.
    result = importer.queue_batch(base_db, folder, skip_invalid=False)
    assert result.queued_to is not None
    before = snapshot(base_db)
    st = store.open_store(base_db)
    try:
        outcomes = importer.apply_inbox(st)
    finally:
        st.close()
    assert outcomes[0].failed and "Nothing was imported" in outcomes[0].failed
    failed = importer.failed_inbox_batches(base_db)
    assert [b for b, _ in failed] == [result.batch_id]
    report = (store.inbox_dir(base_db) / "failed" / result.batch_id / "rejects.csv").read_text()
    assert "sessions.csv,2,patient_id,P404,refers to patients.patient_id" in report
    assert snapshot(base_db) == before


def test_report_csv_has_every_error():
    errors = [importer.RowError("a.csv", i, "nrs", str(i), "must be a number") for i in range(60)]
    lines = importer.report_csv(errors).splitlines()
    assert lines[0] == "file,line,column,value,rule"
    assert len(lines) == 61


def test_cli_import_of_a_bad_file_exits_non_zero_with_the_report(base_db, tmp_path):
    folder = tmp_path / "b"
    write_csv(folder, "pain_ratings", [{**VALID["pain_ratings"], "nrs": "11"}])
    before = snapshot(base_db)
    proc = subprocess.run(
        [sys.executable, "-m", "dashboard.cli", "import", str(folder), "--db", str(base_db)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 1
    assert "pain_ratings.csv, line 2, column nrs = '11': must be between 0 and 10" in proc.stdout
    assert "The store is unchanged" in proc.stdout
    reports = list(tmp_path.glob("rejects-*.csv"))
    assert len(reports) == 1
    assert "pain_ratings.csv,2,nrs,11,must be between 0 and 10" in reports[0].read_text()
    assert "Traceback" not in proc.stderr
    assert snapshot(base_db) == before


def test_cli_errors_are_one_sentence(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "dashboard.cli", "import", str(tmp_path / "nope"), "--db",
         str(tmp_path / "x.duckdb")],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert proc.returncode == 1
    assert (
        proc.stderr.strip() == f"mdt-dashboard: No file or folder at {tmp_path / 'nope'}. "
        "Check the path and try again."
    )


def test_queue_is_atomic_no_partial_batches_visible(base_db, tmp_path, monkeypatch):
    """A batch being written sits in a hidden .incoming folder; apply_inbox never reads it."""
    inbox = store.inbox_dir(base_db)
    (inbox / ".incoming-x").mkdir(parents=True)
    st = store.open_store(base_db)
    try:
        assert importer.apply_inbox(st) == []
    finally:
        st.close()
    assert os.path.isdir(inbox / ".incoming-x")


def test_inbox_folder_without_a_manifest_is_set_aside_once(base_db, tmp_path):
    stray = store.inbox_dir(base_db) / "copied-by-hand"
    write_csv(stray, "pain_ratings", [VALID["pain_ratings"]])
    before = snapshot(base_db)
    st = store.open_store(base_db)
    try:
        outcomes = importer.apply_inbox(st)
        assert importer.apply_inbox(st) == []  # not retried
    finally:
        st.close()
    assert [o.batch_id for o in outcomes] == ["copied-by-hand"]
    assert "has no readable manifest.json" in outcomes[0].failed
    assert importer.failed_inbox_batches(base_db)[0][0] == "copied-by-hand"
    assert snapshot(base_db) == before
