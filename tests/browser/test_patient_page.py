"""The patient progress review in a real browser: deep link, every section, the PDF report."""

from __future__ import annotations

import datetime as dt

from playwright.sync_api import Page, expect
from pypdf import PdfReader

from tests.browser.conftest import crowded_labels, cut_labels, metric, screenshot, wait_idle
from tests.conftest import AS_OF

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
    for title in ("Home practice by week", "Attendance"):
        for week, (left, right) in weeks_drawn(page, title):
            # a bar is a little narrower than its week (the gap between bars), and within it
            assert week <= left <= week + dt.timedelta(days=1), (title, week, left)
            assert week + dt.timedelta(days=6) <= right <= week + dt.timedelta(days=7), (
                title,
                week,
            )

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


def weeks_drawn(page: Page, title: str, bars: int = 3) -> list[tuple[dt.datetime, tuple]]:
    """The first bars of a weekly chart: the week each names on hover ("Week of 06 Jul"), and the
    days its left and right edges stand over, read off the axis's date ticks ("Aug 9", or
    "Jul 2026" on a longer period)."""
    chart = page.locator(
        "[data-testid='stPlotlyChart']", has=page.locator(".gtitle", has_text=title)
    )
    chart.scroll_into_view_if_needed()
    ticks = chart.locator(".xaxislayer-above text").evaluate_all(
        "ts => ts.map(t => { const r = t.getBoundingClientRect(); "  # a tick's first line
        "return [(t.querySelector('tspan') || t).textContent, r.left + r.width / 2]; })"
    )
    (t0, x0), (t1, x1) = [(on_screen(text), x) for text, x in (ticks[0], ticks[-1])]
    per_day = (x1 - x0) / (t1 - t0).days

    def day_at(x: float) -> dt.datetime:
        return t0 + dt.timedelta(days=(x - x0) / per_day)

    out = []
    for i in range(bars):
        bar = chart.locator(".bars .point path").nth(i)
        box = bar.bounding_box()
        bar.hover(force=True, position={"x": box["width"] * 0.9, "y": box["height"] / 2})
        label = chart.locator(".hoverlayer .hovertext")
        expect(label).to_contain_text("Week of ")
        week = on_screen(label.text_content().split("Week of ")[1][:6])
        out.append((week, (day_at(box["x"]), day_at(box["x"] + box["width"]))))
    return out


def on_screen(text: str) -> dt.datetime:
    """A date as a chart writes it: "Jul 2026" (the month's first day), "Aug 9" or "09 Aug" (in
    the year to the sample's last day)."""
    try:
        return dt.datetime.strptime(text, "%b %Y")
    except ValueError:
        form = "%b %d %Y" if text[0].isalpha() else "%d %b %Y"
        day = dt.datetime.strptime(f"{text.strip()} {AS_OF.year}", form)
        return day if day.date() <= AS_OF else day.replace(year=AS_OF.year - 1)
