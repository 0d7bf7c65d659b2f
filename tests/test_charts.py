"""The chart builders' Draft: a figure written as plain dicts is the figure plotly's own calls
make, and it is checked when it is made."""

from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from plotly.subplots import make_subplots

from dashboard import caseload, charts
from tests.conftest import typed_array


def spec(fig: go.Figure) -> dict:
    return json.loads(pio.to_json(fig))


def scatter(**properties) -> dict:
    return charts._trace("scatter", **properties)


def test_a_draft_of_subplots_is_the_figure_plotlys_own_calls_make():
    grid = {"rows": 2, "cols": 1, "shared_xaxes": True, "row_heights": [0.7, 0.3],
            "vertical_spacing": 0.05}  # fmt: skip
    draft, own = charts.Draft.subplots(**grid), make_subplots(**grid)
    for fig, trace in ((draft, scatter), (own, go.Scatter)):
        fig.add_trace(
            trace(x=[1, 2], y=[3, 4], line_width=3, marker={"color": "red", "line_width": 1},
                  name="7-day mean"),
            row=1, col=1,
        )  # fmt: skip
        fig.add_trace(trace(x=[1, 2], y=[55, 45], name="GAS T-score"), row=2, col=1)
        fig.update_layout(title={"text": "Pain", "x": 0}, title_font_size=20,
                          hoverlabel={"font_size": 16})  # fmt: skip
        fig.update_xaxes(range=[0, 3])  # every x axis
        fig.update_yaxes(title_text="NRS", dtick=2, row=1, col=1)
        fig.update_yaxes(title_font={"size": 12}, row=1, col=1)  # merged into the title
        fig.add_hline(y=50, line={"color": "green", "dash": "dash"}, row=2, col=1,
                      annotation_text="T = 50", annotation_position="bottom left")  # fmt: skip
        fig.update_traces(line_width=5, selector={"name": "7-day mean"})
        fig.add_annotation(x=2, y=4, text="Baseline 4.0", showarrow=False, font_size=14)
    made = spec(draft.figure())
    assert made == spec(own)
    assert made["data"][0]["line"] == {"width": 5}
    assert made["data"][0]["marker"] == {"color": "red", "line": {"width": 1}}
    assert made["layout"]["yaxis"]["title"] == {"text": "NRS", "font": {"size": 12}}
    assert made["layout"]["shapes"][0]["yref"] == "y2"


def test_a_grid_with_titles_and_a_single_plot_with_a_labelled_line_are_plotlys_own():
    grid = {"rows": 2, "cols": 3, "subplot_titles": ["PHQ9 ↓ better", "GAD7", "PCS", "PSEQ"],
            "vertical_spacing": 0.12, "horizontal_spacing": 0.06}  # fmt: skip
    draft, own = charts.Draft.subplots(**grid), make_subplots(**grid)
    for fig, trace in ((draft, scatter), (own, go.Scatter)):
        for n in range(4):
            fig.add_trace(trace(x=[1], y=[n]), row=n // 3 + 1, col=n % 3 + 1)
            fig.update_yaxes(range=[-0.5, n + 0.5], row=n // 3 + 1, col=n % 3 + 1)
        fig.update_xaxes(tickformat="%b")
        fig.update_annotations(font_size=18)
        # No trace in row 2, col 3: plotly leaves the line out there, and so does the draft.
        fig.add_hline(y=1, line={"color": "red"}, row=2, col=3)
    assert spec(draft.figure()) == spec(own)
    assert [a["font"] for a in spec(own)["layout"]["annotations"]] == [{"size": 18}] * 4

    draft, own = charts.Draft(), go.Figure()
    for fig, bar in ((draft, lambda **k: charts._trace("bar", **k)), (own, go.Bar)):
        fig.add_trace(bar(x=[1, 2], y=[40, 90], marker_color="green", marker_line_width=0))
        fig.add_hline(y=50, line={"color": "red", "width": 2}, annotation_text="below 50%",
                      annotation_position="bottom right",
                      annotation_bgcolor="rgba(255,255,255,0.85)")  # fmt: skip
        fig.update_yaxes(title_text="% of prescribed minutes ↑ better", range=[0, 105])
        fig.update_layout(barmode="stack")
    assert spec(draft.figure()) == spec(own)


def test_arrays_are_sent_as_plotlys_own_conversion_sends_them():
    """The dashboard's walk over a figure's arrays (charts._typed_arrays) gives the JSON that
    plotly's convert_to_base64 gives, byte for byte, for every kind of array a figure holds."""
    import pandas as pd
    from _plotly_utils.utils import convert_to_base64

    days = pd.Series(pd.date_range("2026-01-01", periods=3, freq="D"))
    arrays = {
        "floats with a gap": pd.Series([1.5, float("nan"), -2.0]),
        "small ints": pd.Series([1, -5, 100], dtype="int64"),
        "int16 range": pd.Series([1, 30_000], dtype="int64"),
        "int32 range": pd.Series([1, -2_000_000], dtype="int64"),
        "beyond int32": pd.Series([1, 2**40], dtype="int64"),
        "unsigned": np.array([1, 70_000], dtype="uint64"),
        "int32": pd.Series([3, 4], dtype="int32"),
        "float32": np.array([0.5, 1.25], dtype="float32"),
        "nullable": pd.Series([1, None], dtype="Int64"),
        "bools": pd.Series([True, False]),
        "days": days,
        "zoned": days.dt.tz_localize("Europe/London"),
        "index": pd.Index([2.0, 3.0]),
        "text": pd.Series(["a", "b"]),
        "grid": np.array([[1.0, 2.0], [3.0, 4.0]]),
        "empty": np.array([], dtype="float64"),
        "list": [1, 2, 3],
        "scalar": np.float64(2.5),
    }

    def figure_spec() -> dict:
        return {
            "data": [{"type": "scatter", "name": n, "x": v, "y": v, "customdata": [v, 1],
                      "marker": {"color": v}} for n, v in arrays.items()],
            "layout": {"xaxis": {"range": days, "tickvals": days}, "shapes": [{"x0": 1}]},
        }  # fmt: skip

    theirs, ours = figure_spec(), figure_spec()
    convert_to_base64(theirs)
    charts._typed_arrays(ours)
    assert pio.to_json(ours, validate=False) == pio.to_json(theirs, validate=False)
    sent = json.loads(pio.to_json(ours, validate=False))["data"]
    assert sent[1]["y"]["dtype"] == "i1" and sent[3]["y"]["dtype"] == "i4"  # narrowed
    assert isinstance(sent[4]["y"], list)  # too large to narrow: plain numbers


def test_a_misspelt_property_is_refused_when_the_figure_is_made():
    draft = charts.Draft(scatter(x=[1], y=[2], linee={"width": 3}))
    with pytest.raises(ValueError, match="linee"):
        draft.figure()
    with pytest.raises(ValueError, match="row and col"):
        charts.Draft().add_trace(scatter(x=[1], y=[1]), row=1, col=1)


def _values(spec):
    """A figure's JSON with its typed arrays ({"dtype", "bdata"}, plotly's base64) read back
    into numbers, so two specs compare by what plotly.js draws, not by how arrays are sent."""
    if isinstance(spec, dict) and {"dtype", "bdata"} <= set(spec):
        array = typed_array(spec)
        return [None if v != v else v for v in array.ravel().tolist()], array.shape
    if isinstance(spec, dict):
        return {k: _values(v) for k, v in spec.items()}
    if isinstance(spec, list):
        return [_values(v) for v in spec]
    return spec


def test_every_figure_the_pages_draw_unchecked_is_the_figure_plotly_checks(sample_db, monkeypatch):
    """The dashboard draws its figures unchecked (charts.unchecked): each page of the sample
    store, every caseload tab and privacy mode, each figure compared as it is drawn with the
    same figure made by plotly's validators. A property plotly would spell otherwise (a title
    as a string) or refuse shows here."""
    from streamlit.testing.v1 import AppTest

    from dashboard import store
    from tests.conftest import AS_OF, ROOT

    monkeypatch.setenv(store.DB_ENV, str(sample_db))
    monkeypatch.setenv("MDT_AS_OF", AS_OF.isoformat())
    drawn: list[str] = []
    as_drawn = charts.Unchecked.to_dict

    def compared(fig: charts.Unchecked) -> dict:
        sent = as_drawn(fig)
        draft = fig._draft
        checked = json.loads(pio.to_json(go.Figure(data=draft.data, layout=draft.layout)))
        title = sent["layout"].get("title", {}).get("text", "")
        assert _values(sent) == _values(checked), title
        drawn.append(title)
        return sent

    monkeypatch.setattr(charts.Unchecked, "to_dict", compared)
    visits = [("patient.py", {"patient": p}) for p in ("P0006", "P0044", "P0001")]
    visits += [("meeting.py", {}), ("meeting.py", {"patient": "P0006"})]
    visits += [("caseload.py", {"tab": tab}) for tab in caseload.TABS]
    counts = {}
    for privacy in (False, True):
        at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=60)
        at.run()
        at.sidebar.toggle(key="privacy_mode").set_value(privacy).run()
        for page, params in visits:
            at.query_params.clear()
            at.query_params.update(params)
            before = len(drawn)
            at.switch_page("../pages/" + page).run()
            assert not at.exception, (page, params, at.exception)
            counts[(privacy, page, tuple(params.values()))] = len(drawn) - before
    for privacy in (False, True):
        assert counts[(privacy, "patient.py", ("P0006",))] >= 10, counts  # every chart of it
        assert counts[(privacy, "meeting.py", ("P0006",))] == 1, counts  # the presenter's pain
        caseload_tabs = [counts[(privacy, "caseload.py", (tab,))] for tab in caseload.TABS]
        assert sum(caseload_tabs) >= 8, counts
    assert {"Pain intensity", "Desensitization ladder", "Goal attainment (GAS)"} <= set(drawn)
