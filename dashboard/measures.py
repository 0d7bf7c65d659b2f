"""The clinical reference of shared/MEASURES.md: instruments, ranges, bands, meaningful change.

These rows are the shipped defaults. They are seeded into the store's `instruments` table (see
store.py), and pages and queries read them from there, so a team can tune them in one place.
Nothing else in the code base holds a threshold of its own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

HIGHER_WORSE = "higher_worse"
HIGHER_BETTER = "higher_better"


@dataclass(frozen=True)
class Instrument:
    code: str
    name: str
    domain: str
    range_min: float | None
    range_max: float | None
    direction: str | None
    source: str
    unit: str = "points"
    bands: tuple[tuple[float | None, float | None, str], ...] = ()
    meaningful_change: float | None = None
    meaningful_change_pct: float | None = None
    substantial_change_pct: float | None = None
    meaningful_change_text: str = ""
    loinc: str | None = None

    def bands_json(self) -> str:
        return json.dumps([{"min": lo, "max": hi, "label": label} for lo, hi, label in self.bands])


INSTRUMENTS: tuple[Instrument, ...] = (
    # Pain
    Instrument(
        "NRS",
        "Pain intensity, numeric rating scale",
        "pain",
        0,
        10,
        HIGHER_WORSE,
        "Farrar et al., Pain 2001;94:149; Dworkin et al. (IMMPACT), J Pain 2008;9:105",
        bands=((0, 0, "none"), (1, 3, "mild"), (4, 6, "moderate"), (7, 10, "severe")),
        meaningful_change=2,
        meaningful_change_pct=30,
        substantial_change_pct=50,
        meaningful_change_text=(
            "reduction of >= 2 points or >= 30% from baseline = meaningful; >= 50% = substantial;"
            " 10-20% = minimal"
        ),
        loinc="72514-3",
    ),
    Instrument(
        "BPI_INT",
        "Brief Pain Inventory interference (mean of 7)",
        "pain",
        0,
        10,
        HIGHER_WORSE,
        "Dworkin et al. (IMMPACT), J Pain 2008;9:105",
        meaningful_change=1,
        meaningful_change_text=">= 1 point",
    ),
    Instrument(
        "PGIC",
        "Patient global impression of change",
        "pain",
        1,
        7,
        None,
        "Farrar et al., Pain 2001;94:149",
        bands=((1, 2, "responder"),),
        meaningful_change_text="1 very much improved .. 7 very much worse; 1-2 = responder",
    ),
    Instrument(
        "DN4",
        "Douleur Neuropathique 4 (neuropathic screen)",
        "screening",
        0,
        10,
        HIGHER_WORSE,
        "Bouhassira et al., Pain 2005",
        bands=((4, 10, "neuropathic likely"),),
        meaningful_change_text="screening only",
    ),
    Instrument(
        "LANSS",
        "Leeds Assessment of Neuropathic Symptoms and Signs",
        "screening",
        0,
        24,
        HIGHER_WORSE,
        "Bennett, Pain 2001",
        bands=((12, 24, "neuropathic likely"),),
        meaningful_change_text="screening only",
    ),
    Instrument(
        "PAINDETECT",
        "painDETECT (neuropathic screen)",
        "screening",
        -1,
        38,
        HIGHER_WORSE,
        "Freynhagen et al., Curr Med Res Opin 2006",
        bands=((-1, 12, "unlikely"), (13, 18, "uncertain"), (19, 38, "likely")),
        meaningful_change_text="screening only",
    ),
    # Psychological and sleep
    Instrument(
        "PCS",
        "Pain Catastrophizing Scale",
        "psychological",
        0,
        52,
        HIGHER_WORSE,
        "Sullivan et al., Psychol Assess 1995",
        bands=((30, 52, "clinically relevant"),),
        meaningful_change_text="tunable; no default",
    ),
    Instrument(
        "PSEQ",
        "Pain Self-Efficacy Questionnaire",
        "psychological",
        0,
        60,
        HIGHER_BETTER,
        "Nicholas, Eur J Pain 2007",
        bands=((0, 19, "severe (low self-efficacy)"),),
        meaningful_change=11,
        meaningful_change_text="11 points",
    ),
    Instrument(
        "TSK11",
        "Tampa Scale of Kinesiophobia, 11 items",
        "psychological",
        11,
        44,
        HIGHER_WORSE,
        "Woby et al., Pain 2005",
        bands=((11, 22, "minimal"), (23, 28, "low"), (29, 35, "moderate"), (36, 44, "high")),
        meaningful_change=4,
        meaningful_change_text="4 points",
    ),
    Instrument(
        "PHQ9",
        "Patient Health Questionnaire-9 (depression)",
        "psychological",
        0,
        27,
        HIGHER_WORSE,
        "Kroenke et al., J Gen Intern Med 2001",
        bands=(
            (0, 4, "minimal"),
            (5, 9, "mild"),
            (10, 14, "moderate"),
            (15, 19, "moderately severe"),
            (20, 27, "severe"),
        ),
        meaningful_change=5,
        meaningful_change_text="5 points; item 9 > 0 is an urgent safety flag",
        loinc="44261-6",
    ),
    Instrument(
        "GAD7",
        "Generalized Anxiety Disorder-7",
        "psychological",
        0,
        21,
        HIGHER_WORSE,
        "Spitzer et al., Arch Intern Med 2006",
        bands=((0, 4, "minimal"), (5, 9, "mild"), (10, 14, "moderate"), (15, 21, "severe")),
        meaningful_change=4,
        meaningful_change_text="4 points (tunable)",
        loinc="70274-6",
    ),
    Instrument(
        "ISI",
        "Insomnia Severity Index",
        "sleep",
        0,
        28,
        HIGHER_WORSE,
        "Morin et al., Sleep 2011",
        bands=((0, 7, "none"), (8, 14, "subthreshold"), (15, 21, "moderate"), (22, 28, "severe")),
        meaningful_change=6,
        meaningful_change_text="6 points",
    ),
    Instrument(
        "PSQI",
        "Pittsburgh Sleep Quality Index",
        "sleep",
        0,
        21,
        HIGHER_WORSE,
        "Buysse et al., Psychiatry Res 1989",
        bands=((6, 21, "poor sleep"),),
        meaningful_change=3,
        meaningful_change_text="3 points (tunable)",
    ),
    Instrument(
        "NPQ",
        "Neurophysiology of Pain Questionnaire (revised)",
        "education",
        0,
        13,
        HIGHER_BETTER,
        "Catley et al., J Pain 2013",
    ),
    # Function, goals, objective measures
    Instrument(
        "PSFS",
        "Patient-Specific Functional Scale (mean of activities)",
        "function",
        0,
        10,
        HIGHER_BETTER,
        "Stratford et al., Physiother Can 1995; Abbott & Schmitt, JOSPT 2014",
        meaningful_change=2,
        meaningful_change_text="2 points (mean), 3 (single activity)",
    ),
    Instrument(
        "COPM_PERF",
        "Canadian Occupational Performance Measure: performance",
        "function",
        1,
        10,
        HIGHER_BETTER,
        "COPM manual",
        meaningful_change=2,
        meaningful_change_text="2 points",
    ),
    Instrument(
        "COPM_SAT",
        "Canadian Occupational Performance Measure: satisfaction",
        "function",
        1,
        10,
        HIGHER_BETTER,
        "COPM manual",
        meaningful_change=2,
        meaningful_change_text="2 points",
    ),
    Instrument(
        "GAS",
        "Goal Attainment Scaling (per goal; T-score over goals)",
        "goals",
        -2,
        2,
        HIGHER_BETTER,
        "Kiresuk & Sherman 1968; Turner-Stokes, Clin Rehabil 2009",
        bands=((50, None, "goals met as expected (T-score)"),),
        meaningful_change_text=(
            "T = 50 + 10*sum(w*x) / sqrt(0.7*sum(w^2) + 0.3*(sum w)^2),"
            " w = importance*difficulty (1 when not given); T >= 50 = met as expected"
        ),
    ),
    Instrument(
        "GRIP",
        "Grip strength, dynamometer",
        "objective",
        0,
        100,
        HIGHER_BETTER,
        "Bohannon 2019",
        unit="kg",
        meaningful_change=5.0,
        meaningful_change_text="5.0-6.5 kg; compare with the unaffected side",
    ),
    Instrument(
        "ROM",
        "Range of motion, goniometry",
        "objective",
        -30,
        180,
        HIGHER_BETTER,
        "goniometry convention",
        unit="deg",
        meaningful_change=5,
        meaningful_change_text="changes under 5-10 degrees are measurement error",
    ),
    Instrument(
        "TASK_TIME",
        "Graded functional task completion time",
        "function",
        0,
        7200,
        HIGHER_WORSE,
        "project default (tunable)",
        unit="s",
        meaningful_change_pct=20,
        meaningful_change_text="20% (project default, tunable)",
    ),
    Instrument(
        "DESENS",
        "Desensitization: highest tolerated ladder level per modality",
        "desensitization",
        1,
        10,
        HIGHER_BETTER,
        "Downey Hand Center sensitivity test (Yerxa et al. 1983)",
        unit="level",
        meaningful_change=1,
        meaningful_change_text="one level",
    ),
    # Social
    Instrument(
        "MSPSS",
        "Multidimensional Scale of Perceived Social Support (mean)",
        "social",
        1,
        7,
        HIGHER_BETTER,
        "Zimet et al., J Pers Assess 1988",
        bands=((1, 2.9, "low"), (3, 5, "moderate"), (5.1, 7, "high")),
    ),
    Instrument(
        "ZBI12",
        "Zarit Burden Interview, 12 items (caregiver burden)",
        "social",
        0,
        48,
        HIGHER_WORSE,
        "Bédard et al., Gerontologist 2001",
        bands=((21, 48, "high burden"),),
    ),
)


def instrument_rows() -> list[tuple]:
    """Rows for the store's instruments table, in its column order."""
    return [
        (
            i.code,
            i.name,
            i.domain,
            i.range_min,
            i.range_max,
            i.direction,
            i.unit,
            i.bands_json(),
            i.meaningful_change,
            i.meaningful_change_pct,
            i.substantial_change_pct,
            i.meaningful_change_text,
            i.loinc,
            i.source,
        )
        for i in INSTRUMENTS
    ]


@dataclass(frozen=True)
class FlagRule:
    """A flag of MEASURES.md: its level, its rule in words, and the numbers it uses."""

    code: str
    name: str
    level: str  # urgent | review | info
    rule: str
    params: dict
    source: str = "shared/MEASURES.md (flags)"

    def params_json(self) -> str:
        return json.dumps(self.params, sort_keys=True)


FLAG_RULES: tuple[FlagRule, ...] = (
    FlagRule("safety", "Safety", "urgent", "latest PHQ-9 item 9 > 0", {"item9_above": 0}),
    FlagRule(
        "pain_flare",
        "Pain flare",
        "review",
        "7-day mean NRS up >= 2 points, or >= 30%, against the previous 14 days",
        {"recent_days": 7, "previous_days": 14, "rise_points": 2, "rise_pct": 30},
    ),
    FlagRule(
        "no_progress",
        "No meaningful progress",
        "review",
        ">= 8 weeks in care and NRS not down >= 30% / 2 points from baseline",
        {"min_weeks": 8, "drop_pct": 30, "drop_points": 2},
    ),
    FlagRule(
        "mood",
        "Mood",
        "review",
        "PHQ-9 >= 15, or up >= 5 from the previous score; GAD-7 >= 15",
        {"phq9_at_least": 15, "phq9_rise": 5, "gad7_at_least": 15},
    ),
    FlagRule("catastrophizing", "Catastrophizing", "review", "PCS >= 30", {"pcs_at_least": 30}),
    FlagRule("low_self_efficacy", "Low self-efficacy", "review", "PSEQ < 20", {"pseq_below": 20}),
    FlagRule(
        "sleep_decline",
        "Sleep decline",
        "review",
        "14-day mean sleep quality down >= 2 points, or mean total sleep down >= 60 min, against "
        "the 14 days before; ISI >= 15",
        {"window_days": 14, "quality_drop": 2, "sleep_drop_min": 60, "isi_at_least": 15},
    ),
    FlagRule(
        "desensitization_setback",
        "Desensitization setback",
        "review",
        "for a modality, the highest level tolerated in the last 14 days is >= 2 below the highest "
        "tolerated in the 14 days before; or the latest allodynia area is >= 25% above the one "
        "before",
        {"window_days": 14, "level_drop": 2, "area_rise_pct": 25},
    ),
    FlagRule(
        "missed_sessions",
        "Missed sessions",
        "review",
        ">= 2 sessions with status dna in the last 28 days",
        {"window_days": 28, "dna_at_least": 2},
    ),
    FlagRule(
        "low_home_practice",
        "Low home practice",
        "review",
        "sum of completed / sum of prescribed minutes < 50% over the last 14 days (only where "
        "something was prescribed)",
        {"window_days": 14, "adherence_below_pct": 50},
    ),
    FlagRule(
        "stalled_goals",
        "Stalled goals",
        "info",
        "a patient with goals has had no goal review and no milestone achieved for > 28 days; or "
        "GAS T < 50 at the latest review",
        {"days_over": 28, "gas_t_below": 50},
    ),
    FlagRule(
        "caregiver_strain",
        "Caregiver strain",
        "review",
        "ZBI-12 > 20, or an open caregiver_burnout barrier",
        {"zbi12_above": 20},
    ),
    FlagRule(
        "medication_change",
        "Medication change",
        "info",
        "any start, stop, increase or decrease in the last 14 days; opioid OME >= 50 mg/day",
        {"window_days": 14, "ome_at_least": 50},
    ),
    FlagRule(
        "stale_data",
        "Stale data",
        "info",
        "no pain rating or session in the last 14 days (active patients)",
        {"window_days": 14},
    ),
)


def flag_rule_rows() -> list[tuple]:
    """Rows for the store's flag_rules table, in its column order."""
    return [(f.code, f.name, f.level, f.rule, f.params_json(), f.source) for f in FLAG_RULES]
