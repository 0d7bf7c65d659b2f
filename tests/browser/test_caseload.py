"""Caseload outcomes in a real browser, as a manager uses it: open the page, narrow it to a site,
see the numbers change and the filter land in the URL, then click through to a patient."""

from __future__ import annotations

import re

from playwright.sync_api import expect

import queries
from dashboard import caseload, store
from tests.browser.conftest import (
    clipped_point_labels,
    cut_labels,
    expect_cell,
    metric,
    screenshot,
    scrolling_grids,
    sideways_grids,
    wait_idle,
)
from tests.conftest import AS_OF


def test_filter_then_click_through_to_a_patient(server, page):
    page.set_viewport_size({"width": 1600, "height": 1000})
    page.goto(f"{server.url}/caseload")
    wait_idle(page)
    expect(page.get_by_role("heading", name="Caseload outcomes")).to_be_visible()
    everyone = int(metric(page, "Active patients").inner_text())
    expect(page.locator("[data-testid='stPlotlyChart'] .main-svg").first).to_be_visible()
    assert cut_labels(page) == []  # the clinicians' names and every axis label whole
    screenshot(page, "caseload", whole=True)

    page.locator("[data-testid='stMultiSelect']").filter(has_text="Site").click()
    page.get_by_role("option", name="North Clinic").click()
    page.keyboard.press("Escape")
    wait_idle(page)
    expect(page).to_have_url(re.compile(r"site=North"))
    north = int(metric(page, "Active patients").inner_text())
    assert 0 < north < everyone
    expect(page.get_by_text(re.compile(r"site: North Clinic"))).to_be_visible()
    screenshot(page, "caseload-north")

    # Click the patient with the largest pain reduction in the distribution chart.
    page.get_by_role("tab", name="Pain change").click()
    expect(page).to_have_url(re.compile(r"tab=Pain(\+|%20)change"))  # only the open tab runs
    wait_idle(page)
    bars = page.locator("[data-testid='stPlotlyChart'] g.point path >> visible=true")
    expect(bars.first).to_be_visible()
    bars.first.scroll_into_view_if_needed()
    box = bars.first.bounding_box()  # plotly's drag layer takes the click, as for a user
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + min(20, box["height"] / 2))
    expect(page).to_have_url(re.compile(r"/patient\?patient=P\d{4}"), timeout=30_000)
    wait_idle(page)
    pid = re.search(r"patient=(P\d{4})", page.url).group(1)
    expect(page.locator("[data-testid='stHeading']", has_text=f"({pid})").first).to_be_visible()
    screenshot(page, "caseload-drill-down")
    expect(page.locator("[data-testid='stException']")).to_have_count(0)


def test_a_cohort_at_100_percent_shows_its_n(server, page):
    """On 5 Sep 2026 both patients who started care in July and have been in care 8 weeks have a
    meaningful pain reduction: the cohort's point is at the top of the chart, and its 'n=2, low n'
    above it (it was cut off by the plot's edge)."""
    page.set_viewport_size({"width": 1600, "height": 1000})
    page.goto(f"{server.url}/caseload?tab=Trends&as_of=2026-09-05")
    wait_idle(page)
    chart = page.locator("[data-testid='stPlotlyChart']").filter(
        has_text="Outcome by month of starting care"
    )
    label = chart.locator(".textpoint text", has_text=re.compile(r"^n=2, low n$"))  # under 5
    expect(label).to_be_visible()
    assert clipped_point_labels(page) == []
    screenshot(page, "caseload-cohorts")


def test_every_flag_and_kind_of_barrier_is_in_view(server, page):
    """The flags' table has a row per flag rule and the barriers' a row per kind: each shows
    them all (the flags' scrolled after ten rows, 'Pain flare' cut in half)."""
    page.set_viewport_size({"width": 1600, "height": 1000})
    page.goto(f"{server.url}/caseload?tab=Flags+and+barriers")
    wait_idle(page)
    expect(page.get_by_role("heading", name="Patients by flag")).to_be_visible()
    expect(page.locator("[data-testid='stDataFrame']")).to_have_count(2)
    expect_cell(page, "Safety")  # the grids are drawn
    expect_cell(page, "transport")
    assert scrolling_grids(page) == []


def test_the_breakdown_table_fits_the_shared_screen(server, page, sample_store_file):
    """At 1,600 px with the sidebar open the breakdown shows every column without scrolling
    sideways (it ran 131 px past its edge: 'completeness %' out of view and 'adherence %' cut),
    its shares under the KPIs' names (the cells read '50.0%'), and the first column is named
    for what the rows are. The count of meaningful reductions, a share of 'outcome n', is left
    to the chart's label."""
    sample = store.open_store(sample_store_file, read_only=True)
    cur = sample.cursor()
    groups = caseload.breakdown(
        lambda name, **params: queries.run(cur, name, **params),
        caseload.Period(AS_OF, caseload.DEFAULT_WEEKS),
        caseload.Filters(),
        "clinician",
    )
    sample.close()
    first = groups.iloc[0]
    page.set_viewport_size({"width": 1600, "height": 1000})
    page.goto(f"{server.url}/caseload")
    wait_idle(page)
    grid = page.locator("[data-testid='stDataFrame']")
    heads = grid.locator("[role='columnheader']")
    expect(heads).to_have_count(12)
    assert heads.all_inner_texts() == [
        "clinician", "patients", "active", "outcome n", "meaningful", "substantial",
        "median change", "GAS n", "GAS T ≥ 50", "attendance", "adherence", "completeness",
    ]  # fmt: skip
    row = grid.locator("[role='row']").filter(has_text=first["group"])
    cells = row.locator("[role='gridcell']").all_inner_texts()
    counts = ["patients", "active", "outcome_n"]
    assert cells[:4] == [first["group"], *(str(first[c]) for c in counts)]
    shares = ["meaningful_pct", "substantial_pct", "median_change_pct", "gas_n", "gas_met_pct",
              "attendance_pct", "adherence_pct", "completeness_pct"]  # fmt: skip
    assert [float(c) for c in cells[4:]] == first[shares].astype(float).tolist()
    assert sideways_grids(page) == []
    # The chart's bars are read by the clinicians' names: written near the page's own size (16 px)
    # and in its ink, not as 12.75-px grey ticks a room could not read.
    names = page.locator("[data-testid='stPlotlyChart'] .yaxislayer-above text").evaluate_all(
        "ts => ts.map(t => [t.textContent, parseFloat(getComputedStyle(t).fontSize), t.style.fill])"
    )
    assert sorted(n for n, _, _ in names) == sorted(groups["group"])
    assert {(size, fill) for _, size, fill in names} == {(15, "rgb(34, 34, 34)")}
    screenshot(page, "caseload-breakdown")
