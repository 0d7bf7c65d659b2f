"""Caseload outcomes for managers: the period and its previous period, the filters, the KPI table
(each share with its n, low-n marked), the patient-level table as shown and exported, and what
`mdt-dashboard caseload` prints. The numbers come from queries/caseload_*.sql; this module only
pairs the two periods and words them."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from dashboard import privacy

DEFAULT_WEEKS = 12
BREAKDOWNS = ("clinician", "site", "condition", "discipline")  # the first: the default
DEFAULT_BY = BREAKDOWNS[0]
PERIOD_WEEKS = (4, 12, 26, 52)
# The page's tabs, the first open when it opens; only the open one runs (its `tab` in the URL).
TABS = ("Breakdowns", "Pain change", "Trends", "Factors", "Flags and barriers", "Patients")
# A share over fewer patients than this is marked low-n (the reporting rule, not a
# clinical threshold): it is shown, but not to be read as a rate.
LOW_N = 5
FORMATS = ("csv", "json")


@dataclass(frozen=True)
class Filters:
    """Which part of the caseload: None means all."""

    sites: tuple[str, ...] | None = None
    clinicians: tuple[str, ...] | None = None
    conditions: tuple[str, ...] | None = None

    def params(self) -> dict:
        return {
            "sites": list(self.sites) if self.sites else None,
            "clinicians": list(self.clinicians) if self.clinicians else None,
            "conditions": list(self.conditions) if self.conditions else None,
        }

    def describe(self) -> str:
        parts = [
            f"{name}: {', '.join(values)}"
            for name, values in (
                ("site", self.sites),
                ("clinician", self.clinicians),
                ("condition", self.conditions),
            )
            if values
        ]
        return "; ".join(parts) or "whole caseload"


@dataclass(frozen=True)
class Period:
    """The period ending on the as-of date (inclusive), and the one of the same length before."""

    as_of: dt.date
    weeks: int

    @property
    def start(self) -> dt.date:
        return self.as_of - dt.timedelta(days=7 * self.weeks - 1)

    @property
    def previous(self) -> Period:
        return Period(self.start - dt.timedelta(days=1), self.weeks)

    def describe(self) -> str:
        return f"{self.start:%d %b %Y} to {self.as_of:%d %b %Y} ({self.weeks} weeks)"


Run = Callable[
    ..., pd.DataFrame
]  # (query name, **params) -> frame: cached on the page, direct in the CLI


def _params(period: Period, filters: Filters) -> dict:
    return {"as_of": period.as_of, "start": period.start, "patient_ids": None, **filters.params()}


def patients(run: Run, period: Period, filters: Filters) -> pd.DataFrame:
    return run("caseload_patients", **_params(period, filters))


def breakdown(run: Run, period: Period, filters: Filters, by: str) -> pd.DataFrame:
    return run("caseload_breakdown", by=by, **_params(period, filters))


def factors(run: Run, period: Period, filters: Filters) -> pd.DataFrame:
    return run("caseload_factors", **_params(period, filters))


def cohort_year(as_of: dt.date) -> Period:
    """The year of monthly cohorts to the as-of date."""
    return Period(as_of, 52)


def default_periods(as_of: dt.date) -> tuple[Period, Period, Period]:
    """The periods the page asks for when it opens: the default one, the one before it (the
    KPIs' comparison) and the year of cohorts."""
    shown = Period(as_of, DEFAULT_WEEKS)
    return shown, shown.previous, cohort_year(as_of)


def opening_calls(period: Period, filters: Filters) -> dict[str, tuple[str, dict]]:
    """The queries the caseload page runs above its tabs (filters, KPIs against the previous
    period, the patient rows every tab but two draws from), with the parameters its parts ask
    them for, so the page can start them at once (components.Prefetch) and the benchmark can
    run them as it does. The patient rows first: the largest answer, and the one the KPIs
    build on when the store does not keep them."""
    return {
        "patients": ("caseload_patients", _params(period, filters)),
        "kpis": ("caseload_kpis", _params(period, filters)),
        "previous_kpis": ("caseload_kpis", _params(period.previous, filters)),
        "options": ("caseload_options", {}),
        "nrs_reference": ("instrument_reference", {"code": "NRS"}),
    }


def tab_calls(period: Period, filters: Filters, tab: str, by: str) -> dict[str, tuple[str, dict]]:
    """The queries of one of the page's tabs (TABS), which runs only while it is open."""
    on_day = {"as_of": period.as_of, **filters.params()}
    return {
        "Breakdowns": {"breakdown": ("caseload_breakdown", dict(_params(period, filters), by=by))},
        "Trends": {
            "cohorts": ("caseload_cohorts", _params(cohort_year(period.as_of), filters)),
            "over_time": ("caseload_over_time", on_day),
        },
        "Factors": {"factors": ("caseload_factors", _params(period, filters))},
        "Flags and barriers": {
            "flags": ("caseload_flags", dict(on_day, patient_ids=None)),
            "barriers": ("caseload_barriers", on_day),
        },
    }.get(tab, {})


def cohorts(run: Run, as_of: dt.date, filters: Filters) -> pd.DataFrame:
    """A year of monthly cohorts to the as-of date."""
    return run("caseload_cohorts", **_params(cohort_year(as_of), filters))


# (key, label, numerator column, n column, what n counts, help); None numerator = a count
KPIS = (
    ("active_patients", "Active patients", None, None, "", "In care on the last day of the period."),
    ("referrals_started", "Referrals started", None, None, "", "Care episodes that started in the period."),
    ("discharges", "Discharges", None, None, "", "Discharged in the period."),
    ("dropouts", "Drop-outs", None, None, "", "Dropped out in the period."),
    ("sessions_delivered", "Sessions delivered", None, None, "", "Sessions attended in the period."),
    ("attendance", "Attendance", "attendance_num", "attendance_n", "sessions",
     "attended / (attended + DNA + patient cancellations), sessions in the period."),
    ("meaningful", "Meaningful pain reduction", "meaningful_num", "outcome_n", "patients",
     "NRS down >= 30% or >= 2 points from baseline (MEASURES.md), among patients in care >= 8 "
     "weeks with a baseline and a current rating."),
    ("substantial", "Substantial pain reduction", "substantial_num", "outcome_n", "patients",
     "NRS down >= 50% from baseline (MEASURES.md), same patients."),
    ("median_change", "Median pain change", None, "outcome_n", "patients",
     "Median % change of NRS from baseline, same patients (negative = less pain)."),
    ("gas_met", "Goals met (GAS T >= 50)", "gas_met_num", "gas_n", "patients",
     "GAS T-score >= 50 at the latest review (MEASURES.md), patients in care with a review."),
    ("adherence", "Home-practice adherence", "adherence_num", "adherence_den", "minutes",
     "Completed / prescribed home-practice minutes in the period."),
    ("completeness", "Data completeness", "completeness_num", "completeness_n", "patients",
     "Active patients with a pain rating in the last 14 days."),
)  # fmt: skip
KPI_HELP = {key: help_text for key, _label, _num, _den, _unit, help_text in KPIS}


def _share(num, den) -> float | None:
    if den is None or pd.isna(den) or den == 0:
        return None
    return round(100.0 * float(num) / float(den), 1)


def _kpi_values(row: dict) -> dict[str, dict]:
    out = {}
    for key, _label, num, den, _unit, _help in KPIS:
        if key == "median_change":
            value = row["median_change_pct"]
            value = None if value is None or pd.isna(value) else float(value)
            n = int(row["outcome_n"])
            out[key] = {"value": value, "numerator": None, "n": n}
        elif num is None:
            value = row[key]
            out[key] = {"value": 0 if value is None or pd.isna(value) else int(value)}
        else:
            n = row["adherence_n"] if key == "adherence" else row[den]
            n = 0 if n is None or pd.isna(n) else int(n)
            numerator = 0 if pd.isna(row[num]) else int(row[num])
            out[key] = {
                "value": _share(numerator, row[den]),
                # minutes over minutes: the n that matters is the patients prescribed practice
                "numerator": None if key == "adherence" else numerator,
                "n": n,
            }
    return out


def kpi_table(current: dict, previous: dict) -> list[dict]:
    """Each KPI: label, value (a count, or a percentage with its numerator and n), the previous
    period's value, the change, whether n is under LOW_N, and what it means."""
    now, before = _kpi_values(current), _kpi_values(previous)
    rows = []
    for key, label, num, _den, unit, help_text in KPIS:
        a, b = now[key], before[key]
        change = None
        if a["value"] is not None and b["value"] is not None:
            change = round(a["value"] - b["value"], 1)
        entry = {
            "kpi": key,
            "label": label,
            "value": a["value"],
            "unit": "%" if (num is not None or key == "median_change") else "",
            "previous": b["value"],
            "change": change,
            "help": help_text,
        }
        if "n" in a:
            entry |= {
                "numerator": a.get("numerator"),
                "n": a["n"],
                "n_counts": "patients" if key == "adherence" else unit,
                "previous_n": b["n"],
                "low_n": a["n"] < LOW_N,
            }
        rows.append(entry)
    return rows


def kpis(run: Run, period: Period, filters: Filters) -> list[dict]:
    current = run("caseload_kpis", **_params(period, filters)).iloc[0].to_dict()
    previous = run("caseload_kpis", **_params(period.previous, filters)).iloc[0].to_dict()
    return kpi_table(current, previous)


TABLE_COLUMNS = (
    "patient_id", "name", "site", "condition", "primary_clinician", "discipline", "status",
    "start_date", "weeks_in_care", "baseline_nrs", "current_nrs", "change_points", "change_pct",
    "pain_response", "gas_t", "attendance_pct", "adherence_pct", "rated_last_14_days",
    "open_barriers", "sleep_quality_change", "caregiver_involvement",
)  # fmt: skip


def patient_table(df: pd.DataFrame, privacy_mode: bool) -> pd.DataFrame:
    """The patient-level table as shown and exported: 'patient' is the name and id, or the
    alias in privacy mode; nothing private is left in privacy mode."""
    table = privacy.mask_frame(df[list(TABLE_COLUMNS)], privacy_mode)
    table["start_date"] = pd.to_datetime(table["start_date"]).dt.date
    return table


def to_csv(table: pd.DataFrame) -> bytes:
    return table.to_csv(index=False).encode("utf-8")


def document(run: Run, period: Period, filters: Filters, privacy_mode: bool, fmt: str) -> bytes:
    """What `mdt-dashboard caseload` prints: the KPIs and the patient-level table, as JSON, or as
    CSV (the KPI table, a blank line, then the patient table)."""
    kpi_rows = kpis(run, period, filters)
    table = patient_table(patients(run, period, filters), privacy_mode)
    if fmt == "json":
        payload = {
            "as_of": period.as_of.isoformat(),
            "period_start": period.start.isoformat(),
            "previous_period_start": period.previous.start.isoformat(),
            "filters": filters.params(),
            "privacy_mode": privacy_mode,
            "low_n_below": LOW_N,
            "kpis": kpi_rows,
            "patients": json.loads(table.to_json(orient="records", date_format="iso")),
        }
        return json.dumps(payload, indent=2, ensure_ascii=False).encode("utf-8")
    if fmt == "csv":
        out = io.StringIO()
        columns = ["kpi", "label", "value", "unit", "numerator", "n", "n_counts", "low_n",
                   "previous", "previous_n", "change"]  # fmt: skip
        pd.DataFrame(kpi_rows, dtype=object).reindex(columns=columns).to_csv(out, index=False)
        out.write("\n")
        table.to_csv(out, index=False)
        return out.getvalue().encode("utf-8")
    raise ValueError(f"The caseload comes as {', '.join(FORMATS)}, not {fmt!r}.")


def file_name(as_of: dt.date, privacy_mode: bool) -> str:
    return f"caseload-{as_of.isoformat()}{'-private' if privacy_mode else ''}.csv"
