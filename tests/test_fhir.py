"""FHIR R4 import: each resource type mapped on small resources written here, the two public
Synthea bundles end to end (every pain rating with its exact value and time, medications classed,
the patient on the patient page), re-import, NDJSON with line numbers, malformed input rejected
with the store unchanged, and records after a recorded death listed."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import queries
from dashboard import components, importer, schema, store
from tests.conftest import ROOT, snapshot

SAMPLES = ROOT.parent / "shared" / "fhir-samples"
HARLAND = SAMPLES / "Harland_DuBuque_64e50922-047c-4b7a-9a9e-75c85ff2144f.json"
WERNER = SAMPLES / "Werner_Funk_88980c97-df54-464c-9fd9-ba079f2f1d98.json"
LOINC = "http://loinc.org"


def coding(code: str, display: str, system: str = LOINC) -> dict:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def obs(oid: str, code: str, display: str, value, when: str, subject="urn:uuid:pat-1", **kw):
    res = {"resourceType": "Observation", "id": oid, "status": "final",
           "code": coding(code, display), "subject": {"reference": subject},
           "effectiveDateTime": when, **kw}  # fmt: skip
    if value is not None:
        res["valueQuantity"] = {"value": value, "unit": "{score}"}
    return res


def bundle(*resources, kind="transaction") -> dict:
    return {
        "resourceType": "Bundle",
        "type": kind,
        "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources],
    }


PATIENT = {
    "resourceType": "Patient", "id": "pat-1",
    "identifier": [{"system": "x", "value": "other-id"},
                   {"type": coding("MR", "Medical Record Number", "v2-0203"), "value": "MRN-77"}],
    "name": [{"use": "official", "family": "Testperson", "given": ["Robin"]}],
    "gender": "female", "birthDate": "1961-04-02",
}  # fmt: skip
PRACTITIONER = {"resourceType": "Practitioner", "id": "doc-1",
                "name": [{"family": "Pretend", "given": ["Alex"], "prefix": ["Dr."]}]}  # fmt: skip


def condition(cid: str, display: str, code: str, onset: str, subject="urn:uuid:pat-1") -> dict:
    return {"resourceType": "Condition", "id": cid, "subject": {"reference": subject},
            "code": coding(code, display, "http://snomed.info/sct"), "onsetDateTime": onset}  # fmt: skip


def medication(mid: str, drug: str, authored: str, **kw) -> dict:
    return {"resourceType": "MedicationRequest", "id": mid, "status": "active", "intent": "order",
            "medicationCodeableConcept": coding("1", drug, "rxnorm"),
            "subject": {"reference": "Patient/pat-1"}, "authoredOn": authored, **kw}  # fmt: skip


def encounter(eid: str, cls: str, status: str, start: str, end: str) -> dict:
    return {"resourceType": "Encounter", "id": eid, "status": status,
            "class": {"code": cls}, "subject": {"reference": "urn:uuid:pat-1"},
            "participant": [{"individual": {"reference": "urn:uuid:doc-1"}}],
            "period": {"start": start, "end": end}}  # fmt: skip


def write(path: Path, doc) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def rows(db: Path, sql: str) -> list[tuple]:
    st_ = store.open_store(db)
    try:
        return st_.cursor().execute(sql).fetchall()
    finally:
        st_.close()


def werner_ratings(st_: store.Store) -> tuple:
    return (
        st_.cursor()
        .execute(
            "SELECT count(*) FROM pain_ratings r JOIN patients p USING (patient_id) "
            "WHERE p.name = 'Werner Funk'"
        )
        .fetchone()
    )


def test_every_resource_type_maps_to_its_table(tmp_path):
    doc = bundle(
        PATIENT,
        PRACTITIONER,
        condition("c-mig", "Chronic intractable migraine without aura", "124171000119105",
                  "2019-01-10T08:00:00+00:00"),
        condition("c-pdn", "Painful diabetic neuropathy (disorder)", "230572002",
                  "2020-03-01T08:00:00+00:00"),
        condition("c-ht", "Hypertension", "38341003", "2010-05-05T08:00:00+00:00"),
        obs("o-1", "72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
            5.47, "2020-03-02T09:15:00+01:00"),
        obs("o-2", "72514-3", "Pain severity 0-10", 6, "2020-03-09T09:15:00+00:00"),
        obs("o-3", "44261-6", "PHQ-9 total", 16, "2020-03-02T09:30:00+00:00",
            component=[{"code": coding("44260-8", "Thoughts of self-harm"),
                        "valueQuantity": {"value": 1}}]),
        obs("o-4", "70274-6", "GAD-7 total", 9, "2020-03-02T09:35:00+00:00"),
        obs("o-5", "93832-4", "Sleep duration", 6.5, "2020-03-03T07:00:00+00:00"),
        obs("o-6", "8302-2", "Body Height", 170, "2020-03-02T09:00:00+00:00"),
        obs("o-7", "x-panel", "A panel", None, "2020-03-04T09:00:00+00:00",
            component=[{"code": coding("72514-3", "Pain"), "valueQuantity": {"value": 4.25}}]),
        medication("m-1", "gabapentin 300 MG Oral Capsule", "2020-03-02"),
        medication("m-2", "Duloxetine 30 MG Delayed Release Oral Capsule", "2020-03-05",
                   dispenseRequest={"validityPeriod": {"end": "2020-06-05"}}),
        medication("m-3", "Acetaminophen 325 MG / oxyCODONE Hydrochloride 5 MG Oral Tablet",
                   "2020-03-06"),
        medication("m-4", "Lidocaine 50 MG/ML Topical Patch", "2020-03-07"),
        medication("m-5", "Naproxen sodium 220 MG Oral Tablet", "2020-03-08"),
        medication("m-6", "amitriptyline hydrochloride 10 MG", "2020-03-09"),
        medication("m-7", "Warfarin Sodium 5 MG Oral Tablet", "2020-03-10"),
        medication("m-8", "gabapentin 300 MG Oral Capsule", "2020-03-02"),  # the same order again
        encounter("e-1", "AMB", "finished", "2020-03-02T09:00:00+00:00", "2020-03-02T09:45:00+00:00"),
        encounter("e-2", "IMP", "finished", "2020-04-01T09:00:00+00:00", "2020-04-03T09:00:00+00:00"),
        encounter("e-3", "AMB", "cancelled", "2020-03-16T09:00:00+00:00", "2020-03-16T09:30:00+00:00"),
        {"resourceType": "Claim", "id": "claim-1"},
        {"resourceType": "Immunization", "id": "imm-1"},
    )  # fmt: skip
    db = tmp_path / "s.duckdb"
    result = importer.import_path(db, write(tmp_path / "in" / "bundle.json", doc))
    assert result.applied, [e.sentence() for e in result.errors]
    notices = " ".join(result.notices)
    assert "Claim 1" in notices and "Immunization 1" in notices and "Encounter (IMP) 1" in notices
    assert "8302-2 (1)" in notices and "x-panel" not in notices  # the panel's pain was read
    assert "1 repeated medications row (same key) was kept once." in notices

    patient = rows(db, "SELECT patient_id, mrn, name, birth_year, sex, condition, condition_code, "
                       "start_date, status, discharge_date FROM patients")  # fmt: skip
    # Neuropathy ranks before migraine (earlier, but less specific); the episode starts at the
    # neuropathy's onset, before any rating.
    assert patient == [("pat-1", "MRN-77", "Robin Testperson", 1961, "F",
                        "Painful diabetic neuropathy (disorder)", "230572002",
                        dt.date(2020, 3, 1), "active", None)]  # fmt: skip
    assert rows(db, "SELECT display, pain_relevant FROM conditions ORDER BY display") == [
        ("Chronic intractable migraine without aura", True),
        ("Hypertension", False),
        ("Painful diabetic neuropathy (disorder)", True),
    ]
    assert rows(db, "SELECT ts, nrs, context, source FROM pain_ratings ORDER BY ts") == [
        (dt.datetime(2020, 3, 2, 8, 15), 5.47, "now", "import"),  # +01:00 stored as UTC
        (dt.datetime(2020, 3, 4, 9, 0), 4.25, "now", "import"),
        (dt.datetime(2020, 3, 9, 9, 15), 6.0, "now", "import"),
    ]
    assert rows(db, "SELECT instrument, date, total, item9 FROM assessments ORDER BY 1") == [
        ("GAD7", dt.date(2020, 3, 2), 9.0, None),
        ("PHQ9", dt.date(2020, 3, 2), 16.0, 1),
    ]
    assert rows(db, "SELECT date, total_sleep_min FROM sleep_diary") == [(dt.date(2020, 3, 3), 390)]
    classes = dict(rows(db, "SELECT drug, drug_class FROM medications"))
    assert classes == {
        "gabapentin 300 MG Oral Capsule": "gabapentinoid",
        "Duloxetine 30 MG Delayed Release Oral Capsule": "snri",
        "Acetaminophen 325 MG / oxyCODONE Hydrochloride 5 MG Oral Tablet": "opioid",
        "Lidocaine 50 MG/ML Topical Patch": "topical",
        "Naproxen sodium 220 MG Oral Tablet": "nsaid",
        "amitriptyline hydrochloride 10 MG": "tca",
        "Warfarin Sodium 5 MG Oral Tablet": "other",
    }
    assert rows(db, "SELECT start_date, stop_date FROM medications WHERE drug LIKE 'Dulox%'") == [
        (dt.date(2020, 3, 5), dt.date(2020, 6, 5))
    ]
    assert rows(db, "SELECT session_id, clinician_id, duration_min, mode, status FROM sessions "
                    "ORDER BY session_id") == [
        ("e-1", "doc-1", 45, "in_person", "attended"),
        ("e-3", "doc-1", 30, "in_person", "cancelled_clinic"),
    ]  # fmt: skip
    assert rows(db, "SELECT clinician_id, name, discipline FROM clinicians") == [
        ("doc-1", "Alex Pretend", "OTHER")
    ]


def test_the_synthea_bundles_import_end_to_end(tmp_path, monkeypatch):
    db = tmp_path / "s.duckdb"
    result = importer.import_path(db, SAMPLES)
    assert result.applied, [e.sentence() for e in result.errors[:5]]
    assert result.files == [HARLAND.name, WERNER.name]
    # Every pain rating of both files, with its exact value and time.
    expected = set()
    for path in (HARLAND, WERNER):
        doc = json.loads(path.read_text(), parse_float=str)
        for e in doc["entry"]:
            r = e["resource"]
            if r["resourceType"] == "Observation" and r["code"]["coding"][0]["code"] == "72514-3":
                when = dt.datetime.fromisoformat(r["effectiveDateTime"]).astimezone(dt.UTC)
                expected.add((when.replace(tzinfo=None), r["valueQuantity"]["value"]))
    stored = {(ts, repr(nrs)) for ts, nrs in rows(db, "SELECT ts, nrs FROM pain_ratings")}
    assert len(expected) == 74 and stored == expected
    assert any("." in v and len(v) > 5 for _, v in expected)  # decimals, kept exactly
    classes = dict(rows(db, "SELECT drug_class, count(*) FROM medications GROUP BY 1"))
    assert classes["opioid"] == 53 and classes["nsaid"] == 1
    harland = rows(db, "SELECT patient_id, condition, start_date, status, discharge_date, "
                       "deceased_date FROM patients WHERE name = 'Harland DuBuque'")[0]  # fmt: skip
    assert harland[1:] == ("Chronic pain", dt.date(1992, 2, 5), "discharged",
                           dt.date(2002, 6, 29), dt.date(2002, 6, 29))  # fmt: skip
    assert rows(db, "SELECT value FROM meta WHERE key = 'synthetic_data'") == [("true",)]

    # Re-import changes nothing.
    before = snapshot(db)
    again = importer.import_path(db, SAMPLES)
    assert again.applied
    after = snapshot(db)
    for t in schema.TABLES:
        assert after[t] == before[t], t

    # On the patient page with an as-of date inside the episode (decades ago).
    monkeypatch.setenv(store.DB_ENV, str(db))
    monkeypatch.setenv("MDT_AS_OF", "2001-06-01")
    at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=60)
    at.query_params["patient"] = harland[0]
    at.run()
    at.switch_page("../pages/patient.py").run()
    assert not at.exception, at.exception
    assert at.header[0].value == f"Harland DuBuque ({harland[0]})"
    metrics = {m.label: m.value for m in at.metric}
    st_ = store.open_store(db)
    try:
        summary = queries.run(st_.cursor(), "patient_summary", as_of=dt.date(2001, 6, 1),
                              patient_ids=[harland[0]]).iloc[0]  # fmt: skip
    finally:
        st_.close()
    assert metrics["Baseline NRS"] == f"{summary.baseline_nrs:.1f}"
    assert bool(summary.in_care)
    components.open_store.clear()


def test_bad_json_is_refused_and_the_store_is_unchanged(tmp_path, sample_db):
    bad = tmp_path / "in" / "bundle.json"
    bad.parent.mkdir()
    bad.write_text('{"resourceType": "Bundle", "type": "transaction", "entry": [', encoding="utf-8")
    before = snapshot(sample_db)
    with pytest.raises(importer.ImportFailed, match=r"bundle.json is not valid JSON \(line 1"):
        importer.import_path(sample_db, bad)
    assert snapshot(sample_db) == before


@pytest.mark.parametrize(
    "doc, message",
    [
        ({"resourceType": "Bundel", "type": "transaction", "entry": []}, "entry"),  # fmt: skip
        (
            {"resourceType": "Bundle", "type": "history", "entry": []},
            "is a FHIR Bundle of type 'history'",
        ),  # fmt: skip
        ({"hello": "world"}, r"is JSON but not a FHIR resource \(it has no resourceType\)"),
    ],
)
def test_a_file_that_is_not_a_readable_bundle_is_refused(tmp_path, sample_db, doc, message):
    before = snapshot(sample_db)
    path = write(tmp_path / "in" / "bundle.json", doc)
    if doc.get("resourceType") == "Bundel":
        result = importer.import_path(sample_db, path)
        assert not result.applied
        assert [e.sentence() for e in result.errors] == [
            "bundle.json, column Bundel/ resourceType = 'Bundel': is not a FHIR R4 resource type"
        ]
    else:
        with pytest.raises(importer.ImportFailed, match=message):
            importer.import_path(sample_db, path)
    assert snapshot(sample_db) == before


def test_a_wrong_resource_type_or_a_broken_reference_names_the_entry(tmp_path, sample_db):
    doc = bundle(
        obs("o-1", "72514-3", "Pain", 5, "2026-11-01T09:00:00+00:00", subject="Patient/P0006"),
        obs("o-2", "72514-3", "Pain", 4, "2026-11-02T09:00:00+00:00", subject="Patient/nobody"),
        {"resourceType": "Observaton", "id": "typo"},
    )
    before = snapshot(sample_db)
    result = importer.import_path(sample_db, write(tmp_path / "in" / "b.json", doc))
    assert not result.applied
    assert sorted(e.sentence() for e in result.errors) == [
        "b.json, column entry[1] Observation/o-2 subject.reference = 'nobody': "
        "refers to patients.patient_id that is neither in this import nor in the store",
        "b.json, column entry[2] Observaton/typo resourceType = 'Observaton': "
        "is not a FHIR R4 resource type",
    ]
    assert snapshot(sample_db) == before
    # The patient in the store resolves: fixed, the batch imports.
    fixed = bundle(doc["entry"][0]["resource"])
    assert importer.import_path(sample_db, write(tmp_path / "in" / "b.json", fixed)).applied


def test_bulk_ndjson_streams_with_line_numbers(tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "Patient.ndjson").write_text(json.dumps(PATIENT | {"id": "pat-1"}) + "\n")
    start = dt.datetime(2020, 1, 1)
    lines = [
        json.dumps(obs(f"o-{i}", "72514-3", "Pain", round(3 + (i % 50) / 10, 2),
                       (start + dt.timedelta(minutes=i)).isoformat() + "+00:00",
                       subject="Patient/pat-1"))
        for i in range(20_000)
    ]  # fmt: skip
    (folder / "Observation.ndjson").write_text("\n".join(lines) + "\n")
    db = tmp_path / "s.duckdb"
    result = importer.import_path(db, folder)
    assert result.applied, [e.sentence() for e in result.errors[:3]]
    assert rows(db, "SELECT count(*) FROM pain_ratings") == [(20_000,)]
    assert result.files == ["Patient.ndjson", "Observation.ndjson"]

    lines[41] = lines[41].replace('"value": 7.1', '"value": 17.1')
    lines[99] = "{not json"
    (folder / "Observation.ndjson").write_text("\n".join(lines) + "\n")
    before = snapshot(db)
    bad = importer.import_path(db, folder)
    assert not bad.applied
    assert sorted(e.sentence() for e in bad.errors) == [
        "Observation.ndjson, line 100 = '{not json': is not valid JSON: "
        "Expecting property name enclosed in double quotes",
        "Observation.ndjson, line 42, column Observation/o-41 valueQuantity.value = '17.1': "
        "must be between 0 and 10",
    ]
    assert snapshot(db) == before


def test_records_after_a_recorded_death_are_imported_and_listed(tmp_path, monkeypatch):
    dead = PATIENT | {"deceasedDateTime": "2020-03-05T10:00:00+00:00"}
    doc = bundle(
        dead,
        obs("o-1", "72514-3", "Pain", 5, "2020-03-01T09:00:00+00:00"),
        obs("o-2", "72514-3", "Pain", 6, "2020-03-08T09:00:00+00:00"),
    )
    db = tmp_path / "s.duckdb"
    assert importer.import_path(db, write(tmp_path / "in" / "b.json", doc)).applied
    assert rows(db, "SELECT status, discharge_date, deceased_date FROM patients") == [
        ("discharged", dt.date(2020, 3, 5), dt.date(2020, 3, 5))
    ]
    st_ = store.open_store(db)
    try:
        listed = queries.run(st_.cursor(), "data_contradictions").to_dict("records")
    finally:
        st_.close()
    assert [(r["record"], r["records"], r["first_date"].date()) for r in listed] == [
        ("pain rating", 1, dt.date(2020, 3, 8))
    ]
    # ... and the Data page lists it.
    monkeypatch.setenv(store.DB_ENV, str(db))
    at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("../pages/data.py").run()
    assert not at.exception, at.exception
    table = next(d.value for d in at.dataframe if "deceased_date" in d.value.columns)
    assert table[["patient_id", "record", "records"]].values.tolist() == [
        ["pat-1", "pain rating", 1]
    ]
    components.open_store.clear()


def test_fhir_from_the_command_line_while_the_store_is_held_is_queued(tmp_path, sample_db):
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, sys; c = duckdb.connect({str(sample_db)!r}); "
         "print('ready', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "ready"
        result = importer.import_path(sample_db, WERNER)
        assert result.queued_to is not None
        assert (result.queued_to / "pain_ratings.csv").exists()
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)
    st_ = store.open_store(sample_db)
    try:
        assert [o.failed for o in importer.apply_inbox(st_)] == [None]
        n = werner_ratings(st_)
        source = (
            st_.cursor()
            .execute("SELECT source FROM import_batches ORDER BY started_at DESC LIMIT 1")
            .fetchone()[0]
        )
    finally:
        st_.close()
    assert n == (30,)
    assert source == f"{WERNER} (FHIR R4: {WERNER.name})"  # not the temporary folder


class Upload:
    """What Streamlit's file uploader hands the Data page: a name and the bytes."""

    def __init__(self, path: Path):
        self.name, self._data = path.name, path.read_bytes()

    def getvalue(self) -> bytes:
        return self._data


def test_the_data_page_upload_takes_a_fhir_bundle(sample_db):
    from dashboard import uploads

    st_ = store.open_store(sample_db)
    try:
        result = uploads.import_uploads(
            st_, [Upload(WERNER)], skip_invalid=False, progress=lambda *_: None
        )
        stored = werner_ratings(st_)
    finally:
        st_.close()
    assert result.applied and result.files == [WERNER.name] and stored == (30,)
    assert result.source == f"upload: {WERNER.name}"
