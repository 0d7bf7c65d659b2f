"""A deterministic, synthetic data set in the import format (shared/DATA_MODEL.md).

Nothing here describes a real person: names are made-up placeholders ("Avery Example"), and every
value comes from a seeded random generator. The committed sample_data/ folder is
`generate(patients=48, weeks=26, seed=7, end=DEMO_END)`; tests/test_demo_data.py proves that.

Each patient gets their own random stream (seeded by the data set's seed and the patient's id), so
the rows of one patient never depend on how many other patients there are, and patients are written
one at a time (memory stays flat however many patients are asked for).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import random
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from dashboard import schema

DEMO_END = dt.date(2026, 11, 20)  # last day of the committed sample data
DEFAULT_PATIENTS, DEFAULT_WEEKS, DEFAULT_SEED = 48, 26, 7

SITES = ("North Clinic", "Riverside Clinic")
FIRST_NAMES = (
    "Avery", "Blake", "Casey", "Dana", "Ellis", "Finley", "Gray", "Harper", "Indy", "Jules",
    "Kai", "Lane", "Morgan", "Noel", "Oakley", "Parker", "Quinn", "Reese", "Sage", "Taylor",
    "Umber", "Vale", "Wren", "Yael",
)  # fmt: skip
SURNAMES = ("Example", "Sample", "Testcase", "Placeholder", "Fictional", "Synthetic", "Demo")
STAFF_SURNAMES = ("Mockwell", "Fauxley", "Pretendson", "Stubbs", "Dummett")
CONDITIONS = (
    # condition, ICD-10 code, affected region, allodynia likely, upper limb
    ("Painful diabetic peripheral neuropathy", "E11.4", "both feet", False, False),
    ("Post-herpetic neuralgia", "B02.2", "thoracic dermatome", True, False),
    ("Complex regional pain syndrome type II", "G56.4", "hand and wrist", True, True),
    ("Post-traumatic peripheral nerve injury", "T14.4", "forearm", True, True),
    ("Trigeminal neuralgia", "G50.0", "face", True, False),
    ("Chemotherapy-induced peripheral neuropathy", "G62.0", "hands and feet", False, True),
    ("Phantom limb pain", "G54.6", "residual limb", True, False),
)
QUALITY_SETS = (
    "burning;tingling",
    "shooting;electric",
    "burning;stabbing",
    "tingling;numbness",
    "aching;burning",
    "electric;itching",
)
TASKS = (
    ("Buttoning a shirt", "self_care", 180),
    ("Preparing a simple meal", "household", 900),
    ("Typing for 20 minutes", "work", 1200),
    ("Carrying shopping 100 m", "mobility", 240),
    ("Gardening: potting plants", "leisure", 600),
    ("Hanging laundry", "household", 420),
)
TOPICS = (
    "pain neuroscience",
    "pacing",
    "sleep hygiene",
    "flare plan",
    "medication use",
    "graded exposure",
)
ARCHETYPES = ("responder", "responder", "partial", "responder", "non_responder", "partial")


@dataclass
class Clinician:
    clinician_id: str
    name: str
    discipline: str
    site: str
    role: str


def clinicians() -> list[Clinician]:
    rows = []
    plan = (("PT", "clinician"), ("OT", "clinician"), ("PSY", "clinician"), ("MED", "lead"))
    extra = {SITES[0]: ("NURSE", "clinician"), SITES[1]: ("SW", "manager")}
    n = 0
    for site in SITES:
        for disc, role in (*plan, extra[site]):
            n += 1
            name = f"{FIRST_NAMES[(n * 5) % len(FIRST_NAMES)]} {STAFF_SURNAMES[n % 5]}"
            title = "Dr " if disc in ("MED", "PSY") else ""
            rows.append(Clinician(f"C{n:02d}", title + name, disc, site, role))
    return rows


class Writers:
    """One CSV writer per table, columns in the data model's order."""

    def __init__(self, out: Path, stack: ExitStack):
        out.mkdir(parents=True, exist_ok=True)
        self.writers = {}
        for t in schema.IMPORT_TABLES:
            fh = stack.enter_context(open(out / f"{t.name}.csv", "w", newline="", encoding="utf-8"))
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(t.column_names)
            self.writers[t.name] = (w, t.column_names)
        self.counts = {t.name: 0 for t in schema.IMPORT_TABLES}

    def row(self, table: str, **values) -> None:
        w, cols = self.writers[table]
        w.writerow([_fmt(values.get(c)) for c in cols])
        self.counts[table] += 1


def _fmt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:.1f}"
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%dT%H:%M:%S")
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


def rng_onset(i: int) -> int:
    """Days from the condition's onset to the start of care: fixed per patient, so the shared
    random stream (and with it the rest of the data set) is unchanged."""
    return 120 + (i * 53) % 600


def _clip(x: float, lo: float, hi: float) -> float:
    return max(lo, min(hi, x))


def _days(start: dt.date, end: dt.date) -> Iterator[dt.date]:
    d = start
    while d <= end:
        yield d
        d += dt.timedelta(days=1)


def generate(
    out: Path,
    patients: int = DEFAULT_PATIENTS,
    weeks: int = DEFAULT_WEEKS,
    seed: int = DEFAULT_SEED,
    end: dt.date = DEMO_END,
) -> dict[str, int]:
    """Write the data set into `out` (one CSV per table). Returns rows written per table."""
    window_start = end - dt.timedelta(days=7 * weeks - 1)
    staff = clinicians()
    with ExitStack() as stack:
        w = Writers(Path(out), stack)
        for c in staff:
            w.row(
                "clinicians",
                clinician_id=c.clinician_id,
                name=c.name,
                discipline=c.discipline,
                site=c.site,
                email=f"{c.clinician_id.lower()}@example.invalid",
                role=c.role,
            )
        for i in range(patients):
            _patient(w, i, patients, seed, window_start, end, staff)
        return dict(w.counts)


def _patient(w: Writers, i, n_patients, seed, window_start, end, staff) -> None:
    pid = f"P{i + 1:04d}"
    rng = random.Random(f"{seed}:{pid}")
    site = SITES[i % 2]
    team = {c.discipline: c for c in staff if c.site == site}
    condition, code, region, allodynia, upper = CONDITIONS[i % len(CONDITIONS)]
    span = (end - window_start).days
    # Special cases that every demo should show, placed by index so they exist at any size >= 12.
    archetype = ARCHETYPES[rng.randrange(len(ARCHETYPES))]
    relapse = i == 3
    safety = i == 5
    dropout = i % 12 == 7
    low_practice = i % 12 == 9
    caregiver_strain = i == 10
    on_hold = i == 11
    lapsed = i == 13  # still active, but nothing logged for three weeks (stale data)
    if relapse:
        archetype = "responder"
    # A quarter start in the first fortnight; the rest spread until three weeks before the end.
    if i % 4 == 0:
        offset = rng.randrange(0, 14)
    else:
        offset = rng.randrange(0, max(span - 21, 1))
    start = window_start + dt.timedelta(days=offset)
    last_day = end
    status, discharge = "active", None
    if dropout:
        last_day = min(end, start + dt.timedelta(days=rng.randrange(28, 56)))
        status = "dropped_out"
    elif lapsed:
        start = min(start, end - dt.timedelta(days=70))
        last_day = end - dt.timedelta(days=20)
    elif archetype == "responder" and (end - start).days > 150 and not (relapse or safety):
        discharge = start + dt.timedelta(days=rng.randrange(140, (end - start).days))
        last_day, status = discharge, "discharged"
    elif on_hold:
        status = "on_hold"
    baseline = round(rng.uniform(5.0, 8.2), 1)
    reduction = {
        "responder": rng.uniform(0.32, 0.6),
        "partial": rng.uniform(0.12, 0.26),
        "non_responder": rng.uniform(-0.05, 0.08),
    }[archetype]
    tau = rng.uniform(25, 50)  # days to most of the effect
    caregiver = ("none", "occasional", "regular")[rng.randrange(3)]
    if caregiver_strain:
        caregiver = "regular"
    clinician = team[("PT", "OT", "PSY")[i % 3]]
    interval = (28, 28, 28, 14, 42)[i % 5]
    w.row(
        "patients",
        patient_id=pid,
        mrn=f"SYN{100000 + i * 37}",
        name=f"{FIRST_NAMES[i % len(FIRST_NAMES)]} {SURNAMES[(i // len(FIRST_NAMES)) % len(SURNAMES)]}"
        + (f" {i // (len(FIRST_NAMES) * len(SURNAMES)) + 1}" if i >= 168 else ""),
        birth_year=rng.randrange(1948, 2001),
        sex=("F", "M", "F", "M", "X")[rng.randrange(5)],
        condition=condition,
        condition_code=code,
        affected_region=region,
        side=("L", "R", "bilateral")[rng.randrange(3)] if upper else "NA",
        site=site,
        primary_clinician_id=clinician.clinician_id,
        referral_date=start - dt.timedelta(days=rng.randrange(14, 90)),
        start_date=start,
        discharge_date=discharge,
        status=status,
        review_interval_days=interval,
    )
    w.row(
        "conditions",
        condition_id=f"{pid}-C1",
        patient_id=pid,
        code=code,
        system="ICD-10",
        display=condition,
        onset_date=start - dt.timedelta(days=rng_onset(i)),
        pain_relevant=True,
    )
    days = list(_days(start, last_day))

    # Latent pain course: response curve, relapse, flares.
    flares: list[tuple[int, int, float]] = []
    for _ in range(rng.randrange(0, 3)):
        if len(days) > 20:
            d0 = rng.randrange(10, len(days) - 5)
            length, size = rng.randrange(3, 7), rng.uniform(2.0, 3.2)
            if all(d0 != other for other, _, _ in flares):  # one flare event per day
                flares.append((d0, length, size))
    latent = []
    for k in range(len(days)):
        effect = reduction * (1 - math.exp(-k / tau))
        if relapse and k > len(days) - 35:
            effect *= max(0.0, 1 - (k - (len(days) - 35)) / 20)
        p = baseline * (1 - effect)
        for d0, length, size in flares:
            if d0 <= k < d0 + length:
                p += size
        latent.append(p)
    for d0, _length, _size in flares:
        w.row(
            "events",
            patient_id=pid,
            ts=dt.datetime.combine(days[d0], dt.time(8, 0)),
            kind="flare",
            text="Synthetic note: flare after a busy day; used flare plan.",
        )
    if rng.random() < 0.25 and len(days) > 40:
        w.row(
            "events",
            patient_id=pid,
            ts=dt.datetime.combine(days[rng.randrange(20, len(days))], dt.time(11, 0)),
            kind="procedure",
            text="Synthetic note: peripheral nerve block.",
        )

    # Sleep tonight depends on today's pain; tomorrow's pain on tonight's sleep.
    qualities = rng.choice(QUALITY_SETS)
    quality_prev = None
    for k, day in enumerate(days):
        weekday = {0: 0.3, 5: -0.2, 6: -0.3}.get(day.weekday(), 0.0)
        sleep_effect = 0.0 if quality_prev is None else -0.25 * (quality_prev - 5.5)
        nrs = _clip(round(latent[k] + weekday + sleep_effect + rng.gauss(0, 0.6), 1), 0, 10)
        if rng.random() < 0.86:
            w.row(
                "pain_ratings",
                patient_id=pid,
                ts=dt.datetime.combine(day, dt.time(20, 0)),
                nrs=nrs,
                context="avg_24h",
                source="diary",
                qualities=qualities,
                interference=_clip(round(nrs * 0.8 + rng.gauss(0, 0.7), 1), 0, 10),
            )
            if rng.random() < 0.3:
                w.row(
                    "pain_ratings",
                    patient_id=pid,
                    ts=dt.datetime.combine(day, dt.time(20, 1)),
                    nrs=_clip(round(nrs + rng.uniform(1.0, 2.2), 1), 0, 10),
                    context="worst_24h",
                    source="diary",
                )
        quality = _clip(round(6.2 - 0.55 * (latent[k] - 5) + rng.gauss(0, 1.0), 1), 0, 10)
        quality_prev = quality
        if rng.random() < 0.8:
            total = int(_clip(300 + 22 * quality + rng.gauss(0, 25), 120, 600))
            w.row(
                "sleep_diary",
                patient_id=pid,
                date=day,
                total_sleep_min=total,
                time_in_bed_min=total + rng.randrange(20, 110),
                quality=quality,
                awakenings_pain=max(0, int(round(latent[k] / 2.5 + rng.gauss(0, 0.8)))),
            )

    # Home practice: caregiver involvement raises adherence.
    adherence = {"none": 0.58, "occasional": 0.68, "regular": 0.82}[caregiver]
    if low_practice:
        adherence = 0.35
    activities = [("desensitization", 15), ("relaxation", 10), ("exercise", 20)]
    if not allodynia:
        activities = [("graded_task", 20), ("relaxation", 10), ("exercise", 20)]
    for day in days:
        for activity, minutes in activities:
            if activity == "exercise" and day.weekday() >= 5:
                continue
            done = int(_clip(round(minutes * (adherence + rng.gauss(0, 0.2))), 0, minutes))
            w.row(
                "home_practice",
                patient_id=pid,
                date=day,
                activity=activity,
                prescribed_min=minutes,
                completed_min=done,
                caregiver_assisted=caregiver == "regular" and rng.random() < 0.5 and done > 0,
            )

    # Sessions: PT or OT weekly, psychology fortnightly, medicine six-weekly.
    dna_rate = 0.05 if archetype != "non_responder" else 0.12
    ladder = {m: rng.randrange(1, 3) for m in ("light_touch", "soft_texture", "vibration")}
    area = rng.uniform(40, 180) if allodynia else None
    tasks = [TASKS[(i + j) % len(TASKS)] for j in range(2)]
    topic_i = 0
    session_no = 0
    for week in range(0, len(days) // 7 + 1):
        plan = [("PT" if week % 2 == 0 else "OT", 1)]
        if week % 2 == 1:
            plan.append(("PSY", 3))
        if week % 6 == 2:
            plan.append(("MED", 4))
        for disc, weekday_offset in plan:
            k = week * 7 + weekday_offset
            if k >= len(days):
                continue
            day = days[k]
            session_no += 1
            sid = f"{pid}-S{session_no:03d}"
            r = rng.random()
            if i == 8 and k >= len(days) - 27 and disc in ("PT", "OT"):
                status_ = "dna"  # one patient always shows two recent missed sessions
            elif r < dna_rate:
                status_ = "dna"
            elif r < dna_rate + 0.06:
                status_ = "cancelled_patient"
            elif r < dna_rate + 0.09:
                status_ = "cancelled_clinic"
            else:
                status_ = "attended"
            ts = dt.datetime.combine(day, dt.time(9 + (session_no % 7), 0))
            clin = team[disc]
            w.row(
                "sessions",
                session_id=sid,
                patient_id=pid,
                clinician_id=clin.clinician_id,
                ts=ts,
                duration_min=45 if disc != "MED" else 30,
                mode="tele" if disc == "PSY" and rng.random() < 0.4 else "in_person",
                status=status_,
                caregiver_present=caregiver == "regular" and rng.random() < 0.4,
                notes=f"Synthetic note: {disc} session {session_no}; plan reviewed with patient.",
            )
            if status_ != "attended":
                continue
            w.row(
                "pain_ratings",
                patient_id=pid,
                ts=ts,
                nrs=_clip(round(latent[k] + rng.gauss(0, 0.5), 1), 0, 10),
                context="now",
                source="session",
                session_id=sid,
                body_site=region,
                qualities=qualities,
            )
            progress = 1 - math.exp(-k / tau)
            if disc in ("PT", "OT") and allodynia:
                for modality, level in list(ladder.items())[: 2 + (k > 42)]:
                    step = 1 if rng.random() < 0.35 + 0.3 * (archetype == "responder") else 0
                    if rng.random() < 0.07:
                        step = -2  # a setback
                    level = int(_clip(level + step, 1, 10))
                    ladder[modality] = level
                    area = _clip(area * (0.97 if archetype != "non_responder" else 1.0), 5, 2000)
                    w.row(
                        "desensitization",
                        session_id=sid,
                        patient_id=pid,
                        date=day,
                        modality=modality,
                        level=level,
                        duration_s=rng.randrange(120, 600),
                        distress=_clip(round(6 - 3 * progress + rng.gauss(0, 1), 1), 0, 10),
                        tolerated=rng.random() < 0.85,
                        allodynia_area_cm2=round(area, 1),
                        relaxation_used=rng.random() < 0.5,
                        home_program=True,
                    )
            if disc == "OT":
                for task, domain, base_time in tasks:
                    faster = 0.45 * progress if archetype != "non_responder" else 0.08 * progress
                    before = _clip(round(latent[k] + rng.gauss(0, 0.5), 1), 0, 10)
                    w.row(
                        "functional_tasks",
                        session_id=sid,
                        patient_id=pid,
                        date=day,
                        task=task,
                        domain=domain,
                        level=int(_clip(1 + round(6 * progress), 1, 10)),
                        completion_time_s=round(base_time * (1 - faster) * rng.uniform(0.9, 1.1)),
                        reps=rng.randrange(1, 6),
                        microbreaks=max(0, int(round(4 * (1 - progress) + rng.gauss(0, 1)))),
                        pain_before=before,
                        pain_after=_clip(round(before + rng.uniform(-0.5, 1.5), 1), 0, 10),
                        completed=rng.random() < 0.5 + 0.45 * progress,
                    )
            if disc in ("PT", "PSY") and rng.random() < 0.5:
                topic = TOPICS[topic_i % len(TOPICS)]
                topic_i += 1
                r2 = rng.random() - 0.25 * progress
                w.row(
                    "education",
                    session_id=sid,
                    patient_id=pid,
                    date=day,
                    topic=topic,
                    teach_back="correct"
                    if r2 < 0.55
                    else ("partial" if r2 < 0.85 else "incorrect"),
                    caregiver_present=caregiver == "regular" and rng.random() < 0.5,
                )

    # Every four weeks: questionnaires, grip and ROM, social support, goal reviews.
    goals = []
    for g in range(2 + (i % 2)):
        domain = ("function", "desensitization" if allodynia else "pain", "work", "sleep")[g]
        goals.append(
            (
                f"{pid}-G{g + 1}",
                domain,
                rng.randrange(1, 4),
                rng.randrange(1, 4),
            )
        )
        w.row(
            "goals",
            goal_id=f"{pid}-G{g + 1}",
            patient_id=pid,
            domain=domain,
            description=f"Synthetic goal: {domain.replace('_', ' ')} goal {g + 1}",
            baseline=-1,
            importance=goals[-1][2],
            difficulty=goals[-1][3],
            set_date=start + dt.timedelta(days=7),
            target_date=start + dt.timedelta(days=7 + 16 * 7),
        )
    arm_side = ("L", "R")[i % 2]
    for m, k in enumerate(range(0, len(days), 28)):
        day = days[k]
        progress = 1 - math.exp(-k / tau)
        p = latent[k] / baseline  # 1 at baseline, lower when better
        phq = int(_clip(round(7 + 8 * p + rng.gauss(0, 2) - 3 * progress), 0, 27))
        scores = {
            "PHQ9": phq,
            "GAD7": int(_clip(round(5 + 6 * p + rng.gauss(0, 2)), 0, 21)),
            "PCS": int(_clip(round(14 + 18 * p + rng.gauss(0, 4)), 0, 52)),
            "PSEQ": int(_clip(round(44 - 22 * p + rng.gauss(0, 4)), 0, 60)),
            "ISI": int(_clip(round(6 + 10 * p + rng.gauss(0, 2.5)), 0, 28)),
            "BPI_INT": _clip(round(latent[k] * 0.85 + rng.gauss(0, 0.6), 1), 0, 10),
            "TSK11": int(_clip(round(20 + 12 * p + rng.gauss(0, 3)), 11, 44)),
        }
        if m == 0:
            scores["DN4"] = rng.randrange(4, 9)
        if m >= 2:
            scores["PGIC"] = int(_clip(round(4 - 3 * (1 - p) + rng.gauss(0, 0.7)), 1, 7))
        for code, total in scores.items():
            item9 = None
            if code == "PHQ9":
                item9 = 1 if safety and k + 28 >= len(days) else 0
            w.row(
                "assessments",
                patient_id=pid,
                date=day,
                instrument=code,
                total=float(total) if isinstance(total, float) else total,
                item9=item9,
                respondent="patient",
            )
        if upper:
            for side in ("L", "R"):
                affected = side == arm_side
                grip = 34 + rng.gauss(0, 2) - (12 * p if affected else 0)
                w.row(
                    "objective_measures",
                    patient_id=pid,
                    date=day,
                    measure="grip",
                    side=side,
                    value=round(grip, 1),
                    unit="kg",
                    affected=affected,
                )
            w.row(
                "objective_measures",
                patient_id=pid,
                date=day,
                measure="rom",
                side=arm_side,
                joint="wrist",
                movement="extension",
                value=round(70 - 30 * p + rng.gauss(0, 3), 1),
                unit="deg",
                affected=True,
            )
        w.row(
            "social_support",
            patient_id=pid,
            date=day,
            caregiver_involvement=caregiver,
            peer_group_sessions=rng.randrange(0, 5),
            work_status=("modified", "off_work", "full", "retired")[i % 4],
            accommodation=("requested", "in_place", "none", None)[i % 4] if i % 4 < 3 else None,
            mspss=round(
                _clip(3.5 + rng.gauss(0, 0.8) + (1.0 if caregiver == "regular" else 0), 1, 7), 1
            ),
            caregiver_burden_zbi12=(
                (24 if caregiver_strain else rng.randrange(4, 18)) if caregiver != "none" else None
            ),
        )
        if m >= 1:
            for goal_id, _domain, _imp, _dif in goals:
                base = -1 + (2.6 if archetype == "responder" else 1.2) * progress
                if relapse and k > len(days) - 35:
                    base -= 1
                w.row(
                    "goal_reviews",
                    goal_id=goal_id,
                    date=day,
                    attainment=int(_clip(round(base + rng.gauss(0, 0.4)), -2, 2)),
                    note="Synthetic review note.",
                )
    for g, (goal_id, domain, _imp, _dif) in enumerate(goals):
        due = start + dt.timedelta(days=42 + 28 * g)
        achieved = None
        if due <= last_day and archetype != "non_responder" and rng.random() < 0.75:
            achieved = due + dt.timedelta(days=rng.randrange(-10, 10))
            achieved = min(achieved, last_day)
        w.row(
            "milestones",
            milestone_id=f"{goal_id}-M1",
            patient_id=pid,
            goal_id=goal_id,
            description=f"Synthetic milestone towards the {domain.replace('_', ' ')} goal",
            due_date=due,
            achieved_date=achieved,
        )

    # Medications: a first-line drug with a titration, sometimes a second drug or an opioid.
    regimen = [
        ("Pregabalin", "gabapentinoid", 150, 300, "mg"),
        ("Duloxetine", "snri", 30, 60, "mg"),
    ][i % 2]
    med_start = start - dt.timedelta(days=rng.randrange(20, 120))
    titrate = start + dt.timedelta(days=rng.randrange(14, 60))
    drug, cls, dose0, dose1, unit = regimen
    if titrate <= last_day:
        w.row("medications", patient_id=pid, drug=drug, drug_class=cls, start_date=med_start,
              stop_date=titrate - dt.timedelta(days=1), daily_dose=float(dose0), unit=unit,
              change="start")  # fmt: skip
        w.row("medications", patient_id=pid, drug=drug, drug_class=cls, start_date=titrate,
              daily_dose=float(dose1), unit=unit, change="increase",
              side_effects="dizziness" if rng.random() < 0.3 else None)  # fmt: skip
    else:
        w.row("medications", patient_id=pid, drug=drug, drug_class=cls, start_date=med_start,
              daily_dose=float(dose0), unit=unit, change="start")  # fmt: skip
    if i % 3 == 0:
        w.row("medications", patient_id=pid, drug="Lidocaine 5% plaster", drug_class="topical",
              start_date=start + dt.timedelta(days=rng.randrange(0, 30)), daily_dose=1.0,
              unit="patch", change="start")  # fmt: skip
    if i % 5 == 1:
        ome = float(rng.choice((20, 30, 60)))
        w.row("medications", patient_id=pid, drug="Tramadol", drug_class="opioid",
              start_date=med_start - dt.timedelta(days=200), daily_dose=ome * 5, unit="mg",  # tramadol: OME = dose x 0.2
              change="no_change", ome_mg_day=ome)  # fmt: skip

    # Barriers, adaptations.
    kinds = ("transport", "work_schedule", "cost", "digital_access", "workplace_accommodation")
    for b in range(rng.randrange(0, 3)):
        opened = days[rng.randrange(0, len(days))]
        closed = opened + dt.timedelta(days=rng.randrange(7, 60))
        w.row(
            "barriers",
            barrier_id=f"{pid}-B{b + 1}",
            patient_id=pid,
            kind=kinds[(i + b) % len(kinds)],
            opened=opened,
            closed=closed if closed <= last_day and rng.random() < 0.6 else None,
            owner_clinician_id=team["SW" if "SW" in team else "NURSE"].clinician_id,
            action="Synthetic action: arrange support and review at next session.",
        )
    if caregiver_strain:
        w.row(
            "barriers",
            barrier_id=f"{pid}-B9",
            patient_id=pid,
            kind="caregiver_burnout",
            opened=days[len(days) // 2],
            owner_clinician_id=team["PSY"].clinician_id,
            action="Synthetic action: carer support referral.",
        )
    for a in range(rng.randrange(0, 3)):
        recommended = days[rng.randrange(0, len(days))]
        in_place = recommended + dt.timedelta(days=rng.randrange(5, 40))
        setting = ("home", "work", "community")[(i + a) % 3]
        w.row(
            "adaptations",
            adaptation_id=f"{pid}-A{a + 1}",
            patient_id=pid,
            setting=setting,
            kind=("ergonomic", "adaptive_equipment", "task_modification", "trigger_reduction")[
                (i + a) % 4
            ],
            description=f"Synthetic adaptation at {setting}",
            recommended_date=recommended,
            in_place_date=in_place if in_place <= last_day else None,
            effect=("helped", "unknown", "no_change")[(i + a) % 3]
            if in_place <= last_day
            else None,
        )


def write_readme(out: Path, patients: int, weeks: int, seed: int, end: dt.date) -> None:
    (Path(out) / "README.md").write_text(
        "# Sample data (synthetic)\n\n"
        "Every row in this folder is synthetic: made by `mdt-dashboard demo-data "
        f"--patients {patients} --weeks {weeks} --seed {seed} --end {end.isoformat()}`. "
        "No real person is described; names are placeholders.\n\n"
        f"The data covers {weeks} weeks ending {end.isoformat()}. When `mdt-dashboard run` builds "
        "the demo store, it shifts every date so that the data ends yesterday.\n"
    )
