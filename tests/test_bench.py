"""The benchmark runs end to end at a small scale and writes every figure (how fast is for
bench.json to say, never for a test)."""

from __future__ import annotations

import datetime as dt
import json

from dashboard import bench, cli, schema


def test_a_small_benchmark_writes_every_figure(tmp_path, capsys):
    out = tmp_path / "bench"
    assert cli.main(["bench", "--patients", "120", "--weeks", "6", "--out", str(out)]) == 0
    figures = json.loads((out / "bench.json").read_text())
    assert figures["sizes"]["patients"] == 120
    assert figures["sizes"]["rows"]["pain_ratings"] > 0 and figures["sizes"]["store_mb"] > 0
    assert figures["import"]["import_rows"] == sum(figures["sizes"]["rows"].values()) - sum(
        figures["sizes"]["rows"][t]
        for t in (
            "instruments",
            "flag_rules",
            "import_batches",
            *(d.name for d in schema.DERIVED_TABLES),
        )
    )
    assert figures["import"]["import_rows_per_second"] > 0
    assert set(figures["queries"]) == set(bench.PAGES)
    for page, q in figures["queries"].items():
        assert q["cold_ms"] > 0 and q["warm_ms"] > 0, page
        assert figures["scripts"][page]["script_first_ms"] > 0, page
        assert figures["scripts"][page]["script_cached_ms"] > 0, page
        own = figures["scripts"][page]["script_cached_own_ms"]
        assert 0 < own <= figures["scripts"][page]["script_cached_ms"], page
    patient = figures["scripts"]["patient review"]  # patients the page has not drawn yet
    assert patient["script_new_patients"] == bench.NEW_PATIENTS
    assert 0 < patient["script_new_patient_own_ms"] <= patient["script_new_patient_ms"]
    assert figures["scripts"]["peak_rss_mb"] > 50
    assert 0 < figures["floor_ms"] and 0 < figures["floor_cold_ms"]
    for approach in ("ours", "pandas"):
        assert figures[approach]["ms"] > 0 and figures[approach]["peak_rss_mb"] > 20
    browser = figures["browser"]  # the real server and Chromium, as the browser tests use
    for visit in ("first_visit", "link", "next_button"):  # interactive once drawn, or later
        drawn = browser[f"patient_{visit}_drawn_ms"]
        assert 0 < drawn <= browser[f"patient_{visit}_ms"], visit
    assert figures["machine"]["python_loop_ms"] > 0
    assert figures["machine"]["duckdb_parquet_copy_rows_per_second"] > 0
    assert browser["server_peak_rss_mb"] > 50
    table = (out / "bench.md").read_text()
    assert "| caseload | 6 |" in table and "| meeting agenda | 5 |" in table
    # The presenter is timed on a patient of the agenda (it was timed on the patient page's,
    # not on it: the agenda with a warning); the AppTest run checks each page shows its patient.
    assert figures["presented"] == bench.presented(
        bench._agenda_rows(
            out / "bench-120.duckdb", bench._params(dt.date.fromisoformat(figures["as_of"]), "")
        )
    )
    assert f"the presenter {figures['presented']}, the agenda's first row" in table
    assert (
        "the pandas approach" in table
        and "- Against the floor, like for like: meeting agenda" in table
    )
    assert "Patient page in a real browser (Chromium, `streamlit run`)" in table
    assert (
        f"not drawn yet (a Next button or a link, in a dashboard that has drawn others; the median of {bench.NEW_PATIENTS})"
        in table
    )
    assert "This machine's pace: a Python loop" in table and "of DuckDB's own COPY here" in table
    assert "Wrote" in capsys.readouterr().out
    # A second run reuses the store and says so.
    assert cli.main(["bench", "--patients", "120", "--weeks", "6", "--out", str(out)]) == 0
    assert json.loads((out / "bench.json").read_text())["import"] == "reused an existing store"
