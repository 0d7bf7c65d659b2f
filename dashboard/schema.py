"""The tables of shared/DATA_MODEL.md, declared once.

This one declaration drives the store's DDL (`ddl()`), the importer's validation rules
(dashboard/importer.py reads the column attributes) and the generated data dictionary
(`data_dictionary_markdown()`). Change a table here and all three follow.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# Column kinds and the DuckDB type each is stored as.
SQL_TYPES = {
    "id": "VARCHAR",
    "text": "VARCHAR",
    "enum": "VARCHAR",
    "list": "VARCHAR[]",
    "int": "INTEGER",
    "float": "DOUBLE",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "bool": "BOOLEAN",
}


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    required: bool = False
    description: str = ""
    values: tuple[str, ...] = ()  # allowed values for enum and list kinds
    min: float | None = None
    max: float | str | None = None  # "current_year" for birth years
    min_exclusive: bool = False
    default: str | None = None
    ref: str | None = None  # "table.column" that must hold this value
    not_before: str | None = None  # another column of the row this one must be >= to
    range_by: tuple[str, dict[str, tuple[float, float]]] | None = None  # range depends on a column
    instrument_range: bool = False  # total must lie in the instrument's range (reference table)
    only_for: tuple[str, str] | None = None  # (column, value): allowed only on such rows
    private: bool = False  # hidden in privacy mode

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.kind]


@dataclass(frozen=True)
class Table:
    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    description: str
    group: str
    # Tables an import must load first so references resolve within one batch.
    order: int = 50

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def C(name: str, kind: str, **kw) -> Column:  # noqa: N802 - reads like the data model
    return Column(name, kind, **kw)


DISCIPLINES = ("PT", "OT", "PSY", "MED", "NURSE", "SW", "OTHER")
QUALITIES = (
    "burning",
    "shooting",
    "electric",
    "tingling",
    "stabbing",
    "aching",
    "numbness",
    "cold",
    "itching",
)
MODALITIES = (
    "light_touch",
    "soft_texture",
    "rough_texture",
    "pressure",
    "vibration",
    "temperature",
)
PATIENT = dict(ref="patients.patient_id")
SESSION = dict(ref="sessions.session_id")
CLINICIAN = dict(ref="clinicians.clinician_id")

IMPORT_TABLES: tuple[Table, ...] = (
    Table(
        "clinicians",
        ("clinician_id",),
        (
            C("clinician_id", "id", required=True),
            C("name", "text", required=True, description="Display name"),
            C("discipline", "enum", required=True, values=DISCIPLINES),
            C("site", "text"),
            C("email", "text"),
            C("role", "enum", values=("clinician", "lead", "manager"), default="clinician"),
        ),
        "Members of the team.",
        "Reference data",
        order=1,
    ),
    Table(
        "patients",
        ("patient_id",),
        (
            C("patient_id", "id", required=True, description="Pseudonymous key used everywhere"),
            C("mrn", "text", private=True, description="Medical record number"),
            C("name", "text", required=True, private=True),
            C("birth_year", "int", min=1900, max="current_year", private=True),
            C("sex", "enum", values=("F", "M", "X", "U")),
            C("condition", "text", required=True),
            C("condition_code", "text", description="SNOMED CT or ICD-10"),
            C("affected_region", "text"),
            C("side", "enum", values=("L", "R", "bilateral", "NA")),
            C("site", "text"),
            C("primary_clinician_id", "id", **CLINICIAN),
            C("referral_date", "date"),
            C("start_date", "date", required=True, description="Start of the episode of care"),
            C("discharge_date", "date", not_before="start_date"),
            C(
                "status",
                "enum",
                required=True,
                values=("active", "discharged", "on_hold", "dropped_out"),
            ),
            C("review_interval_days", "int", min=7, max=180, default="28"),
            C(
                "deceased_date",
                "date",
                private=True,
                description="Date of death where the record has one (FHIR Patient.deceased); "
                "data dated after it is listed on the Data page",
            ),
        ),
        "One row per patient and episode of care.",
        "Reference data",
        order=2,
    ),
    Table(
        "sessions",
        ("session_id",),
        (
            C("session_id", "id", required=True),
            C("patient_id", "id", required=True, **PATIENT),
            C("clinician_id", "id", **CLINICIAN),
            C("ts", "timestamp", required=True),
            C("duration_min", "int", min=1, max=480),
            C("mode", "enum", values=("in_person", "tele", "group")),
            C(
                "status",
                "enum",
                required=True,
                values=("attended", "dna", "cancelled_patient", "cancelled_clinic"),
            ),
            C("caregiver_present", "bool"),
            C("notes", "text", private=True, description="Free text; hidden in privacy mode"),
        ),
        "Therapy sessions, booked and attended or not.",
        "Session logs",
        order=3,
    ),
    Table(
        "pain_ratings",
        ("patient_id", "ts", "context"),
        (
            C("patient_id", "id", required=True, **PATIENT),
            C("ts", "timestamp", required=True),
            C("nrs", "float", required=True, min=0, max=10, description="0..10, decimals allowed"),
            C("context", "enum", values=("now", "avg_24h", "worst_24h"), default="now"),
            C(
                "source",
                "enum",
                values=("session", "diary", "phone", "import"),
                default="diary",
            ),
            C("session_id", "id", **SESSION),
            C("body_site", "text"),
            C("qualities", "list", values=QUALITIES, description="';'-separated"),
            C("interference", "float", min=0, max=10),
            C("triggers", "text"),
        ),
        "Pain intensity ratings (NRS) from diaries, sessions and phone calls.",
        "Session logs",
        order=10,
    ),
    Table(
        "assessments",
        ("patient_id", "date", "instrument"),
        (
            C("patient_id", "id", required=True, **PATIENT),
            C("date", "date", required=True),
            C(
                "instrument",
                "id",
                required=True,
                ref="instruments.code",
                description="A code in the instrument reference",
            ),
            C(
                "total",
                "float",
                required=True,
                instrument_range=True,
                description="Within the instrument's range",
            ),
            C(
                "item9",
                "int",
                min=0,
                max=3,
                only_for=("instrument", "PHQ9"),
                private=True,
                description="PHQ-9 only: the self-harm item",
            ),
            C(
                "respondent",
                "enum",
                values=("patient", "caregiver", "clinician"),
                default="patient",
            ),
        ),
        "Questionnaire totals (PHQ-9, PCS, PSEQ, ISI ...).",
        "Session logs",
        order=10,
    ),
    Table(
        "desensitization",
        ("session_id", "modality"),
        (
            C("session_id", "id", required=True, **SESSION),
            C("patient_id", "id", required=True, **PATIENT),
            C("date", "date", required=True),
            C("modality", "enum", required=True, values=MODALITIES),
            C("level", "int", required=True, min=1, max=10, description="Step on the ladder"),
            C("duration_s", "int", min=0, max=1800),
            C("distress", "float", min=0, max=10),
            C("tolerated", "bool"),
            C("allodynia_area_cm2", "float", min=0, max=2000),
            C("relaxation_used", "bool"),
            C("home_program", "bool"),
        ),
        "Graded desensitization exposures per session and modality.",
        "Session logs",
        order=10,
    ),
    Table(
        "functional_tasks",
        ("session_id", "task"),
        (
            C("session_id", "id", required=True, **SESSION),
            C("patient_id", "id", required=True, **PATIENT),
            C("date", "date", required=True),
            C("task", "text", required=True),
            C("domain", "enum", values=("self_care", "household", "work", "leisure", "mobility")),
            C("level", "int", min=1, max=10),
            C("completion_time_s", "float", min=0, max=7200, description="Lower is better"),
            C("reps", "int", min=0, max=1000),
            C("microbreaks", "int", min=0, max=100),
            C("pain_before", "float", min=0, max=10),
            C("pain_after", "float", min=0, max=10),
            C("completed", "bool"),
        ),
        "Graded functional tasks practised in sessions.",
        "Session logs",
        order=10,
    ),
    Table(
        "objective_measures",
        ("patient_id", "date", "measure", "side", "joint", "movement"),
        (
            C("patient_id", "id", required=True, **PATIENT),
            C("date", "date", required=True),
            C("session_id", "id", **SESSION),
            C("measure", "enum", required=True, values=("grip", "pinch", "rom")),
            C("side", "enum", values=("L", "R")),
            C("joint", "text"),
            C("movement", "text"),
            C(
                "value",
                "float",
                required=True,
                range_by=("measure", {"grip": (0, 100), "pinch": (0, 100), "rom": (-30, 180)}),
                description="grip/pinch kg 0..100, rom degrees -30..180",
            ),
            C("unit", "enum", values=("kg", "deg")),
            C("affected", "bool"),
        ),
        "Grip and pinch strength, range of motion.",
        "Session logs",
        order=10,
    ),
    Table(
        "sleep_diary",
        ("patient_id", "date"),
        (
            C("patient_id", "id", required=True, **PATIENT),
            C("date", "date", required=True, description="The night that starts on this date"),
            C("total_sleep_min", "int", min=0, max=1440),
            C("time_in_bed_min", "int", min=0, max=1440, not_before="total_sleep_min"),
            C("quality", "float", min=0, max=10),
            C("awakenings_pain", "int", min=0, max=50),
        ),
        "Nightly sleep diary.",
        "Session logs",
        order=10,
    ),
    Table(
        "home_practice",
        ("patient_id", "date", "activity"),
        (
            C("patient_id", "id", required=True, **PATIENT),
            C("date", "date", required=True),
            C(
                "activity",
                "enum",
                required=True,
                values=("desensitization", "graded_task", "relaxation", "education", "exercise"),
            ),
            C("prescribed_min", "int", min=0, max=300),
            C("completed_min", "int", min=0, max=300),
            C("caregiver_assisted", "bool"),
        ),
        "Home practice prescribed and completed, per day and activity.",
        "Session logs",
        order=10,
    ),
    Table(
        "medications",
        ("patient_id", "drug", "start_date"),
        (
            C("patient_id", "id", required=True, **PATIENT),
            C("drug", "text", required=True),
            C(
                "drug_class",
                "enum",
                values=("gabapentinoid", "snri", "tca", "opioid", "topical", "nsaid", "other"),
            ),
            C("start_date", "date", required=True),
            C("stop_date", "date", not_before="start_date"),
            C("daily_dose", "float", min=0, min_exclusive=True),
            C("unit", "enum", values=("mg", "mcg", "mcg/h", "patch")),
            C("change", "enum", values=("start", "increase", "decrease", "stop", "no_change")),
            C("ome_mg_day", "float", min=0, max=2000, description="Oral morphine equivalent"),
            C("side_effects", "text"),
        ),
        "Medication starts, titrations and stops.",
        "Session logs",
        order=10,
    ),
    Table(
        "goals",
        ("goal_id",),
        (
            C("goal_id", "id", required=True),
            C("patient_id", "id", required=True, **PATIENT),
            C(
                "domain",
                "enum",
                required=True,
                values=(
                    "desensitization",
                    "function",
                    "work",
                    "mood",
                    "sleep",
                    "social",
                    "pain",
                    "self_management",
                ),
            ),
            C("description", "text", required=True),
            C("baseline", "int", min=-2, max=-1, default="-1"),
            C("importance", "int", min=0, max=3),
            C("difficulty", "int", min=0, max=3),
            C("set_date", "date", required=True),
            C("target_date", "date"),
        ),
        "Goals set with the patient (Goal Attainment Scaling).",
        "Session logs",
        order=10,
    ),
    Table(
        "goal_reviews",
        ("goal_id", "date"),
        (
            C("goal_id", "id", required=True, ref="goals.goal_id"),
            C("date", "date", required=True),
            C("attainment", "int", required=True, min=-2, max=2, description="GAS -2..+2"),
            C("note", "text", private=True),
        ),
        "Goal Attainment Scaling reviews.",
        "Session logs",
        order=20,
    ),
    Table(
        "milestones",
        ("milestone_id",),
        (
            C("milestone_id", "id", required=True),
            C("patient_id", "id", required=True, **PATIENT),
            C("goal_id", "id", ref="goals.goal_id"),
            C("description", "text", required=True),
            C("due_date", "date"),
            C("achieved_date", "date"),
        ),
        "Milestones towards goals.",
        "Session logs",
        order=20,
    ),
    Table(
        "social_support",
        ("patient_id", "date"),
        (
            C("patient_id", "id", required=True, **PATIENT),
            C("date", "date", required=True),
            C("caregiver_involvement", "enum", values=("none", "occasional", "regular")),
            C("peer_group_sessions", "int", min=0, max=31, description="In the past 4 weeks"),
            C(
                "work_status",
                "enum",
                values=("full", "modified", "off_work", "unemployed", "retired", "student"),
            ),
            C("accommodation", "enum", values=("none", "requested", "in_place")),
            C("mspss", "float", min=1, max=7),
            C("caregiver_burden_zbi12", "float", min=0, max=48),
        ),
        "Social support, work and caregiver burden.",
        "Session logs",
        order=10,
    ),
    Table(
        "barriers",
        ("barrier_id",),
        (
            C("barrier_id", "id", required=True),
            C("patient_id", "id", required=True, **PATIENT),
            C(
                "kind",
                "enum",
                required=True,
                values=(
                    "transport",
                    "cost",
                    "work_schedule",
                    "workplace_accommodation",
                    "caregiver_burnout",
                    "stigma",
                    "housing",
                    "language",
                    "digital_access",
                    "other",
                ),
            ),
            C("opened", "date", required=True),
            C("closed", "date", not_before="opened"),
            C("owner_clinician_id", "id", **CLINICIAN),
            C("action", "text"),
        ),
        "Barriers to care and what is being done about them.",
        "Session logs",
        order=10,
    ),
    Table(
        "adaptations",
        ("adaptation_id",),
        (
            C("adaptation_id", "id", required=True),
            C("patient_id", "id", required=True, **PATIENT),
            C("setting", "enum", required=True, values=("home", "work", "community")),
            C(
                "kind",
                "enum",
                required=True,
                values=(
                    "ergonomic",
                    "adaptive_equipment",
                    "task_modification",
                    "trigger_reduction",
                    "other",
                ),
            ),
            C("description", "text", required=True),
            C("recommended_date", "date", required=True),
            C("in_place_date", "date", not_before="recommended_date"),
            C("effect", "enum", values=("helped", "no_change", "worse", "unknown")),
            C("note", "text", private=True),
        ),
        "Environmental adaptations at home, work and in the community.",
        "Session logs",
        order=10,
    ),
    Table(
        "education",
        ("session_id", "topic"),
        (
            C("session_id", "id", required=True, **SESSION),
            C("patient_id", "id", required=True, **PATIENT),
            C("date", "date", required=True),
            C("topic", "text", required=True),
            C("teach_back", "enum", required=True, values=("correct", "partial", "incorrect")),
            C("caregiver_present", "bool"),
        ),
        "Pain education with teach-back.",
        "Session logs",
        order=10,
    ),
    Table(
        "events",
        ("patient_id", "ts", "kind"),
        (
            C("patient_id", "id", required=True, **PATIENT),
            C("ts", "timestamp", required=True),
            C(
                "kind",
                "enum",
                required=True,
                values=("flare", "life_event", "procedure", "medication", "other"),
            ),
            C("text", "text", private=True, description="Hidden in privacy mode"),
        ),
        "Flares, procedures and life events.",
        "Session logs",
        order=10,
    ),
    Table(
        "conditions",
        ("condition_id",),
        (
            C("condition_id", "id", required=True),
            C("patient_id", "id", required=True, **PATIENT),
            C("code", "text", description="SNOMED CT or ICD-10 code"),
            C("system", "text", description="The code system (a URI, or SNOMED CT / ICD-10)"),
            C("display", "text", required=True, description="The condition in words"),
            C("onset_date", "date"),
            C("abatement_date", "date", not_before="onset_date"),
            C(
                "pain_relevant",
                "bool",
                description="A pain condition (neuropathy, neuralgia, CRPS, chronic pain, "
                "fibromyalgia, migraine ...)",
            ),
        ),
        "Every recorded condition of a patient, for display (patients.condition is the one the "
        "episode of care is for).",
        "Session logs",
        order=10,
    ),
)

TABLES: dict[str, Table] = {t.name: t for t in IMPORT_TABLES}

# Tables the app itself writes. Declared here too so the DDL and dictionary stay in one place.
APP_TABLES: tuple[Table, ...] = (
    Table(
        "instruments",
        ("code",),
        (
            C("code", "id", required=True),
            C("name", "text", required=True),
            C("domain", "text"),
            C("range_min", "float"),
            C("range_max", "float"),
            C("direction", "enum", values=("higher_worse", "higher_better")),
            C("unit", "text"),
            C("bands", "text", description="JSON list of {min, max, label}"),
            C("meaningful_change", "float", description="Points, in the instrument's unit"),
            C("meaningful_change_pct", "float", description="Percent of baseline, where defined"),
            C("substantial_change_pct", "float"),
            C("meaningful_change_text", "text"),
            C("loinc", "text"),
            C("source", "text", required=True),
        ),
        "The clinical reference (shared/MEASURES.md): ranges, bands, meaningful change, sources.",
        "Written by the app",
    ),
    Table(
        "flag_rules",
        ("code",),
        (
            C("code", "id", required=True),
            C("name", "text", required=True),
            C("level", "enum", required=True, values=("urgent", "review", "info")),
            C("rule", "text", required=True, description="The rule in words"),
            C("params", "text", required=True, description="JSON: the numbers the rule uses"),
            C("source", "text", required=True),
        ),
        "The flag rules of shared/MEASURES.md with their thresholds; a team may tune them.",
        "Written by the app",
    ),
    Table(
        "import_batches",
        ("batch_id",),
        (
            C("batch_id", "id", required=True),
            C("started_at", "timestamp", required=True),
            C("finished_at", "timestamp"),
            C("source", "text", required=True, description="File or folder imported"),
            C("files", "text", description="Files in the batch"),
            C("checksum", "text", description="SHA-256 over the batch's files"),
            C("via", "enum", values=("cli", "upload", "inbox", "demo")),
            C("rows_accepted", "int"),
            C("rows_rejected", "int"),
            C("status", "enum", values=("applied", "failed")),
            C("message", "text"),
        ),
        "Every import: when, what, how many rows accepted and rejected.",
        "Written by the app",
    ),
    Table(
        "audit_log",
        ("ts", "actor", "action"),
        (
            C("ts", "timestamp", required=True),
            C("actor", "text", required=True),
            C("action", "text", required=True),
            C("patient_id", "id"),
            C("detail", "text"),
        ),
        "Who viewed or exported which patient, when; privacy-mode changes.",
        "Written by the app",
    ),
    Table(
        "review_meetings",
        ("meeting_id",),
        (
            C("meeting_id", "id", required=True, description="The meeting day, 2026-11-20"),
            C("meeting_date", "date", required=True, description="The as-of date of its agenda"),
            C("attendees", "list", description="clinician_ids of those present"),
            C("minutes_per_patient", "int", min=1, max=60, description="Planned time a patient"),
            C("created_at", "timestamp", required=True),
            C("started_at", "timestamp", description="When the agenda was fixed (presenting)"),
            C("updated_at", "timestamp"),
        ),
        "One weekly MDT meeting: the day, who attended, the planned minutes per patient.",
        "Written by the app",
    ),
    Table(
        "review_items",
        ("item_id",),
        (
            C("item_id", "id", required=True),
            C("meeting_id", "id", required=True, ref="review_meetings.meeting_id"),
            C("patient_id", "id", required=True, ref="patients.patient_id"),
            C(
                "kind",
                "enum",
                required=True,
                values=("agenda", "added", "discussed", "note", "action", "reviewed"),
                description="agenda: the order fixed at the start; added: put on by hand; "
                "discussed: time spent; note: a decision; action: an action item; "
                "reviewed: marked reviewed (sets the last review date)",
            ),
            C("position", "int", description="Place in the agenda (agenda rows)"),
            C("reason", "text", description="Why on the agenda (agenda and added rows)"),
            C("note", "text", private=True, description="Decision note; hidden in privacy mode"),
            C("action", "text", description="What is to be done (action rows)"),
            C("owner_clinician_id", "id", ref="clinicians.clinician_id"),
            C("due_date", "date"),
            C("status", "enum", values=("open", "done", "cancelled")),
            C("seconds", "int", min=0, description="Time spent on the patient (discussed rows)"),
            C("created_at", "timestamp", required=True),
            C("created_by", "text"),
            C("updated_at", "timestamp"),
            C("updated_by", "text"),
            C("version", "int", required=True, description="Bumped on every change of the row"),
        ),
        "What the meeting did per patient: the agenda as reviewed, decisions, action items "
        "with owner, due date and status, and 'marked reviewed'.",
        "Written by the app",
    ),
)


# Tables the store keeps in step with the imported rows (store.refresh_derived, inside every
# import's transaction): per patient-day summaries, so caseload-wide queries read one row per
# patient-day, ordered by patient and day, instead of grouping every rating on every page view;
# and each patient's end of care, so every page counts "in care" by one rule on any as-of date.
DERIVED_TABLES: tuple[Table, ...] = (
    Table(
        "pain_daily",
        ("patient_id", "day"),
        (
            C("patient_id", "id", required=True, **PATIENT),
            C("day", "date", required=True, description="The rating's date (UTC)"),
            C("care_day", "int", description="Days since the patient's start of care (0 = start)"),
            C(
                "nrs",
                "float",
                description="Mean of the day's `now` and `avg_24h` ratings (MEASURES.md)",
            ),
            C("ratings", "int", required=True, description="Ratings that day, any context"),
        ),
        "One row per patient and day with a pain rating: the day's pain intensity.",
        "Kept by the store",
    ),
    Table(
        "practice_daily",
        ("patient_id", "day"),
        (
            C("patient_id", "id", required=True, **PATIENT),
            C("day", "date", required=True),
            C("prescribed_min", "int", required=True),
            C(
                "completed_min",
                "int",
                required=True,
                description="Missing completed minutes count as 0",
            ),
        ),
        "One row per patient and day with prescribed home practice: the day's minutes.",
        "Kept by the store",
    ),
    Table(
        "care_ends",
        ("patient_id",),
        (
            C("patient_id", "id", required=True, **PATIENT),
            C(
                "end_of_care",
                "date",
                description="The discharge date; else, for a patient discharged or dropped out "
                "without one, their last attended session or pain rating (the start of care if "
                "there is none); empty while care goes on",
            ),
        ),
        "One row per patient: the day their care ended. A patient is in care on a day when "
        "care has started by then and has not ended by then (end_of_care empty or after it): "
        "the one rule every page counts by, on any as-of date.",
        "Kept by the store",
    ),
)

ALL_TABLES: dict[str, Table] = {t.name: t for t in (*IMPORT_TABLES, *APP_TABLES, *DERIVED_TABLES)}


def current_year() -> int:
    return dt.date.today().year


def import_order() -> list[Table]:
    """Import tables in the order that lets references resolve within one batch."""
    return sorted(IMPORT_TABLES, key=lambda t: t.order)


def create_table_sql(table: Table) -> str:
    cols = ",\n    ".join(
        f"{c.name} {c.sql_type}{' NOT NULL' if c.required else ''}" for c in table.columns
    )
    return f"CREATE TABLE IF NOT EXISTS {table.name} (\n    {cols}\n)"


def ddl() -> list[str]:
    """CREATE TABLE statements for every table of the store."""
    return [create_table_sql(t) for t in (*IMPORT_TABLES, *APP_TABLES, *DERIVED_TABLES)]


def _rules_text(c: Column) -> str:
    parts: list[str] = []
    if c.required:
        parts.append("required")
    if c.kind in ("enum", "list") and c.values:
        prefix = "list of " if c.kind == "list" else "one of "
        parts.append(prefix + ", ".join(c.values))
    if c.min is not None or c.max is not None:
        hi = "current year" if c.max == "current_year" else _num(c.max)
        if c.min_exclusive:
            parts.append(f"> {_num(c.min)}")
        else:
            parts.append(f"{_num(c.min)}..{hi}")
    if c.range_by:
        col, ranges = c.range_by
        parts.append(
            "range by "
            + col
            + ": "
            + ", ".join(f"{k} {lo}..{hi}" for k, (lo, hi) in ranges.items())
        )
    if c.instrument_range:
        parts.append("within the instrument's range")
    if c.only_for:
        parts.append(f"only when {c.only_for[0]} = {c.only_for[1]}")
    if c.not_before:
        parts.append(f">= {c.not_before}")
    if c.ref:
        parts.append(f"-> {c.ref}")
    if c.default is not None:
        parts.append(f"default {c.default}")
    if c.private:
        parts.append("hidden in privacy mode")
    return "; ".join(parts)


def _num(v: float | str | None) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def data_dictionary_markdown(top_level: int = 1) -> str:
    """The data dictionary, generated from this declaration.

    `top_level` is the Markdown heading level of its title (1 for docs/, deeper inside a page).
    """
    h1, h2, h3 = ("#" * (top_level + i) for i in range(3))
    kind_help = {
        "id": "identifier (text)",
        "text": "text",
        "enum": "text, one of a list",
        "list": "';'-separated list",
        "int": "whole number",
        "float": "number",
        "date": "date (YYYY-MM-DD)",
        "timestamp": "timestamp (ISO 8601; UTC when an offset is given)",
        "bool": "true/false, 1/0, yes/no",
    }
    lines = [
        f"{h1} Data dictionary",
        "",
        "Generated from `dashboard/schema.py` by `mdt-dashboard dictionary`; do not edit by hand.",
        "An import is a folder (or one file) of CSV or Parquet files named after the table",
        "(`sessions.csv`, `pain_ratings.parquet`). Re-importing a row with the same key replaces it.",
        "",
    ]
    group = None
    for t in (*import_order(), *APP_TABLES, *DERIVED_TABLES):
        if t.group != group:
            group = t.group
            lines += [f"{h2} {group}", ""]
        lines += [
            f"{h3} {t.name}",
            "",
            f"{t.description} Key: ({', '.join(t.key)}).",
            "",
            "| column | type | rules | description |",
            "|---|---|---|---|",
        ]
        for c in t.columns:
            lines.append(f"| {c.name} | {kind_help[c.kind]} | {_rules_text(c)} | {c.description} |")
        lines.append("")
    from dashboard import fhir  # fhir reads this module's tables

    lines += [fhir.mapping_markdown().replace("## ", f"{h2} ", 1), ""]
    return "\n".join(lines).rstrip("\n")
