"""The progress report: JSON numbers equal the page's, the PDF opens and is masked when private."""

from __future__ import annotations

import io
import json

import pytest
from pypdf import PdfReader

from dashboard import cli, report, store
from tests.conftest import AS_OF
from tests.test_patient_page import PATIENT, hand_summary


@pytest.fixture
def sample(sample_db):
    st_ = store.open_store(sample_db)
    yield st_
    st_.close()


def test_json_has_the_summary_numbers_and_flags(sample):
    data = report.to_json(report.build(sample, PATIENT, AS_OF))
    hand = hand_summary(PATIENT)
    assert (data["baseline_nrs"], data["current_nrs"]) == (hand["baseline"], hand["current"])
    assert (data["change_points"], data["change_pct"]) == (hand["change"], hand["pct"])
    assert data["pain_response"] in ("not yet", "meaningful", "substantial")
    safety = next(f for f in data["flags"] if f["rule"] == "safety")
    assert safety["level"] == "urgent" and safety["values"]["item9"] >= 1
    phq9 = next(i for i in data["instruments"] if i["instrument"] == "PHQ9")
    assert phq9["change"] == phq9["latest"] - phq9["first"]
    # the band the latest score falls in, as the page's table names it (PHQ-9 5-9 mild)
    assert (phq9["latest"], phq9["latest_band"]) == (9, "mild")
    pcs = next(i for i in data["instruments"] if i["instrument"] == "PCS")
    assert (pcs["latest"], pcs["latest_band"]) == (30, "clinically relevant")
    html = report.to_html(report.build(sample, PATIENT, AS_OF), {})
    assert "<th>latest</th><th>latest band</th>" in html
    # the assessment with the threshold it was judged by (PHQ-9: 5 points), as on the page
    assert (
        "<td>PHQ9</td><td>13</td><td>9</td><td>mild</td><td>-4</td>"
        "<td>no meaningful change (&lt; 5)</td>" in html
    )
    # scored once: no change (it read +0)
    assert (
        "<td>DN4</td><td>7</td><td>7</td><td>neuropathic likely</td><td>–</td><td>one score" in html
    )
    assert data["synthetic_data"] is True and data["patient"] == "Finley Example (P0006)"


def test_private_json_masks_the_name_and_the_safety_detail(sample):
    data = report.to_json(report.build(sample, PATIENT, AS_OF, privacy_mode=True))
    text = json.dumps(data, ensure_ascii=False)
    assert data["patient"] == "F.E. ·0006"
    assert "Finley" not in text and "item9" not in text
    assert next(f for f in data["flags"] if f["rule"] == "safety")["reason"] == (
        "safety flag: see record"
    )


def test_pdf_opens_has_one_to_three_pages_and_the_alias_when_private(sample):
    built = report.build(sample, PATIENT, AS_OF, privacy_mode=True)
    pdf = PdfReader(io.BytesIO(report.render(built, "pdf")))
    assert 1 <= len(pdf.pages) <= 3
    text = " ".join(p.extract_text() for p in pdf.pages)
    assert "F.E. ·0006" in text and "Finley" not in text
    assert "safety flag: see record" in text and "item 9" not in text.lower()  # nor its rule
    assert f"data version {built.data_version}" in text and "SYNTHETIC DATA" in text
    for heading in ("Since baseline", "Flags", "Pain intensity", "Questionnaires", "Milestones",
                    "Open barriers and actions"):  # fmt: skip
        assert heading in text


def test_cli_report_json_equals_the_build_and_is_audited(sample_db, capsys):
    assert cli.main(["report", PATIENT, "--format", "json", "--as-of", AS_OF.isoformat(),
                     "--db", str(sample_db)]) == 0  # fmt: skip
    printed = json.loads(capsys.readouterr().out)
    st_ = store.open_store(sample_db)
    try:
        assert printed == report.to_json(report.build(st_, PATIENT, AS_OF))
        audit = st_.cursor().execute("SELECT actor, action, patient_id FROM audit_log").fetchall()
    finally:
        st_.close()
    assert audit == [("cli", "export_report", PATIENT)]


def test_cli_report_unknown_patient_is_one_sentence(sample_db, capsys):
    assert cli.main(["report", "P9999", "--db", str(sample_db), "--format", "json"]) == 1
    err = capsys.readouterr().err
    assert "There is no patient 'P9999'" in err and "Traceback" not in err


def test_cli_report_writes_a_pdf_file(sample_db, tmp_path, capsys):
    out = tmp_path / "r.pdf"
    assert cli.main(["report", PATIENT, "--as-of", AS_OF.isoformat(), "--from", "2026-10-01",
                     "--db", str(sample_db), "--out", str(out)]) == 0  # fmt: skip
    assert out.read_bytes().startswith(b"%PDF")
    assert "Wrote the progress report of Finley Example (P0006)" in capsys.readouterr().out


def test_a_report_on_care_that_has_ended_says_when_it_ran_and_that_no_review_is_due(sample):
    """P0044 dropped out with no discharge date; their last contact was 22 Jul 2026."""
    built = report.build(sample, "P0044", AS_OF)
    data = report.to_json(built)
    assert (data["in_care"], data["end_of_care"][:10]) == (False, "2026-07-22")
    page = report.to_html(built, {})
    assert "in care 2026-05-29 to 2026-07-22 (7.7 weeks)" in page
    assert "review every 14 days, none due (care ended) · status dropped out" in page
    assert "weeks in care since" not in page
