"""Real-browser fixtures: the real `streamlit run` server on a free localhost port, and Debian's
Chromium driven by Playwright (Playwright's own browser download is never used)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from dashboard import server as serving
from dashboard.server import CHROMIUM, CHROMIUM_ARGS, SCRIPT_DONE_JS, Server
from tests.conftest import AS_OF, ROOT

SCREENSHOTS = ROOT / "test-output" / "screenshots"
VIEWPORT = {"width": 1600, "height": 1200}


def launch(db: Path, log_path: Path) -> Server:
    """Start `streamlit run` on the store `db` at the sample's as-of date (dashboard.server)."""
    return serving.launch(db, log_path, AS_OF)


stop = serving.stop


@pytest.fixture
def server(sample_store_file, tmp_path):
    """A dashboard server on its own copy of the sample store."""
    db = tmp_path / "store.duckdb"
    shutil.copyfile(sample_store_file, db)
    running = launch(db, tmp_path / "server.log")
    yield running
    stop(running)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        raise RuntimeError(
            "Debian's chromium is not installed: run `make test`, which installs it."
        )
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser) -> Page:
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    context.close()


LOADED_JS = """() => document.querySelectorAll("[data-testid='stSkeleton']").length === 0"""


def wait_idle(page: Page) -> None:
    """Wait until the app has finished running its script and drawn what it sent: the script
    is done some time before the browser has loaded the code of each kind of element (a table,
    a chart), which is a grey placeholder until then (the caseload's, opened: script done at
    0.45 s, its table drawn at 0.8 s; on a loaded CI machine not within 5 s)."""
    page.wait_for_selector("[data-testid='stApp']")
    expect(page.locator("[data-testid='stStatusWidget']")).to_have_count(0, timeout=30_000)
    page.wait_for_function(SCRIPT_DONE_JS, polling=50, timeout=30_000)
    page.wait_for_function(LOADED_JS, polling=100, timeout=30_000)
    page.wait_for_timeout(300)


def screenshot(page: Page, name: str, whole: bool = False) -> Path:
    """Save a screenshot; `whole` grows the window to the app's full height first (Streamlit
    scrolls inside its own container, so a full-page shot would stop at the window)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    # Streamlit draws a grey placeholder for an element whose code it is still loading (a
    # button, a toggle, a metric on a fresh browser); the picture is of the page as read.
    page.wait_for_function(LOADED_JS, polling=100, timeout=30_000)
    if whole:
        size = page.viewport_size
        height = page.evaluate(
            "() => document.querySelector(\"[data-testid='stMain']\").scrollHeight"
        )
        page.set_viewport_size({"width": size["width"], "height": min(int(height) + 40, 16000)})
        page.wait_for_timeout(800)
        page.screenshot(path=str(path), full_page=True)
        page.set_viewport_size(size)
    else:
        page.screenshot(path=str(path), full_page=True)
    return path


def metric(page: Page, label: str):
    """The value of the metric whose label is `label`."""
    box = page.locator("[data-testid='stMetric']").filter(
        has=page.locator(
            "[data-testid='stMetricLabel']", has_text=re.compile(f"^{re.escape(label)}$")
        )
    )
    return box.locator("[data-testid='stMetricValue']")


def expect_cell(page: Page, text: str, count: int = 1) -> None:
    """Wait until a data-grid cell with exactly `text` is on the page."""
    cell = page.locator(
        "[data-testid='stDataFrame'] [role='gridcell']", has_text=re.compile(f"^{re.escape(text)}$")
    )
    expect(cell).to_have_count(count)


def _each_chart(check: str) -> str:
    """A script listing what `check` finds on each chart of the page: `check` is a JS function
    (chart element, its title, pastEdges) => [problem, ...]; pastEdges(rect, box) names the
    edges of `box` that `rect` reaches past (by more than a pixel)."""
    return (
        "() => { const pastEdges = (r, box) => [r.left < box.left - 1 && 'left', "
        "r.right > box.right + 1 && 'right', r.top < box.top - 1 && 'top', "
        "r.bottom > box.bottom + 1 && 'bottom'].filter(Boolean);\n"
        "return [...document.querySelectorAll(\"[data-testid='stPlotlyChart']\")].flatMap(c => "
        f"({check})(c, c.querySelector('.gtitle')?.textContent || '?', pastEdges)); }}"
    )


# Each chart's axis labels (tick labels and axis titles) that reach past the edge of its drawing:
# cut off on the screen. The text and which edge, per chart title.
CUT_LABELS_JS = _each_chart("""(c, title, pastEdges) => {
  const svg = c.querySelector('.main-svg');
  if (!svg) return [];
  const box = svg.getBoundingClientRect();
  const labels = c.querySelectorAll(  // every axis's ticks, every axis title and the chart's
    ".xaxislayer-above text, .yaxislayer-above text, .infolayer g[class$='title'] text");
  return [...labels].flatMap(t => {
    const r = t.getBoundingClientRect();
    if (!t.textContent || r.width === 0) return [];
    return pastEdges(r, box).map(e => `${title}: "${t.textContent}" past the ${e} edge`);
  });
}""")


def cut_labels(page: Page) -> list[str]:
    """The axis labels of the page's charts that are cut off at an edge (none on a good page)."""
    return page.evaluate(CUT_LABELS_JS)


# Each chart's x-axis tick labels that run into the next one (closer than 4 px, or over it,
# as dates turned aslant are): per chart title, the two labels and how far apart they are.
CROWDED_LABELS_JS = _each_chart("""(c, title) =>
  [...c.querySelectorAll('.xaxislayer-above')].flatMap(layer => {
    const boxes = [...layer.querySelectorAll('text')].filter(t => t.textContent)
      .map(t => [t.textContent, t.getBoundingClientRect()]).filter(([, r]) => r.width > 0)
      .sort((a, b) => a[1].left - b[1].left);
    return boxes.slice(1).flatMap(([text, r], i) => {
      const [before, b] = boxes[i], apart = r.left - b.right;
      return apart < 4 ? [`${title}: "${before}" and "${text}" ${apart.toFixed(1)} px apart`] : [];
    });
  })""")


def crowded_labels(page: Page) -> list[str]:
    """The x-axis labels of the page's charts that run into each other (none on a good page)."""
    return page.evaluate(CROWDED_LABELS_JS)


# Each chart's point labels (a marker's text) cut off by the edge of its plot: drawn inside a
# clipped layer and reaching past the plot's area (a cohort's 'n=2' above its point at 100%).
CLIPPED_POINT_LABELS_JS = _each_chart("""(c, title, pastEdges) =>
  [...c.querySelectorAll('.textpoint text')].flatMap(t => {
    const subplot = t.closest('.subplot'), r = t.getBoundingClientRect();
    if (!t.textContent || r.width === 0 || !subplot || !t.closest('[clip-path]')) return [];
    const id = [...subplot.classList].find(k => k !== 'subplot');
    const area = c.querySelector(`.nsewdrag[data-subplot="${id}"]`)?.getBoundingClientRect();
    return area && pastEdges(r, area).length
      ? [`${title}: "${t.textContent}" cut off at the plot's edge`] : [];
  })""")


def clipped_point_labels(page: Page) -> list[str]:
    """The point labels of the page's charts cut off at their plot's edge (none on a good
    page)."""
    return page.evaluate(CLIPPED_POINT_LABELS_JS)


# The text cut off (wider than the box that clips it, as a label cut to 'Pr…') inside the
# elements a selector finds, as [text, its width, the box's]; charts' SVG text aside (that is
# CUT_LABELS_JS'), and the data grids' cells, which scroll.
CUT_TEXT_JS = """(selector) => [...document.querySelectorAll(selector)]
    .flatMap(root => [...root.querySelectorAll('*')])
    .filter(e => !e.closest('svg') && !e.closest("[data-testid='stDataFrame']")
        && e.textContent.trim() && e.offsetParent !== null
        && getComputedStyle(e).overflowX !== 'visible' && e.scrollWidth > e.clientWidth + 1)
    .map(e => [e.textContent.trim().slice(0, 60), e.scrollWidth, e.clientWidth])"""


# Each data grid that scrolls (its columns run past its width, or its rows past its height,
# as `across` says): its column headings.
SCROLLING_GRIDS_JS = """(across) => [...document.querySelectorAll("[data-testid='stDataFrame']")]
  .filter(g => { const s = g.querySelector('.dvn-scroller');
    return s && (across ? s.scrollWidth > s.clientWidth : s.scrollHeight > s.clientHeight + 1); })
  .map(g => [...g.querySelectorAll("[role='columnheader']")].map(h => h.textContent).join(' | '))"""


def scrolling_grids(page: Page) -> list[str]:
    """The data grids on the page too short for their rows, by their headings."""
    return page.evaluate(SCROLLING_GRIDS_JS, False)


def sideways_grids(page: Page) -> list[str]:
    """The data grids on the page too narrow for their columns, by their headings."""
    return page.evaluate(SCROLLING_GRIDS_JS, True)


def cut_text(page: Page, selector: str = "[data-testid='stMain']") -> list:
    """The text cut off on screen inside `selector` (none on a page that fits its screen)."""
    return page.evaluate(CUT_TEXT_JS, selector)
