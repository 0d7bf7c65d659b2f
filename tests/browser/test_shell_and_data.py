"""Real browser, real server: the shell, privacy mode, and imports on the Data page."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import sys

from playwright.sync_api import expect

from dashboard import kept, store
from tests.browser.conftest import (
    clipped_point_labels,
    crowded_labels,
    cut_labels,
    cut_text,
    expect_cell,
    launch,
    metric,
    screenshot,
    sideways_grids,
    stop,
    wait_idle,
)
from tests.conftest import AS_OF, ROOT, write_csv

BANNER = "Privacy mode is on"


def new_patient_file(folder, patient_id: str, name: str, start_date: str):
    """A patients.csv with one new active patient."""
    row = {"patient_id": patient_id, "name": name, "condition": "Post-herpetic neuralgia",
           "start_date": start_date, "status": "active"}  # fmt: skip
    return write_csv(folder, "patients", [row])


def upload(page, path) -> None:
    """Choose a file on the Data page, wait for it to upload, as a user waits for its size to
    show, and press Import (pressed while the file uploads, the form is sent without it)."""
    with page.expect_response("**/_stcore/upload_file/**"):
        page.locator("input[type='file']").set_input_files(str(path))
    expect(page.locator("[data-testid='stFileChipIconSpinner']")).to_have_count(0)
    page.get_by_role("button", name="Import", exact=True).click()
    wait_idle(page)


def test_import_pressed_with_no_file_says_what_to_do(server, page):
    page.goto(server.url + "/data")
    wait_idle(page)
    version = metric(page, "Data version").inner_text()
    page.get_by_role("button", name="Import", exact=True).click()
    wait_idle(page)
    expect(page.get_by_text("There is no file to import")).to_have_text(
        "There is no file to import: choose one or more CSV, Parquet or FHIR (.json, .ndjson) "
        "files, and press Import once each shows its size (a file still uploading is not sent). "
        "Nothing was imported; the store is unchanged."
    )
    expect(metric(page, "Data version")).to_have_text(version)


def test_open_the_app_and_go_to_the_data_page(server, page):
    page.goto(server.url)
    wait_idle(page)
    expect(page.get_by_role("heading", name="MDT pain rehabilitation review")).to_be_visible()
    expect(metric(page, "Active patients")).to_have_text("37")  # in care, on hold included
    screenshot(page, "overview")
    page.locator("[data-testid='stSidebar']").get_by_role("link", name="Data").click()
    wait_idle(page)
    expect(page.get_by_role("heading", name="Rows per table")).to_be_visible()
    expect(metric(page, "Patients")).to_have_text("48")
    expect_cell(page, "pain_ratings")  # waits for the grid, which draws after the script ends
    # Every table whole at 1,600 px: the import batches' file names ran past their half.
    assert sideways_grids(page) == []
    screenshot(page, "data-page")


def test_the_overview_links_to_every_page_keeping_privacy_mode(server, page):
    """The overview names each page with what it is for: each name is a link to it (they read
    as links and were bold text), and privacy mode goes along."""
    main = page.locator("[data-testid='stMain']")
    for name, heading in [
        ("Patient", "Patient progress review"),
        ("MDT meeting", "MDT meeting · Friday 20 November 2026"),
        ("Caseload outcomes", "Caseload outcomes"),
        ("Data", "Data"),
    ]:
        page.goto(server.url + "/?privacy_mode=true")
        wait_idle(page)
        main.get_by_role("link", name=name).click()
        wait_idle(page)
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        expect(page.get_by_text(BANNER)).to_be_visible()


def test_a_store_last_written_on_another_day_is_kept_for_the_day_before_the_first_visit(
    sample_store_file, tmp_path, page
):
    db = tmp_path / "store.duckdb"
    shutil.copyfile(sample_store_file, db)
    st = store.open_store(db)
    try:  # as if the last import had been a week before the day the dashboard opens on
        assert kept.keep_day(st, AS_OF - dt.timedelta(days=7))
        version = st.data_version()
    finally:
        st.close()
    log = tmp_path / "server.log"
    running = launch(db, log)  # opens on AS_OF
    try:
        assert "Kept the agenda's and the caseload's answers for 20 Nov 2026" in log.read_text()
        page.goto(running.url + "/data")
        wait_idle(page)
        expect(page.get_by_text("read answers kept for 20 Nov 2026")).to_be_visible()
        expect(metric(page, "Data version")).to_have_text(str(version + 1))  # before the visit
    finally:
        stop(running)


def test_privacy_mode_shows_the_indicator_on_every_page(server, page):
    page.goto(server.url + "/data")
    wait_idle(page)
    expect(page.get_by_text(BANNER)).to_have_count(0)
    expect_cell(page, "Noel Example (P0014)")
    page.get_by_text("Privacy mode", exact=True).click()
    wait_idle(page)
    expect(page.get_by_text(BANNER)).to_be_visible()
    expect_cell(page, "N.E. ·0014")
    expect_cell(page, "Noel Example (P0014)", count=0)
    screenshot(page, "data-privacy-on")
    page.get_by_role("link", name="Overview").click()
    wait_idle(page)
    expect(page.get_by_text(BANNER)).to_be_visible()
    assert "privacy_mode=true" in page.url
    page.reload()  # sticky for the browser session, not just one connection
    wait_idle(page)
    expect(page.get_by_text(BANNER)).to_be_visible()


def test_every_page_fits_a_laptop_with_the_sidebar_open(server, page):
    """On a laptop's 1,280 px with the sidebar open no label, value or button is cut off (they
    were: 'Meaningful pain reducti…', 'Pr…', 'Progress report (HT…', '07 Dec 05:…'), and no
    chart's title or axis label runs past its edge (the questionnaires' title did) or into the
    next, and the data page's row counts are whole."""
    page.set_viewport_size({"width": 1280, "height": 800})
    pages = ("/", "/patient?patient=P0006", "/caseload", "/caseload?tab=Factors", "/data")
    for path in pages:
        page.goto(server.url + path)
        wait_idle(page)
        expect(page.locator("[data-testid='stSidebar']")).to_be_visible()
        expect(page.locator("[data-testid='stMetric']").first).to_be_visible()
        assert (path, cut_text(page)) == (path, [])
        assert (path, cut_labels(page)) == (path, [])
        assert (path, crowded_labels(page)) == (path, [])  # no dates run together
        assert (path, clipped_point_labels(page)) == (path, [])
        if path == "/data":  # the row counts fit their half ('1,27' for 1,272 in two fifths)
            expect_cell(page, "pain_ratings")
            assert "table | group | rows" not in sideways_grids(page)
        if path.startswith("/patient"):
            expect(page.locator("[data-testid='stPlotlyChart'] .main-svg").first).to_be_visible()
            # every table's columns in view: the questionnaires' threshold, the tasks' pain
            # after, the barriers' action and the adaptations' note ran past the page's edge
            assert page.locator("[data-testid='stDataFrame']").count() >= 6
            assert sideways_grids(page) == []
            screenshot(page, "patient-page-1280")


def test_as_of_date_comes_from_the_link(server, page):
    page.goto(server.url + "/?as_of=2026-06-01")
    wait_idle(page)
    expect(page.get_by_text("As of Monday 01 June 2026")).to_be_visible()
    # the 12 patients who had started by then, none of whose care had ended yet
    expect(metric(page, "Active patients")).to_have_text("12")
    expect(page.get_by_text(LINK_NOT_SHOWN)).to_have_count(0)
    page.goto(server.url + "/?as_of=not-a-date")
    wait_idle(page)
    expect(page.get_by_text("As of Friday 20 November 2026")).to_be_visible()
    expect(page.get_by_text(LINK_NOT_SHOWN)).to_have_text(
        'This link\'s as-of date "not-a-date" is not a day the dashboard shows (YYYY-MM-DD, '
        "within ten years of 20 Nov 2026), so it shows 20 Nov 2026."
    )  # it was left out without a word
    expect(page.locator("[data-testid='stException']")).to_have_count(0)


LINK_NOT_SHOWN = "This link"


def test_a_privacy_mode_the_link_garbles_is_on(server, page):
    """privacy_mode=1 (or yes, or given twice) is not one Streamlit reads: it left privacy mode
    off, names on screen. Now it is on, and says why, and stays on as the user moves on."""
    page.goto(server.url + "/data?privacy_mode=1")
    wait_idle(page)
    expect(page.get_by_text(LINK_NOT_SHOWN)).to_have_text(
        'This link\'s privacy_mode "1" is not a single true or false, so privacy mode is on.'
    )
    expect(page.get_by_text(BANNER, exact=True)).to_be_visible()
    expect_cell(page, "N.E. ·0014")
    expect_cell(page, "Noel Example (P0014)", count=0)
    page.get_by_role("link", name="Overview").click()
    wait_idle(page)
    expect(page.get_by_text(BANNER, exact=True)).to_be_visible()
    expect(page.get_by_text(LINK_NOT_SHOWN)).to_have_count(0)  # said once, for the link
    page.goto(server.url + "/data?privacy_mode=true&privacy_mode=false")
    wait_idle(page)
    expect(page.get_by_text(BANNER, exact=True)).to_be_visible()
    expect(page.get_by_text(LINK_NOT_SHOWN)).to_contain_text('"true", "false"')


def test_a_link_to_values_a_page_does_not_offer_says_what_was_left_out(server, page):
    page.goto(server.url + "/caseload?weeks=7&site=Nowhere&site=North+Clinic&tab=Nope")
    wait_idle(page)
    expect(page.get_by_text(LINK_NOT_SHOWN)).to_have_text(
        'This link asks for period (weeks) "7", site "Nowhere", tab "Nope", which this page does '
        "not offer: left out."
    )
    # what it does offer is taken: North Clinic, over the default 12 weeks
    expect(
        page.get_by_text(re.compile(r"\(12 weeks\), against .* · site: North Clinic"))
    ).to_be_visible()
    page.goto(server.url + "/caseload?weeks=26&site=North+Clinic&tab=Patients&by=site")
    wait_idle(page)
    expect(page.get_by_text(LINK_NOT_SHOWN)).to_have_count(0)
    page.goto(server.url + "/patient?patient=P0006&from=2026-13-01")
    wait_idle(page)
    expect(page.get_by_text(LINK_NOT_SHOWN)).to_have_text(
        'This link\'s first day "2026-13-01" is not a day the dashboard shows (YYYY-MM-DD, '
        "within ten years of today), so the charts start at the start of care."
    )
    page.goto(server.url + "/patient?patient=P0006&from=2026-10-01")
    wait_idle(page)
    expect(page.get_by_text(LINK_NOT_SHOWN)).to_have_count(0)
    expect(page.locator("[data-testid='stException']")).to_have_count(0)


def test_upload_a_bad_file_shows_its_error_table_and_changes_nothing(server, page, tmp_path):
    bad = write_csv(
        tmp_path / "bad",
        "pain_ratings",
        [
            {"patient_id": "P0001", "ts": "2026-11-19T20:00", "nrs": "11"},
            {"patient_id": "P4040", "ts": "2026-11-19T20:00", "nrs": "5"},
        ],
    )
    page.goto(server.url + "/data")
    wait_idle(page)
    version = metric(page, "Data version").inner_text()
    upload(page, bad)
    expect(
        page.get_by_text("Nothing was imported: 2 problems in 1 file. The store is unchanged.")
    ).to_be_visible()
    expect_cell(page, "must be between 0 and 10")
    expect_cell(
        page, "refers to patients.patient_id that is neither in this import nor in the store"
    )
    expect_cell(page, "P4040")
    expect_cell(page, "pain_ratings.csv", count=2)
    expect(
        page.get_by_role("button", name="Download the full rejects report (CSV)")
    ).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the full rejects report (CSV)").click()
    report = download.value.path().read_text()
    assert "pain_ratings.csv,2,nrs,11,must be between 0 and 10" in report
    assert "pain_ratings.csv,3,patient_id,P4040," in report
    expect(metric(page, "Data version")).to_have_text(version)
    screenshot(page, "upload-bad-file")


def test_upload_a_good_file_and_see_the_counts_change(server, page, tmp_path):
    good = new_patient_file(tmp_path / "good", "P9001", "Zed Example", "2026-11-02")
    page.goto(server.url + "/data")
    wait_idle(page)
    expect(metric(page, "Patients")).to_have_text("48")
    upload(page, good)
    expect(page.get_by_text("Imported 1 row (patients 1).")).to_be_visible()
    expect(metric(page, "Patients")).to_have_text("49")
    # the new patient has no data yet, so they are listed as without recent data
    expect_cell(page, "Zed Example (P9001)")
    screenshot(page, "upload-good-file")


def test_a_non_csv_upload_gets_a_sentence(server, page, tmp_path):
    odd = tmp_path / "minutes.pdf"
    odd.write_bytes(b"%PDF-1.4 not a table")
    page.goto(server.url + "/data")
    wait_idle(page)
    upload(page, odd)
    expect(page.get_by_text("minutes.pdf is not a CSV or Parquet file")).to_be_visible()
    expect(page.get_by_text("Traceback")).to_have_count(0)


def test_cli_import_while_the_dashboard_runs_is_applied_and_shown(server, page, tmp_path):
    folder = tmp_path / "batch"
    new_patient_file(folder, "P9100", "Yan Example", "2026-11-10")
    page.goto(server.url + "/data")
    wait_idle(page)
    expect(metric(page, "Patients")).to_have_text("48")
    proc = subprocess.run(
        [sys.executable, "-m", "dashboard.cli", "import", str(folder), "--db", str(server.db)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert "queued" in proc.stdout and "in use by the running dashboard" in proc.stdout
    # No reload: the page notices the new data version and shows it.
    expect(metric(page, "Patients")).to_have_text("49", timeout=20_000)
    screenshot(page, "inbox-applied")
