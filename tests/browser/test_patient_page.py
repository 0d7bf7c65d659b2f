"""The patient progress review in a real browser: deep link, every section, the PDF report."""

from __future__ import annotations

from playwright.sync_api import expect
from pypdf import PdfReader

from tests.browser.conftest import crowded_labels, cut_labels, metric, screenshot, wait_idle

SECTIONS = [
    "Since baseline",
    "Pain",
    "Desensitization ladder",
    "Graded functional tasks",
    "Objective measures",
    "Questionnaires",
    "Sleep",
    "Social support and home practice",
    "Medications",
    "Goals and milestones",
    "Attendance",
]


def test_deep_link_opens_the_patient_with_every_section(server, page, tmp_path):
    page.set_viewport_size({"width": 1600, "height": 1000})
    page.goto(f"{server.url}/patient?patient=P0003")
    wait_idle(page)
    header = page.locator("[data-testid='stHeading']", has_text="(P0003)")
    expect(header.first).to_be_visible()
    for section in SECTIONS:
        expect(page.get_by_role("heading", name=section, exact=True)).to_be_visible()
    expect(metric(page, "Pain response")).to_have_text("meaningful")
    # Every time-series chart is drawn (plotly's SVG is in the page), none is empty.
    charts = page.locator("[data-testid='stPlotlyChart'] .main-svg")
    expect(charts.first).to_be_visible()
    assert charts.count() >= 10
    assert cut_labels(page) == []  # every axis label whole on the screen
    assert crowded_labels(page) == []  # and apart from the next
    screenshot(page, "patient-page", whole=True)

    with page.expect_download() as download:
        page.get_by_role("button", name="Progress report (PDF)").click()
    path = tmp_path / "report.pdf"
    download.value.save_as(path)
    reader = PdfReader(path)
    assert 1 <= len(reader.pages) <= 3
    text = " ".join(p.extract_text() for p in reader.pages)
    assert "Progress report" in text and "P0003" in text
    assert "SYNTHETIC DATA" in text


def test_privacy_mode_shows_only_the_alias_and_masks_the_safety_flag(server, page):
    page.set_viewport_size({"width": 1600, "height": 1000})
    page.goto(f"{server.url}/patient?patient=P0006&privacy_mode=true")
    wait_idle(page)
    body = page.locator("[data-testid='stMain']")
    expect(body).to_contain_text("F.E. ·0006")
    expect(body).to_contain_text("safety flag: see record")
    text = body.inner_text()
    assert "Finley Example" not in text
    assert "item 9 =" not in text
    screenshot(page, "patient-page-private")
