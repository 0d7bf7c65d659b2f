"""FHIR R4 import: a Bundle (transaction, collection, searchset, batch), bulk-data NDJSON (one
resource per line), a single resource, or a folder of these, converted into the import format (one
CSV file per table) and then imported through the same validated, atomic, idempotent pipeline as
CSV and Parquet. Errors come back named by the FHIR file, the NDJSON line or the Bundle entry, and
the resource's field path.

Plain JSON rather than a FHIR object model: the dashboard reads a few fields of seven resource
types, NDJSON streams line by line (memory stays flat however large the export), and numbers are
kept exactly as written (a pain score of 5.47 stays "5.47"). The mapping is in MAPPING below and
in docs/data-dictionary.md.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import re
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from dashboard import schema

SUFFIXES = (".json", ".ndjson")
BUNDLE_TYPES = ("transaction", "collection", "searchset", "batch")
MAPPED = ("Patient", "Practitioner", "Condition", "Encounter", "Observation",
          "MedicationRequest", "MedicationStatement")  # fmt: skip
# Every FHIR R4 resource type: one the dashboard does not map is skipped and counted; a
# resourceType that is none of these is an error.
R4_TYPES = frozenset(
    """
Account ActivityDefinition AdverseEvent AllergyIntolerance Appointment AppointmentResponse
AuditEvent Basic Binary BiologicallyDerivedProduct BodyStructure Bundle CapabilityStatement
CarePlan CareTeam CatalogEntry ChargeItem ChargeItemDefinition Claim ClaimResponse
ClinicalImpression CodeSystem Communication CommunicationRequest CompartmentDefinition Composition
ConceptMap Condition Consent Contract Coverage CoverageEligibilityRequest
CoverageEligibilityResponse DetectedIssue Device DeviceDefinition DeviceMetric DeviceRequest
DeviceUseStatement DiagnosticReport DocumentManifest DocumentReference EffectEvidenceSynthesis
Encounter Endpoint EnrollmentRequest EnrollmentResponse EpisodeOfCare EventDefinition Evidence
EvidenceVariable ExampleScenario ExplanationOfBenefit FamilyMemberHistory Flag Goal
GraphDefinition Group GuidanceResponse HealthcareService ImagingStudy Immunization
ImmunizationEvaluation ImmunizationRecommendation ImplementationGuide InsurancePlan Invoice
Library Linkage List Location Measure MeasureReport Media Medication MedicationAdministration
MedicationDispense MedicationKnowledge MedicationRequest MedicationStatement MedicinalProduct
MedicinalProductAuthorization MedicinalProductContraindication MedicinalProductIndication
MedicinalProductIngredient MedicinalProductInteraction MedicinalProductManufactured
MedicinalProductPackaged MedicinalProductPharmaceutical MedicinalProductUndesirableEffect
MessageDefinition MessageHeader MolecularSequence NamingSystem NutritionOrder Observation
ObservationDefinition OperationDefinition OperationOutcome Organization OrganizationAffiliation
Parameters Patient PaymentNotice PaymentReconciliation Person PlanDefinition Practitioner
PractitionerRole Procedure Provenance Questionnaire QuestionnaireResponse RelatedPerson
RequestGroup ResearchDefinition ResearchElementDefinition ResearchStudy ResearchSubject
RiskAssessment RiskEvidenceSynthesis Schedule SearchParameter ServiceRequest Slot Specimen
SpecimenDefinition StructureDefinition StructureMap Subscription Substance
SubstanceNucleicAcid SubstancePolymer SubstanceProtein SubstanceReferenceInformation
SubstanceSourceMaterial SubstanceSpecification SupplyDelivery SupplyRequest Task
TerminologyCapabilities TestReport TestScript ValueSet VerificationResult VisionPrescription
""".split()
)

# Observation codes (LOINC), by code and never by display text, which varies for one code.
PAIN_SEVERITY = "72514-3"
PHQ9_TOTAL, PHQ9_ITEM9, GAD7_TOTAL = "44261-6", "44260-8", "70274-6"
SLEEP_DURATION = "93832-4"
ASSESSMENT_CODES = {PHQ9_TOTAL: "PHQ9", GAD7_TOTAL: "GAD7"}

# A pain condition, by words in its name (SNOMED CT and ICD-10 displays alike); the lower the
# rank the more specific to this service: neuropathic first, then chronic pain, then other pain.
PAIN_CONDITION_WORDS = (
    (0, ("neuropath", "neuralg", "complex regional", "crps", "causalgia", "radiculopath",
         "phantom", "nerve injury", "sciatica")),
    (1, ("chronic pain", "fibromyalg")),
    (2, ("migraine", "pain")),
)  # fmt: skip

DRUG_CLASSES = (  # RxNorm names, by ingredient words; first match wins
    ("gabapentinoid", ("gabapentin", "pregabalin")),
    ("snri", ("duloxetine", "venlafaxine", "milnacipran")),
    ("tca", ("amitriptyline", "nortriptyline", "imipramine", "desipramine")),
    ("opioid", ("oxycodone", "hydrocodone", "morphine", "tramadol", "tapentadol", "fentanyl",
                "codeine", "buprenorphine", "hydromorphone", "methadone", "oxymorphone")),
    ("topical", ("lidocaine", "capsaicin")),
    ("nsaid", ("ibuprofen", "naproxen", "diclofenac", "celecoxib", "meloxicam", "ketorolac",
               "aspirin")),
)  # fmt: skip

# Where each store column comes from, for the data dictionary and for naming a bad value.
MAPPING: dict[str, tuple[str, dict[str, str]]] = {
    "patients": ("Patient", {
        "patient_id": "id", "mrn": "identifier (type MR, else the first)", "name": "name",
        "birth_year": "birthDate", "sex": "gender", "deceased_date": "deceasedDateTime",
        "condition": "Condition.code (the pain-relevant one first)",
        "condition_code": "Condition.code.coding.code",
        "start_date": "the chosen Condition.onset or the first pain rating, the earlier",
        "status": "deceased -> discharged, else active",
        "discharge_date": "deceasedDateTime",
    }),
    "clinicians": ("Practitioner", {"clinician_id": "id", "name": "name",
                                    "discipline": "OTHER"}),
    "conditions": ("Condition", {
        "condition_id": "id", "patient_id": "subject.reference", "code": "code.coding.code",
        "system": "code.coding.system", "display": "code.text", "onset_date": "onsetDateTime",
        "abatement_date": "abatementDateTime", "pain_relevant": "code (words)",
    }),
    "sessions": ("Encounter", {
        "session_id": "id", "patient_id": "subject.reference",
        "clinician_id": "participant.individual.reference", "ts": "period.start",
        "duration_min": "period", "mode": "class", "status": "status",
    }),
    "pain_ratings": ("Observation", {
        "patient_id": "subject.reference", "ts": "effectiveDateTime",
        "nrs": "valueQuantity.value", "context": "(now)", "source": "(import)",
    }),
    "assessments": ("Observation", {
        "patient_id": "subject.reference", "date": "effectiveDateTime",
        "instrument": "code", "total": "valueQuantity.value",
        "item9": f"component[{PHQ9_ITEM9}].valueQuantity.value",
    }),
    "sleep_diary": ("Observation", {
        "patient_id": "subject.reference", "date": "effectiveDateTime",
        "total_sleep_min": "valueQuantity.value (h or min)",
    }),
    "medications": ("MedicationRequest/MedicationStatement", {
        "patient_id": "subject.reference", "drug": "medicationCodeableConcept",
        "drug_class": "medicationCodeableConcept (ingredient words)",
        "start_date": "authoredOn / effectivePeriod.start",
        "stop_date": "dispenseRequest.validityPeriod.end / effectivePeriod.end",
        "change": "(start)",
    }),
}  # fmt: skip


class FhirError(Exception):
    """A file that cannot be read as FHIR at all; the message says which and why."""


@dataclass(frozen=True)
class Where:
    """Where a resource sits: the file, and its NDJSON line or its Bundle entry index."""

    file: str
    line: int | None
    entry: int | None
    rtype: str
    rid: str

    def place(self, field_path: str) -> str:
        at = f"entry[{self.entry}] " if self.entry is not None else ""
        return f"{at}{self.rtype}/{self.rid} {field_path}".strip()


@dataclass
class _Patient:
    where: Where | None = None
    row: dict = field(default_factory=dict)
    deceased: str | None = None
    deceased_flag: bool = False
    first_rating: str | None = None
    first_any: str | None = None
    last_any: str | None = None
    condition: tuple | None = None  # (rank, onset, display, code)


def is_fhir(path: Path) -> bool:
    """A .json / .ndjson file, or a folder with such files and no CSV or Parquet."""
    if path.is_file():
        return path.suffix.lower() in SUFFIXES
    if path.is_dir():
        names = [p.suffix.lower() for p in path.iterdir() if p.is_file()]
        return any(s in SUFFIXES for s in names) and not any(
            s in (".csv", ".parquet") for s in names
        )
    return False


def _date(value: str | None) -> str | None:
    return value[:10] if value else None


def _earliest(a: str | None, b: str | None) -> str | None:
    return min(x for x in (a, b) if x) if (a or b) else None


def _latest(a: str | None, b: str | None) -> str | None:
    return max(x for x in (a, b) if x) if (a or b) else None


def _codings(concept: dict | None) -> list[dict]:
    return (concept or {}).get("coding") or []


def _text(concept: dict | None) -> str | None:
    if not concept:
        return None
    return concept.get("text") or next((c.get("display") for c in _codings(concept)
                                        if c.get("display")), None)  # fmt: skip


def pain_rank(display: str | None) -> int | None:
    """0 neuropathic, 1 chronic pain, 2 other pain, None not a pain condition."""
    words = (display or "").lower()
    for rank, keys in PAIN_CONDITION_WORDS:
        if any(k in words for k in keys):
            return rank
    return None


def drug_class(name: str | None) -> str:
    words = (name or "").lower()
    for cls, keys in DRUG_CLASSES:
        if any(k in words for k in keys):
            return cls
    return "other"


def _human_name(names: list[dict] | None) -> str | None:
    if not names:
        return None
    n = next((x for x in names if x.get("use") == "official"), names[0])
    if n.get("text"):
        return n["text"]
    parts = [*n.get("given", []), n.get("family", "")]
    return " ".join(p for p in parts if p) or None


class Converter:
    """Reads FHIR resources and writes them as import rows, with where each row came from."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.urls: dict[str, str] = {}  # urn:uuid full URL -> resource id
        self.patients: dict[str, _Patient] = {}
        self.skipped: Counter = Counter()
        self.skipped_codes: Counter = Counter()
        self.errors: list[tuple[Where, str, str | None, str]] = []  # where, path, value, rule
        self.merged: Counter = Counter()
        self.synthetic = False
        self.files: list[str] = []
        self._writers: dict[str, tuple] = {}
        self._keys: dict[str, set] = {}
        self._stack = contextlib.ExitStack()

    # -- output: one CSV per table, and beside it where each row came from -------------------
    def _writer(self, table: str):
        if table not in self._writers:
            cols = schema.TABLES[table].column_names
            data = self._stack.enter_context(
                open(self.folder / f"{table}.csv", "w", newline="", encoding="utf-8")
            )
            where = self._stack.enter_context(
                open(self.folder / f".{table}.where", "w", newline="", encoding="utf-8")
            )
            w = csv.writer(data, lineterminator="\n")
            w.writerow(cols)
            self._writers[table] = (w, csv.writer(where, lineterminator="\n"), cols)
        return self._writers[table]

    def emit(self, table: str, where: Where, key: tuple | None = None, **values) -> None:
        if key is not None:  # the same row twice in one batch (a repeated order): kept once
            seen = self._keys.setdefault(table, set())
            if key in seen:
                self.merged[table] += 1
                return
            seen.add(key)
        data, place, cols = self._writer(table)
        data.writerow(["" if values.get(c) is None else values[c] for c in cols])
        place.writerow([where.file, where.line or "", "" if where.entry is None else where.entry,
                        where.rtype, where.rid])  # fmt: skip

    def close(self) -> None:
        self._stack.close()

    # -- input ---------------------------------------------------------------------------------
    def ref(self, reference: dict | None) -> str | None:
        """The id a reference points to: through a Bundle's urn:uuid full URLs, or Type/id."""
        text = (reference or {}).get("reference")
        if not text:
            return None
        if text in self.urls:
            return self.urls[text]
        if text.startswith("urn:uuid:"):
            return text.removeprefix("urn:uuid:")
        return text.rsplit("/", 1)[-1]

    def read(self, path: Path) -> Iterator[tuple[Where, dict]]:
        """Every resource of a file, with where it sits."""
        self.files.append(path.name)
        if path.suffix.lower() == ".ndjson":
            yield from self._read_ndjson(path)
            return
        try:
            with open(path, encoding="utf-8") as fh:
                doc = json.load(fh, parse_float=str)
        except json.JSONDecodeError as e:
            raise FhirError(
                f"{path.name} is not valid JSON (line {e.lineno}, column {e.colno}: {e.msg}). "
                "Nothing was imported."
            ) from e
        except UnicodeDecodeError as e:
            raise FhirError(f"{path.name} is not UTF-8 text, so it is not FHIR JSON.") from e
        if not isinstance(doc, dict) or "resourceType" not in doc:
            raise FhirError(
                f"{path.name} is JSON but not a FHIR resource (it has no resourceType). Export a "
                "FHIR R4 Bundle, NDJSON, or a single resource."
            )
        rtype = doc["resourceType"]
        if rtype == "Bundle":
            kind = doc.get("type")
            if kind not in BUNDLE_TYPES:
                raise FhirError(
                    f"{path.name} is a FHIR Bundle of type {kind!r}; the import reads "
                    f"{', '.join(BUNDLE_TYPES)} bundles."
                )
            entries = doc.get("entry") or []
            for e in entries:
                res = e.get("resource") or {}
                if e.get("fullUrl") and res.get("id"):
                    self.urls[e["fullUrl"]] = res["id"]
            for i, e in enumerate(entries):
                res = e.get("resource")
                where = Where(path.name, None, i, str((res or {}).get("resourceType")),
                              str((res or {}).get("id", "")))  # fmt: skip
                if not isinstance(res, dict):
                    self.errors.append(
                        (where, "resource", None, "the Bundle entry has no resource")
                    )
                    continue
                yield where, res
            return
        yield Where(path.name, None, None, str(rtype), str(doc.get("id", ""))), doc

    def _read_ndjson(self, path: Path) -> Iterator[tuple[Where, dict]]:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    res = json.loads(line, parse_float=str)
                except json.JSONDecodeError as e:
                    where = Where(path.name, n, None, "?", "")
                    self.errors.append(
                        (where, "", line.strip()[:60], f"is not valid JSON: {e.msg}")
                    )
                    continue
                if not isinstance(res, dict):
                    self.errors.append((Where(path.name, n, None, "?", ""), "", line.strip()[:60],
                                        "is not a FHIR resource"))  # fmt: skip
                    continue
                yield (
                    Where(path.name, n, None, str(res.get("resourceType")), str(res.get("id", ""))),
                    res,
                )

    # -- mapping ---------------------------------------------------------------------------------
    def take(self, where: Where, res: dict) -> None:
        rtype = res.get("resourceType")
        if rtype not in R4_TYPES:
            self.errors.append((where, "resourceType", str(rtype),
                                "is not a FHIR R4 resource type"))  # fmt: skip
            return
        if rtype not in MAPPED:
            self.skipped[rtype] += 1
            return
        if not res.get("id"):
            self.errors.append((where, "id", None, f"a {rtype} needs an id to be imported"))
            return
        if not self.synthetic and any(
            "synthea" in json.dumps(x).lower() for x in (res.get("meta", {}).get("tag", []),)
        ):
            self.synthetic = True
        getattr(self, f"_{rtype.lower()}")(where, res)

    def _person(self, pid: str | None) -> _Patient | None:
        return self.patients.setdefault(pid, _Patient()) if pid else None

    def _seen(self, pid: str | None, day: str | None) -> None:
        p = self._person(pid)
        if p and day:
            p.first_any = _earliest(p.first_any, day)
            p.last_any = _latest(p.last_any, day)

    def _patient(self, where: Where, res: dict) -> None:
        p = self._person(res["id"])
        p.where = where
        ids = res.get("identifier") or []
        mrn = next((i.get("value") for i in ids
                    if any(c.get("code") == "MR" for c in _codings(i.get("type")))), None)  # fmt: skip
        p.row = {
            "patient_id": res["id"],
            "mrn": mrn or (ids[0].get("value") if ids else None),
            "name": _human_name(res.get("name")),
            "birth_year": (res.get("birthDate") or "")[:4] or None,
            "sex": {"male": "M", "female": "F", "other": "X", "unknown": "U"}.get(
                res.get("gender")
            ),
        }
        p.deceased = _date(res.get("deceasedDateTime"))
        p.deceased_flag = bool(res.get("deceasedBoolean")) or p.deceased is not None

    def _practitioner(self, where: Where, res: dict) -> None:
        self.emit("clinicians", where, key=(res["id"],), clinician_id=res["id"],
                  name=_human_name(res.get("name")) or f"Practitioner {res['id']}",
                  discipline="OTHER")  # fmt: skip

    def _condition(self, where: Where, res: dict) -> None:
        pid = self.ref(res.get("subject"))
        display = _text(res.get("code"))
        coding = next(iter(_codings(res.get("code"))), {})
        onset = _date(res.get("onsetDateTime") or (res.get("onsetPeriod") or {}).get("start"))
        rank = pain_rank(display)
        self.emit("conditions", where, condition_id=res["id"], patient_id=pid,
                  code=coding.get("code"), system=coding.get("system"), display=display,
                  onset_date=onset, abatement_date=_date(res.get("abatementDateTime")),
                  pain_relevant="true" if rank is not None else "false")  # fmt: skip
        p = self._person(pid)
        if p is not None and rank is not None:
            candidate = (rank, onset or "9999", display, coding.get("code"))
            if p.condition is None or candidate < p.condition:
                p.condition = candidate

    def _encounter(self, where: Where, res: dict) -> None:
        cls = (res.get("class") or {}).get("code")
        pid = self.ref(res.get("subject"))
        start = (res.get("period") or {}).get("start")
        self._seen(pid, _date(start))
        if cls not in ("AMB", "VR"):  # inpatient and emergency stays are not therapy sessions
            self.skipped[f"Encounter ({cls or 'no class'})"] += 1
            return
        status = {"finished": "attended", "in-progress": "attended", "arrived": "attended",
                  "onleave": "attended", "triaged": "attended",
                  "cancelled": "cancelled_clinic"}.get(res.get("status"))  # fmt: skip
        if status is None:  # planned, entered-in-error, unknown: nothing happened (yet)
            self.skipped[f"Encounter ({res.get('status')})"] += 1
            return
        minutes = None
        end = (res.get("period") or {}).get("end")
        if start and end:
            with contextlib.suppress(ValueError):
                span = dt.datetime.fromisoformat(end) - dt.datetime.fromisoformat(start)
                minutes = str(max(1, round(span.total_seconds() / 60)))
        clinician = next((self.ref(p.get("individual")) for p in res.get("participant") or []
                          if p.get("individual")), None)  # fmt: skip
        self.emit("sessions", where, session_id=res["id"], patient_id=pid,
                  clinician_id=clinician, ts=start, duration_min=minutes,
                  mode="tele" if cls == "VR" else "in_person", status=status)  # fmt: skip

    def _observation(self, where: Where, res: dict) -> None:
        pid = self.ref(res.get("subject"))
        when = res.get("effectiveDateTime") or (res.get("effectivePeriod") or {}).get("start")
        self._seen(pid, _date(when))
        used = False
        for part in [res, *(res.get("component") or [])]:  # a panel is read through its components
            codes = [c.get("code") for c in _codings(part.get("code"))
                     if "loinc" in (c.get("system") or "").lower() or not c.get("system")]  # fmt: skip
            value = (part.get("valueQuantity") or {}).get("value")
            if PAIN_SEVERITY in codes:
                used = True
                self.emit("pain_ratings", where, patient_id=pid, ts=when, nrs=value,
                          context="now", source="import")  # fmt: skip
                p = self._person(pid)
                if p:
                    p.first_rating = _earliest(p.first_rating, _date(when))
            elif code := next((c for c in codes if c in ASSESSMENT_CODES), None):
                used = True
                item9 = None
                if code == PHQ9_TOTAL:
                    item9 = next(
                        ((c.get("valueQuantity") or {}).get("value")
                         for c in res.get("component") or []
                         if any(x.get("code") == PHQ9_ITEM9 for x in _codings(c.get("code")))),
                        None,
                    )  # fmt: skip
                self.emit("assessments", where, patient_id=pid, date=_date(when),
                          instrument=ASSESSMENT_CODES[code], total=value, item9=item9,
                          respondent="patient")  # fmt: skip
            elif SLEEP_DURATION in codes:
                used = True
                unit = ((part.get("valueQuantity") or {}).get("code") or "h").lower()
                minutes = None
                with contextlib.suppress(TypeError, ValueError):
                    minutes = str(round(float(value) * (1 if unit.startswith("min") else 60)))
                self.emit("sleep_diary", where, patient_id=pid, date=_date(when),
                          total_sleep_min=minutes if minutes is not None else value)  # fmt: skip
        if not used:
            code = next(iter(_codings(res.get("code"))), {}).get("code") or "no code"
            self.skipped_codes[code] += 1

    def _medicationrequest(self, where: Where, res: dict) -> None:
        start = res.get("authoredOn")
        stop = ((res.get("dispenseRequest") or {}).get("validityPeriod") or {}).get("end")
        self._medication(where, res, start, stop)

    def _medicationstatement(self, where: Where, res: dict) -> None:
        period = res.get("effectivePeriod") or {}
        start = period.get("start") or res.get("effectiveDateTime") or res.get("dateAsserted")
        self._medication(where, res, start, period.get("end"))

    def _medication(self, where: Where, res: dict, start: str | None, stop: str | None) -> None:
        pid = self.ref(res.get("subject"))
        drug = _text(res.get("medicationCodeableConcept"))
        if drug is None and res.get("medicationReference"):
            drug = (res["medicationReference"].get("display")
                    or f"Medication {self.ref(res['medicationReference'])}")  # fmt: skip
        self._seen(pid, _date(start))
        self.emit("medications", where, key=(pid, drug, _date(start)), patient_id=pid, drug=drug,
                  drug_class=drug_class(drug), start_date=_date(start), stop_date=_date(stop),
                  change="start")  # fmt: skip

    # -- the episode of care, once everything is read ----------------------------------------
    def finish_patients(self, today: dt.date) -> None:
        """Write each Patient with an episode of care for their pain condition: it starts at that
        condition's onset or the first pain rating, whichever is earlier (else the first dated
        record, else today); a deceased patient is discharged on the date of death (not before
        the start), everyone else is active."""
        for p in self.patients.values():
            if p.where is None:
                continue  # referenced, not in this batch: it must be in the store already
            condition = p.condition or (None, None, "Not recorded (imported from FHIR)", None)
            onset = condition[1] if condition[1] not in (None, "9999") else None
            start = _earliest(onset, p.first_rating) or p.first_any or today.isoformat()
            row = dict(p.row)
            row.update(condition=condition[2], condition_code=condition[3], start_date=start,
                       deceased_date=p.deceased, status="discharged" if p.deceased_flag else "active")  # fmt: skip
            if p.deceased_flag:
                row["discharge_date"] = max(p.deceased or p.last_any or start, start)
            self.emit("patients", p.where, **row)

    def convert(self, paths: list[Path], today: dt.date) -> None:
        for path in paths:
            for where, res in self.read(path):
                self.take(where, res)
        self.finish_patients(today)
        if self.synthetic:
            (self.folder / "README.md").write_text(
                "FHIR import of synthetic (Synthea-generated) records.\n", encoding="utf-8"
            )


# Bulk exports name files after the type; read the ones others refer to first.
_ORDER = {t: i for i, t in enumerate(("Practitioner", "Patient", "Condition", "Encounter"))}


def fhir_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    files = [p for p in path.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES]
    return sorted(files, key=lambda p: (_ORDER.get(re.split(r"[.\-_]", p.name)[0], 9), p.name))


@dataclass
class Converted:
    """A FHIR batch in the import format, with what it takes to word its errors and summary."""

    folder: Path
    files: list[str]
    notices: list[str]
    errors: list  # importer.RowError, FHIR-level problems found while reading

    def wheres(self, table: str, lines: set[int]) -> dict[int, Where]:
        """The resources behind data lines of a table's CSV (the header is line 1), in one read."""
        path = self.folder / f".{table}.where"
        found: dict[int, Where] = {}
        if not path.exists() or not lines:
            return found
        last = max(lines)
        with open(path, encoding="utf-8", newline="") as fh:
            for n, row in enumerate(csv.reader(fh), 2):
                if n in lines:
                    file, nd_line, entry, rtype, rid = row
                    found[n] = Where(file, int(nd_line) if nd_line else None,
                                     int(entry) if entry != "" else None, rtype, rid)  # fmt: skip
                if n >= last:
                    break
        return found

    def field_path(self, table: str, column: str | None) -> str:
        return MAPPING.get(table, ("", {}))[1].get(column or "", column or "")


@contextlib.contextmanager
def converted(path: Path, today: dt.date | None = None) -> Iterator[Converted]:
    """Convert the FHIR at `path` into a temporary import folder (removed afterwards)."""
    from dashboard.importer import RowError  # the importer imports this module

    with tempfile.TemporaryDirectory(prefix="mdt-fhir-") as tmp:
        conv = Converter(Path(tmp))
        try:
            conv.convert(fhir_files(path), today or dt.date.today())
        finally:
            conv.close()
        notices = []
        if conv.skipped:
            notices.append(
                "Skipped resources the dashboard does not use: "
                + ", ".join(f"{t} {n:,}" for t, n in sorted(conv.skipped.items()))
                + "."
            )
        if conv.skipped_codes:
            top = ", ".join(f"{c} ({n:,})" for c, n in conv.skipped_codes.most_common(8))
            more = len(conv.skipped_codes) - 8
            notices.append(
                f"Skipped {sum(conv.skipped_codes.values()):,} observations with other codes: "
                + top
                + (f" and {more} more codes" if more > 0 else "")
                + "."
            )
        for table, n in conv.merged.items():
            notices.append(
                f"{n:,} repeated {table} {'row' if n == 1 else 'rows'} (same key) "
                f"{'was' if n == 1 else 'were'} kept once."
            )
        errors = [
            RowError(w.file, w.line, w.place(field_path) if w.rtype != "?" else None, value, rule)
            for w, field_path, value, rule in conv.errors
        ]
        yield Converted(Path(tmp), conv.files, notices, errors)


def mapping_markdown() -> str:
    """The FHIR mapping, for docs/data-dictionary.md."""
    lines = [
        "## FHIR R4 import",
        "",
        "`mdt-dashboard import` (and the Data page upload) also reads FHIR R4: a Bundle "
        f"({', '.join(BUNDLE_TYPES)}) as `.json`, bulk-data `.ndjson` (one resource per line), a "
        "single resource, or a folder of these. Resources are mapped as below and then checked "
        "like any import; errors name the file, the NDJSON line or Bundle entry, and the field. "
        "Other resource types (Claim, ExplanationOfBenefit, Immunization ...) and other "
        "Observation codes are skipped and counted in the summary. References resolve through "
        "`urn:uuid:` full URLs and `Type/id`; one to a resource in neither the batch nor the store "
        "is a row error.",
        "",
        f"- Observations by LOINC code (never display text): {PAIN_SEVERITY} pain severity -> "
        f"pain_ratings (value kept exactly); {PHQ9_TOTAL} PHQ-9 total (item 9 from component "
        f"{PHQ9_ITEM9}) and {GAD7_TOTAL} GAD-7 total -> assessments; {SLEEP_DURATION} sleep "
        "duration -> sleep_diary (hours or minutes to minutes); panels are read through their "
        "components.",
        "- Encounters of class AMB (in person) or VR (tele) -> sessions: finished -> attended, "
        "cancelled -> cancelled_clinic; planned ones and inpatient or emergency stays are "
        "skipped.",
        "- MedicationRequest / MedicationStatement -> medications, drug_class from the drug's "
        "ingredients: "
        + "; ".join(f"{cls}: {', '.join(words)}" for cls, words in DRUG_CLASSES)
        + "; anything else other. The same drug ordered twice on one day is kept once.",
        "- Episode of care: start_date is the onset of the patient's pain condition (below) or the "
        "first pain rating, whichever is earlier (else the first dated record); a deceased patient is "
        "discharged on the date of death, others are active. condition is the pain-relevant "
        "condition, neuropathic first, then chronic pain, then other pain, earliest onset first; "
        "every condition is kept in conditions. Data dated after a recorded death is imported and "
        "listed on the Data page.",
        "",
        "| table | from | column <- FHIR field |",
        "|---|---|---|",
    ]
    for table, (source, cols) in MAPPING.items():
        pairs = "; ".join(f"{c} <- {f}" for c, f in cols.items())
        lines.append(f"| {table} | {source} | {pairs} |")
    return "\n".join(lines)
