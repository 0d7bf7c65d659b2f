"""The dashboard's caches: a cached figure or table is only reused for exactly the same inputs;
answers started ahead (Prefetch) are the queries' own answers."""

from __future__ import annotations

import datetime as dt
import gc
import json

import numpy as np
import pandas as pd
import pytest

import queries
from dashboard import components, store
from tests.conftest import AS_OF


def test_a_figure_input_differing_in_one_cell_of_a_large_frame_is_a_different_key():
    # Streamlit's own hash samples the rows of a frame over 100,000 rows, so two caseloads that
    # differ in one patient could share a cached chart; the figure cache hashes every cell.
    n = 150_000
    a = pd.DataFrame({"patient_id": [f"P{i:06d}" for i in range(n)], "change_pct": np.zeros(n)})
    b = a.copy()
    b.loc[n - 7, "change_pct"] = -30.0
    assert components._frame_digest(a) != components._frame_digest(b)
    assert components._frame_digest(a) == components._frame_digest(a.copy())
    renamed = a.rename(columns={"change_pct": "change_points"})
    assert components._frame_digest(a) != components._frame_digest(renamed)
    with_lists = pd.DataFrame({"patient_id": ["P1"], "because": [["review due"]]})
    assert components._frame_digest(with_lists) != components._frame_digest(
        with_lists.assign(because=[["urgent flag"]])
    )


def test_prefetched_answers_are_the_queries_answers_and_a_wrong_parameter_fails_at_once(
    sample_db, monkeypatch
):
    monkeypatch.setenv(store.DB_ENV, str(sample_db))
    try:
        in_period = dict(patient_id="P0006", start=AS_OF - dt.timedelta(days=27), as_of=AS_OF)
        soon = components.Prefetch(
            flags=("patient_flags", dict(as_of=AS_OF, patient_ids=["P0006"])),
            pain=("patient_pain_daily", in_period),
        )
        cur = components.current_store().cursor()
        flags = queries.run(cur, "patient_flags", as_of=AS_OF, patient_ids=["P0006"])
        pain = queries.run(cur, "patient_pain_daily", **in_period)
        pd.testing.assert_frame_equal(soon["flags"], flags)
        pd.testing.assert_frame_equal(soon["pain"], pain)
        assert "safety" in soon["flags"].flag.tolist()
        assert pd.Timestamp(soon["pain"].day.max()).date() == AS_OF
        with pytest.raises(TypeError, match=r"patient_flags.sql takes \['as_of', 'patient_ids'\]"):
            components.Prefetch(flags=("patient_flags", dict(as_of=AS_OF)))
    finally:
        components.open_store.clear()
        gc.collect()


def test_an_answer_changed_by_a_page_is_not_changed_for_the_next_reader(sample_db, monkeypatch):
    # Answers are shared between reruns and sessions (no copy per read); what one page does to
    # the frame it was handed must not reach the next page that reads the same answer.
    monkeypatch.setenv(store.DB_ENV, str(sample_db))
    try:
        params = dict(as_of=AS_OF, meeting_id=AS_OF.isoformat(), patient_ids=None)
        first = components.query("meeting_agenda", **params)
        expected = first.copy(deep=True)
        first.loc[first.index[0], "current_nrs"] = -1.0
        first["name"] = "changed"
        first.insert(0, "extra", 1)
        again = components.query("meeting_agenda", **params)
        pd.testing.assert_frame_equal(again, expected)
        assert again is not first
        assert len(again) > 0 and again.position.tolist() == list(range(1, len(again) + 1))
    finally:
        components._cached.clear()
        components.open_store.clear()
        gc.collect()


def test_a_shared_figure_is_sent_as_the_chart_builder_made_it():
    # The figure cache keeps each figure's plain-JSON form, made once; what a rerun sends must be
    # what plotly would send for the figure itself: dates, text per point, numeric arrays.
    import plotly.graph_objects as go
    import plotly.io as pio

    days = pd.date_range("2026-09-01", periods=120, freq="D")
    built = go.Figure(
        go.Scatter(
            x=days,
            y=np.linspace(7.5, 4.0, len(days)),
            customdata=pd.DataFrame({"patient_id": [f"P{i:05d}" for i in range(len(days))]}),
            hovertemplate="%{customdata[0]}: %{y:.1f}",
        )
    )
    built.add_hline(y=5.2, annotation_text="baseline 5.2")
    expected = json.loads(pio.to_json(built, validate=False))
    shown = components._ShownFigure.of(built)
    assert shown is built  # not a copy
    sent = json.loads(pio.to_json(shown, validate=False))
    assert sent == expected
    assert sent["data"][0]["customdata"][119] == ["P00119"]
    assert sent["data"][0]["x"][0].startswith("2026-09-01")
    assert shown.to_dict() is shown.to_dict()  # made once


def test_a_few_patients_rows_are_taken_from_the_whole_answer_computed_for_the_same_data(
    sample_db, monkeypatch
):
    """On a day the store keeps nothing for, the agenda computes every patient's summary and
    flags; the page's 40 rows and the presenter's patient then come from those, not from the
    store (their flag lists are made from those patients' flags), and are exactly the rows the
    query gives for them."""
    monkeypatch.setenv(store.DB_ENV, str(sample_db))
    day = AS_OF - dt.timedelta(days=3)  # not the day kept
    try:
        agenda = components.query(
            "meeting_agenda", as_of=day, meeting_id=day.isoformat(), patient_ids=None
        )
        ids = agenda["patient_id"].head(5).tolist()[::-1]  # asked in any order
        cur = components.current_store().cursor()
        expected = {
            name: queries.run(cur, name, as_of=day, patient_ids=ids)
            for name in ("patient_flag_lists", "patient_summary", "patient_flags")
        }
        asked, run = [], queries.run

        def run_on_given(cur, name, given=None, **params):
            asked.append((name, {k: set(v["patient_id"].to_pylist()) for k, v in given.items()}))
            return run(cur, name, given=given, **params)

        monkeypatch.setattr(queries, "run", run_on_given)
        monkeypatch.setattr(queries, "run_arrow", lambda *a, **k: asked.append(a[1]))
        for name, rows in expected.items():
            shown = components.query(name, as_of=day, patient_ids=ids)
            pd.testing.assert_frame_equal(shown, rows)
            assert len(shown) > 0 and set(shown["patient_id"]) <= set(ids)
        # Only the flag lists ran, on those patients' flags; nothing else read the store.
        assert asked == [
            ("patient_flag_lists", {"patient_flags": set(expected["patient_flags"]["patient_id"])})
        ]
    finally:
        components._cached.clear()
        components._included.clear()
        components._WHOLE.clear()
        components.open_store.clear()
        gc.collect()


def test_a_query_is_cached_by_its_parameters_values_alone():
    """The query cache's key (components._key) stands for the parameters' values: the same
    values, the same key; another value, type or list, another key; a value whose repr is not
    its value's alone (an object's address) is refused rather than cached under it."""
    day = dt.date(2026, 11, 20)
    asked = (("as_of", day), ("patient_ids", ["P0001", "P0002"]))
    assert components._key(asked) == components._key(
        (("as_of", dt.date(2026, 11, 20)), ("patient_ids", ["P0001", "P0002"]))
    )
    others = [
        (("as_of", day), ("patient_ids", ["P0001"])),
        (("as_of", day), ("patient_ids", None)),
        (("as_of", dt.datetime(2026, 11, 20)), ("patient_ids", ["P0001", "P0002"])),
        (("as_of", day), ("patient_ids", ["P0001", "P0002"]), ("limit", np.int64(1))),
        (("as_of", day), ("patient_ids", ["P0001", "P0002"]), ("limit", 1.0)),
    ]
    keys = {components._key(p) for p in [asked, *others]}
    assert len(keys) == 1 + len(others)
    with pytest.raises(TypeError, match="not a plain query parameter"):
        components._key((("as_of", object()),))


def test_the_query_cache_computes_a_key_once_for_callers_at_the_same_time_and_keeps_no_error():
    """components._Memo, the query cache: two threads asking for the same key at once get the
    one answer computed once; an error reaches its caller and is not kept; the oldest answer
    goes first when it is full."""
    import threading
    import time

    calls: list[str] = []
    fail = {"x": True}

    def compute(name: str) -> str:
        calls.append(name)
        time.sleep(0.2)  # long enough for the second caller to arrive while it runs
        if name == "x" and fail["x"]:
            raise ValueError("no store")
        return name.upper()

    memo = components._Memo(compute, max_entries=2)
    answers: list[str] = []
    threads = [threading.Thread(target=lambda: answers.append(memo(("a",), "a"))) for _ in "12"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == ["A", "A"] and calls == ["a"]
    with pytest.raises(ValueError, match="no store"):
        memo(("x",), "x")
    fail["x"] = False
    assert memo(("x",), "x") == "X" and calls == ["a", "x", "x"]  # the error was not kept
    assert memo(("b",), "b") == "B"  # full: "a", the oldest, goes
    assert memo(("a",), "a") == "A" and calls == ["a", "x", "x", "b", "a"]


def test_a_table_is_sent_as_st_dataframe_sends_its_frame_and_made_once_for_the_same_cells():
    """components.table hands st.dataframe the Arrow table it would make of the frame itself
    (the same bytes to the browser), made once for the same cells and kept across reruns; a
    frame differing in one cell is made anew."""
    from streamlit import dataframe_util

    def medications() -> pd.DataFrame:  # made anew on every rerun, as the page makes its tables
        return pd.DataFrame(
            {
                "drug": pd.array(["Pregabalin", "Amitriptyline", None], dtype="str"),
                "dose_mg": [150.0, np.nan, 25.0],
                "start_date": pd.to_datetime(["2026-07-02", "2026-08-15", None]),
                "prn": [False, True, False],
                "tablets": pd.array([2, None, 1], dtype="Int32"),
            }
        )

    frame = medications()
    sent = components.shown_table(frame)
    assert dataframe_util.convert_arrow_table_to_arrow_bytes(
        sent
    ) == dataframe_util.convert_pandas_df_to_arrow_bytes(frame)
    again = medications()
    assert components.shown_table(again) is sent
    changed = frame.assign(dose_mg=[150.0, np.nan, 50.0])
    made = components.shown_table(changed)
    assert made is not sent and made.column("dose_mg").to_pylist()[2] == 50.0
    # Spelt as it is made: the same bytes as the spelt frame's, kept apart from the unspelt.
    coded = frame.assign(drug=pd.array(["no_change", "dose_increase", None], dtype="str"))
    spelt = components.shown_table(coded, spell=("drug",))
    assert dataframe_util.convert_arrow_table_to_arrow_bytes(
        spelt
    ) == dataframe_util.convert_pandas_df_to_arrow_bytes(components.spelt(coded, "drug"))
    assert spelt.column("drug").to_pylist() == ["no change", "dose increase", None]
    assert components.shown_table(coded) is not spelt


def test_an_answer_by_its_name_is_drawn_as_its_frame_and_anew_for_new_data(sample_db, monkeypatch):
    """A figure or a table given an Answer (the page's Prefetch.ref) is the one its frame makes;
    once the store's data changes, the page's Answer names the new data version, and its figure
    and table are made anew from the new rows, never the old ones'."""
    monkeypatch.setenv(store.DB_ENV, str(sample_db))
    from dashboard import charts

    start = AS_OF - dt.timedelta(days=27)
    try:

        def opened():
            return components.Prefetch(
                attendance=("patient_attendance_weekly", dict(patient_id="P0006", start=start,
                                                              as_of=AS_OF)),
                medications=("patient_medications", dict(patient_id="P0006", as_of=AS_OF)),
            )  # fmt: skip

        page = opened()
        ref, frame = page.ref("attendance"), page["attendance"]
        assert (ref.name, dict(ref.params)["patient_id"]) == ("patient_attendance_weekly", "P0006")
        by_name = components.figure(charts.attendance, ref, start, AS_OF)
        by_cells = components.figure(charts.attendance, frame, start, AS_OF)
        assert by_name.to_dict() == by_cells.to_dict()
        assert components.figure(charts.attendance, page.ref("attendance"), start, AS_OF) is by_name
        meds = components.shown_table(page.ref("medications"), spell=("change",))
        assert meds.equals(components.shown_table(components.spelt(page["medications"], "change")))
        assert "no_change" not in meds.column("change").to_pylist()

        st_ = components.current_store()
        with st_.write() as w:  # a session at the as-of date now not attended
            w.execute(
                "UPDATE sessions SET status = 'dna' WHERE patient_id = 'P0006' "
                "AND CAST(ts AS DATE) BETWEEN ? AND ?",
                [start, AS_OF],
            )
            w.execute("UPDATE medications SET change = 'stop' WHERE patient_id = 'P0006'")
        later = opened()
        assert later.ref("attendance").data_version > ref.data_version
        redrawn = components.figure(charts.attendance, later.ref("attendance"), start, AS_OF)
        assert redrawn is not by_name
        from_rows = components.figure(charts.attendance, later["attendance"], start, AS_OF)
        assert redrawn.to_dict() == from_rows.to_dict()
        assert redrawn.to_dict() != by_name.to_dict()
        remade = components.shown_table(later.ref("medications"), spell=("change",))
        assert set(remade.column("change").to_pylist()) == {"stop"}
    finally:
        components.open_store.clear()
        gc.collect()


def test_a_links_values_are_read_as_streamlit_reads_them_and_quoted_as_typed():
    assert components.link_day(["2026-11-02"]) == dt.date(2026, 11, 2)
    assert components.link_day(["2026-11-2"]) == dt.date(2026, 11, 2)  # Streamlit takes both
    assert components.link_day(["2026-02-30"]) is None
    assert components.link_day(["2026-11-02", "2026-11-03"]) is None
    switches = (["TRUE"], ["false"], ["1"], ["true", "false"])
    assert [components.readable_switch(v) for v in switches] == [True, True, False, False]
    # A value from the link shows as typed in a Markdown message, not as bold or a colour.
    assert components.quoted(["**x** :red[y]"]) == r'"\*\*x\*\* \:red\[y\]"'
    assert components.quoted(["a" * 50]) == '"' + "a" * 39 + '…"'
