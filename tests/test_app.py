"""The app shell and pages through Streamlit's AppTest, on a real store."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import caseload, components, kept, meeting, store
from tests.conftest import AS_OF, ROOT

APP = str(ROOT / "dashboard" / "app.py")


@pytest.fixture
def app(sample_db, monkeypatch):
    monkeypatch.setenv(store.DB_ENV, str(sample_db))
    monkeypatch.setenv("MDT_AS_OF", AS_OF.isoformat())
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def table_with(at, column: str):
    """The first table on screen that has `column`."""
    for df in at.dataframe:
        if column in df.value.columns:
            return df.value
    raise AssertionError(f"no table with a {column!r} column")


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_overview_shows_the_caseload(app):
    assert app.title[0].value == "MDT pain rehabilitation review"
    shown = metrics(app)
    assert shown["Active patients"] == "37"  # in care, P0012 on hold included
    assert shown["Active patients without recent data"] == "1"
    app.switch_page("../pages/caseload.py").run()  # the caseload page counts the same patients
    assert metrics(app)["Active patients"] == "37"
    assert app.sidebar.date_input[0].value == AS_OF
    assert "Data version" in app.sidebar.caption[0].value


def test_the_overview_says_what_is_on_the_days_agenda(app, sample_db):
    """The meeting's card on the overview counts the day's agenda as the meeting page does."""
    app.switch_page("../pages/meeting.py").run()
    on_meeting_page = metrics(app)
    app.switch_page("../pages/overview.py").run()
    sentence = [m.value for m in app.markdown if m.value.startswith("On the agenda")]
    assert sentence == [
        f"On the agenda for Fri 20 Nov: **{on_meeting_page['On the agenda']} patients** "
        f"({on_meeting_page['Urgent']} urgent, {on_meeting_page['Review due']} review due, "
        "0 reviewed)."
    ]
    assert int(on_meeting_page["On the agenda"]) > int(on_meeting_page["Review due"]) > 0
    app.switch_page("../pages/meeting.py").run()
    app.button[0].click().run()  # "Start the meeting": the first patient presented
    next(b for b in app.button if b.label == "Mark reviewed").click().run()
    app.switch_page("../pages/overview.py").run()  # the write moved the data version
    assert [m.value for m in app.markdown if m.value.startswith("On the agenda")] == [
        sentence[0].replace("0 reviewed", "1 reviewed")
    ]
    sample = store.open_store(sample_db)
    empty = meeting.agenda(sample.cursor(), AS_OF).iloc[:0]
    sample.close()
    assert meeting.agenda_at_a_glance(empty, AS_OF) == "Nobody is on the agenda for Fri 20 Nov."


def test_privacy_mode_shows_an_indicator_and_sticks_across_pages(app):
    assert not [i for i in app.info if "Privacy mode is on" in i.value]
    app.sidebar.toggle(key="privacy_mode").set_value(True).run()
    assert [i for i in app.info if "Privacy mode is on" in i.value]
    app.switch_page("../pages/data.py").run()
    assert not app.exception
    assert app.title[0].value == "Data"
    assert app.sidebar.toggle(key="privacy_mode").value is True
    assert [i for i in app.info if "Privacy mode is on" in i.value]


def test_data_page_counts_batches_and_stale_patients(app, sample_db):
    app.switch_page("../pages/data.py").run()
    assert not app.exception
    shown = metrics(app)
    assert shown["Patients"] == "48"
    assert shown["Data version"] == str(store.open_store(sample_db).data_version())
    kept_caption = [c.value for c in app.caption if "kept for" in c.value]
    assert kept_caption == [
        "The agenda and the caseload read answers kept for 20 Nov 2026: the caseload's summary "
        "and flags, its patients for the caseload's 12-week period, the period before it and the "
        "year, what each caseload tab shows when opened (no filter, broken down by "
        "clinician), and the day's meeting agenda. Every import recomputes them, and so does the dashboard when it starts or a "
        "day passes with no import. For any other as-of date, period, filter or breakdown they "
        "compute them when asked."
    ]
    tables = table_with(app, "group")
    counts = tables.set_index("table").rows
    assert counts["pain_ratings"] > 5000 and counts["patients"] == 48
    batches = table_with(app, "accepted")
    assert batches.via.tolist() == ["demo"]
    imported = tables[tables.group.isin(["Reference data", "Session logs"])].rows.sum()
    assert batches.accepted.tolist() == [imported]
    # The store's per-day tables: one row per patient-day with a rating / with practice.
    assert 0 < counts["pain_daily"] < counts["pain_ratings"]
    assert 0 < counts["practice_daily"] < counts["home_practice"]
    stale = table_with(app, "days_without_data")
    assert stale.patient_id.tolist() == ["P0014"]
    assert stale.days_without_data.tolist() == [20]
    assert stale.patient.tolist()[0].endswith("(P0014)")


def test_data_page_masks_patients_in_privacy_mode(app):
    app.sidebar.toggle(key="privacy_mode").set_value(True).run()
    app.switch_page("../pages/data.py").run()
    stale = table_with(app, "days_without_data")
    assert stale.patient.tolist() == ["N.E. ·0014"]  # Noel Example
    everything = " ".join(str(v) for v in stale.to_numpy().ravel())
    assert "Noel" not in everything and "Example" not in everything


def test_changing_the_as_of_date_changes_the_numbers(app):
    app.sidebar.date_input[0].set_value(AS_OF.replace(month=6, day=1)).run()
    assert not app.exception
    assert metrics(app)["Active patients"] != "37"


def test_missing_store_shows_one_sentence(tmp_path, monkeypatch):
    bad = tmp_path / "foreign.duckdb"
    import duckdb

    con = duckdb.connect(str(bad))
    con.execute("CREATE TABLE x (a INT)")
    con.close()
    monkeypatch.setenv(store.DB_ENV, str(bad))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert "not an MDT dashboard store" in at.error[0].value


def test_empty_store_says_what_to_do(tmp_path, monkeypatch):
    from dashboard import store as store_module

    db = tmp_path / "empty.duckdb"
    store_module.open_store(db).close()
    monkeypatch.setenv(store.DB_ENV, str(db))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    assert metrics(at)["Active patients"] == "0"
    assert any("import data on the Data page" in c.value for c in at.caption)
    freshness = at.sidebar.caption[0].value
    assert freshness.startswith("Last import: never") and "UTC" not in freshness
    at.switch_page("../pages/data.py").run()
    assert not at.exception
    assert metrics(at)["Patients"] == "0"
    assert any(c.value == "No imports yet." for c in at.caption)


def test_data_page_lists_a_queued_batch_that_failed(sample_db, tmp_path, monkeypatch):
    from dashboard import importer
    from tests.conftest import write_csv

    folder = tmp_path / "b"
    write_csv(folder, "sessions", [{"session_id": "SX", "patient_id": "P404",
                                    "ts": "2026-11-01T10:00", "status": "attended"}])  # fmt: skip
    queued = importer.queue_batch(sample_db, folder, skip_invalid=False)
    monkeypatch.setenv(store.DB_ENV, str(sample_db))
    monkeypatch.setenv("MDT_AS_OF", AS_OF.isoformat())
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()  # opening the store applies the inbox
    at.switch_page("../pages/data.py").run()
    warnings = [w.value for w in at.warning]
    assert any(queued.batch_id in w and "Nothing was imported" in w for w in warnings), warnings


def test_overview_explains_an_as_of_date_before_the_data(app):
    app.sidebar.date_input[0].set_value(AS_OF.replace(year=2025)).run()
    assert metrics(app)["Active patients"] == "0"
    explained = [c.value for c in app.caption if c.value.startswith("No patient was active on")]
    assert explained and "20 November 2025" in explained[0]
    assert "choose an as-of date in the sidebar" in explained[0]


def test_import_batches_show_counts_before_the_file_list(app, sample_db):
    """The batches' table gives counts (the file names ran past half the screen); the names and
    the batch's id are listed below it."""
    app.switch_page("../pages/data.py").run()
    table = next(t for t in app.dataframe if "accepted" in t.value.columns)
    assert headings(table) == ["when (UTC)", "accepted", "rejected", "files", "from", "via"]
    st_ = store.open_store(sample_db)
    batch_id, files, source = (
        st_.cursor().execute("SELECT batch_id, files, source FROM import_batches").fetchone()
    )
    st_.close()
    assert table.value.file_count.tolist() == [len(files.split(", "))]
    assert table.value.source_name.tolist() == [source.rsplit("/", 1)[-1]]
    listed = [m.value for m in app.expander[0].markdown]
    assert len(listed) == 1 and f"`{batch_id}` · from " in listed[0] and files in listed[0]
    assert "pain_ratings.csv" in files


def test_the_dashboard_keeps_the_answers_a_write_left_unkept_and_the_data_page_says_so(
    sample_db, monkeypatch
):
    st = store.open_store(sample_db)
    try:  # a change that does not keep them (no write of the dashboard's does that)
        with st.write() as w:
            w.execute("UPDATE patients SET review_interval_days = 14 WHERE patient_id = 'P0001'")
        assert kept.kept_as_of(st.cursor()) is None
        written = st.data_version()
        changed = st.meta()["data_changed_at"]
    finally:
        st.close()
    monkeypatch.setenv(store.DB_ENV, str(sample_db))
    monkeypatch.setenv("MDT_AS_OF", AS_OF.isoformat())
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("../pages/data.py").run()
    assert not at.exception
    captions = [c.value for c in at.caption if "kept" in c.value]
    assert len(captions) == 1
    assert captions[0].startswith("The agenda and the caseload read answers kept for 20 Nov 2026")
    assert metrics(at)["Data version"] == str(written + 1)  # kept once, on the first visit
    kept_then = at.metric[2].help
    assert f"Data last changed {components.format_time(pd.Timestamp(changed))}." == kept_then


def headings(table) -> list[str]:
    """A table's column headings as the browser shows them: each column's label where the page
    gives one, else its name; hidden columns left out."""
    config = json.loads(table.proto.columns or "{}")
    shown = [(config.get(str(c)) or {}, str(c)) for c in table.value.columns]
    return [conf.get("label") or name for conf, name in shown if not conf.get("hidden")]


@pytest.mark.parametrize(
    ("page", "params"),
    [
        ("patient", {"patient": "P0006"}),  # teach-back, medications, barriers ...
        ("patient", {"patient": "P0001"}),  # no current band, a medication not stopped ...
        ("data", {}),
        *[
            ("caseload", {"tab": tab})
            for tab in caseload.TABS
            if tab not in ("Pain change", "Trends")
        ],
    ],
)
def test_every_table_is_headed_in_words_and_shows_a_gap_as_a_dash(
    sample_db, monkeypatch, page, params
):
    """A heading reads 'times taught', 'daily dose', 'meaningful %', never a store column name
    such as 'times_taught' or 'ome_mg_day' (the teach-back, medication and factor tables and the
    import batches showed theirs). A value not there (no current rating, a medication not
    stopped) reads '—', not 'None' (the caseload's patient list and breakdown, the factors and
    a patient's conditions showed 'None')."""
    monkeypatch.setenv(store.DB_ENV, str(sample_db))
    monkeypatch.setenv("MDT_AS_OF", AS_OF.isoformat())
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    at.switch_page(f"../pages/{page}.py").run()
    assert not at.exception, at.exception
    tables = [headings(t) for t in at.dataframe]
    assert tables, f"the {page} page {params} shows no table"
    assert [h for table in tables for h in table if "_" in h] == []
    gaps = [t for t in at.dataframe if t.value.isna().to_numpy().any()]
    assert [headings(t)[0] for t in gaps if t.proto.placeholder != "—"] == []
    if params in ({"patient": "P0001"}, {"tab": "Patients"}):
        assert gaps, "the tables have no gap to show"
    if page == "patient":
        assert ["topic", "times taught", "latest", "latest teach-back", "taught back correctly",
                "caregiver present"] in tables  # fmt: skip
        medications = next(t for t in tables if t[0] == "drug")
        assert {"class", "daily dose", "OME", "side effects"} <= set(medications)
