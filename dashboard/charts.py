"""Pure figure builders: DataFrames and plain values in, plotly Figures out. No Streamlit, no SQL.

One vocabulary for the whole app: every concept has one colour (Okabe-Ito, colour-blind safe),
every axis has its unit and says which way is better, and every time-series chart of a patient
shares the period's x range. Fonts are sized for a projector.
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
import copy
import datetime as dt
import functools
import json
import re
from collections.abc import Iterator

import numpy as np
import orjson
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from _plotly_utils import utils as plotly_utils  # plotly's own, as its to_dict() uses them
from _plotly_utils.basevalidators import is_homogeneous_array
from plotly.subplots import make_subplots

# Okabe & Ito (2008) colour-blind-safe palette, one colour per concept.
PAIN = "#D55E00"  # vermillion: pain, always
BASELINE = "#555555"
MEANINGFUL = "#009E73"  # bluish green: better / meaningful improvement / achieved
SESSION = "#0072B2"  # blue: sessions, the app's primary colour
MEDICATION = "#CC79A7"  # reddish purple
EVENT = "#E69F00"  # orange: events, partial, warnings
SLEEP = "#56B4E9"  # sky blue
NEUTRAL = "#999999"
INK = "#222222"
SERIES = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")

STATUS_COLOURS = {
    "attended": MEANINGFUL,
    "dna": PAIN,
    "cancelled_patient": EVENT,
    "cancelled_clinic": NEUTRAL,
}
# A session's status in words, for the attendance chart's legend and hover: 'dna' is the clinic's
# code for 'did not attend', and lower-case in a legend it read as the molecule.
STATUS_NAMES = {
    "attended": "attended",
    "dna": "did not attend",
    "cancelled_patient": "cancelled by patient",
    "cancelled_clinic": "cancelled by clinic",
}
MILESTONE_COLOURS = {"achieved": MEANINGFUL, "due": SESSION, "overdue": PAIN}
TEACH_BACK_COLOURS = {"correct": MEANINGFUL, "partial": EVENT, "incorrect": PAIN}
BAND_FILLS = ("#EEF5EC", "#FBF3DD", "#FBE6D4", "#F6D3CB", "#EFC0C0")  # mild .. severe
BAND_NEUTRAL = "#E8EEF4"  # a band the reference gives no direction for

FONT_SIZE = 16
HEIGHT = 380
# The names a caseload bar is read by (a clinician, a site, a factor's group): in the ink and
# near the size of the page's text, not the 12.75-px grey Streamlit's theme gives every tick,
# which a room reads the numbers by but could not read a name in on the shared screen. (Not the
# milestones' labels: at this size they took half of a laptop's chart.)
NAME_TICKS = {"size": FONT_SIZE - 1, "color": INK}
# A week's bar or cell spans its Monday to Sunday: plotly's weekly periods otherwise start on a
# Sunday, and "start" placed a week's bar centred on that Sunday, over the Thursday to Wednesday
# before it (the week of Mon 8 Jun drawn over 4-10 Jun, the first week cut off at the period's edge).
WEEKLY = {"xperiod": 7 * 24 * 3600 * 1000, "xperiod0": "2000-01-03", "xperiodalignment": "middle"}

# Every figure starts from this template: plotly applies the default one without validating it
# again, where naming it in update_layout would copy and validate it for every figure.
pio.templates.default = "plotly_white"


# Property names that are one word with an underscore in them; every other underscore in a
# property's name is plotly's shorthand for a nested one (title_text: title.text).
_ONE_WORD = {"error_x", "error_y", "error_z"}
_AXIS = re.compile(r"[xy]axis\d*")


def _nested(properties: dict) -> dict:
    """`properties` with plotly's underscore shorthand spelt out as nested dicts (new dicts)."""
    out: dict = {}
    for key, value in properties.items():
        if isinstance(value, dict):
            value = _nested(value)
        path = [key] if key in _ONE_WORD else key.split("_")
        for part in reversed(path[1:]):
            value = {part: value}
        _merge(out, {path[0]: value})
    return out


def _merge(into: dict, update: dict) -> dict:
    """plotly's update: nested dicts merged key by key, anything else replaced."""
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = copy.deepcopy(value) if isinstance(value, dict) else value
    return into


def _trace(kind: str, **properties) -> dict:
    return {"type": kind, **_nested(properties)}


@functools.lru_cache(maxsize=32)
def _grid_layout(grid: tuple) -> dict:
    """The layout make_subplots gives a grid (axes, domains, subplot titles), without the
    template, which plotly applies to every figure itself."""
    layout = make_subplots(
        **{k: list(v) if isinstance(v, tuple) else v for k, v in grid}
    ).to_dict()["layout"]
    layout.pop("template", None)
    return layout


class Draft:
    """A figure written as plain dicts with the calls of plotly's own (add_trace, update_layout,
    update_xaxes ...), made a plotly Figure once, by figure(), which checks every property then.
    Through plotly's objects every call checks and copies again: a patient's eleven figures took
    about 220 ms to build that way, and take about 70 ms this way, for every patient opened."""

    def __init__(self, *traces: dict) -> None:
        self.data: list[dict] = []
        self.layout: dict = {}
        self._cols = 0  # a grid's columns; 0: a single plot
        for trace in traces:
            self.add_trace(trace)

    @classmethod
    def subplots(cls, subplot_titles: list[str] | None = None, **grid) -> Draft:
        """As plotly's make_subplots(**grid), whose layout is made once for each grid (and its
        titles added here, as make_subplots places them: above each subplot's centre, row by
        row), since a grid costs ~10 ms to make and each patient's questionnaires have titles
        of their own."""
        draft = cls()
        key = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in grid.items()))
        draft.layout = copy.deepcopy(_grid_layout(key))
        draft._cols = grid.get("cols", 1)
        for n, title in enumerate(subplot_titles or (), start=1):
            axes = "" if n == 1 else str(n)
            if title and f"xaxis{axes}" in draft.layout:  # a title beyond the grid: none
                x, y = (
                    draft.layout[f"xaxis{axes}"]["domain"],
                    draft.layout[f"yaxis{axes}"]["domain"],
                )
                draft.add_annotation(
                    y=y[1], xref="paper", x=sum(x) / 2.0, yref="paper", text=title,
                    showarrow=False, font={"size": 16}, xanchor="center", yanchor="bottom",
                )  # fmt: skip
        return draft

    def _axes(self, row: int | None, col: int | None) -> str:
        """The suffix of the axes of the subplot at (row, col), numbered row by row: '', '2' ..."""
        if row is None or col is None or not self._cols:
            raise ValueError("a subplot is named by its row and col, in a figure of subplots")
        n = (row - 1) * self._cols + col
        return "" if n == 1 else str(n)

    def add_trace(self, trace: dict, row: int | None = None, col: int | None = None) -> Draft:
        if row is not None or col is not None:
            axes = self._axes(row, col)
            trace = {**trace, "xaxis": f"x{axes}", "yaxis": f"y{axes}"}
        self.data.append(trace)
        return self

    def update_layout(self, **properties) -> Draft:
        _merge(self.layout, _nested(properties))
        return self

    def _update_axes(self, kind: str, row, col, properties: dict) -> Draft:
        if row is None and col is None:  # every axis of the kind, as plotly updates them
            names = [k for k in self.layout if k.startswith(kind) and k[len(kind) :].isdigit()]
            names = [k for k in self.layout if k == kind] + names or [kind]
        else:
            names = [kind + self._axes(row, col)]
        update = _nested(properties)
        for name in names:
            _merge(self.layout.setdefault(name, {}), update)
        return self

    def update_xaxes(self, row: int | None = None, col: int | None = None, **properties) -> Draft:
        return self._update_axes("xaxis", row, col, properties)

    def update_yaxes(self, row: int | None = None, col: int | None = None, **properties) -> Draft:
        return self._update_axes("yaxis", row, col, properties)

    def update_traces(self, selector: dict | None = None, **properties) -> Draft:
        update = _nested(properties)
        for trace in self.data:
            if all(trace.get(k) == v for k, v in (selector or {}).items()):
                _merge(trace, update)
        return self

    def add_annotation(self, **properties) -> Draft:
        self.layout.setdefault("annotations", []).append(_nested(properties))
        return self

    def update_annotations(self, **properties) -> Draft:
        update = _nested(properties)
        for annotation in self.layout.get("annotations", []):
            _merge(annotation, update)
        return self

    def add_hline(
        self,
        y: float,
        line: dict,
        row: int | None = None,
        col: int | None = None,
        annotation_text: str | None = None,
        annotation_position: str = "top right",
        **annotation,
    ) -> Draft:
        """As plotly's add_hline: a line across the plot (or the subplot at row, col, unless it
        has no trace) at y, with its label at one end."""
        axes = "" if row is None and col is None else self._axes(row, col)
        if row is not None and not any(t.get("yaxis") == f"y{axes}" for t in self.data):
            return self
        xref, yref = f"x{axes} domain", f"y{axes}"
        self.layout.setdefault("shapes", []).append(
            {"line": dict(line), "type": "line", "x0": 0, "x1": 1, "xref": xref,
             "y0": y, "y1": y, "yref": yref}
        )  # fmt: skip
        if annotation_text is not None:
            vertical, horizontal = annotation_position.split()
            place = {"top": "bottom", "bottom": "top"}[vertical]
            self.add_annotation(
                **{k.removeprefix("annotation_"): v for k, v in annotation.items()},
                showarrow=False, text=annotation_text, x={"left": 0, "right": 1}[horizontal],
                xanchor=horizontal, xref=xref, y=y, yanchor=place, yref=yref,
            )  # fmt: skip
        return self

    def figure(self) -> go.Figure:
        """The plotly Figure, every property checked (a misspelt one raises ValueError); within
        unchecked(), the figure as written (Unchecked)."""
        if not _CHECKED.get():
            return Unchecked(self)
        return go.Figure(data=self.data, layout=self.layout)


_CHECKED = contextvars.ContextVar("charts_checked", default=True)


@contextlib.contextmanager
def unchecked() -> Iterator[None]:
    """The builders called within return their figures as written, not checked by plotly's
    validators (Unchecked): what the dashboard draws. Checking costs as much as the rest of
    making a figure: a patient's eleven figures, made and turned into JSON, took about 205 ms
    checked and take 100-135 ms unchecked (at 20,000 patients, on a machine whose Python loop
    of 10 million additions takes 360 ms). The tests draw every page both ways and compare each
    figure (tests/test_charts.py), so what is drawn unchecked is what plotly would check; the
    progress report's figures are made checked."""
    token = _CHECKED.set(False)
    try:
        yield
    finally:
        _CHECKED.reset(token)


@functools.cache
def _template_json() -> str:
    """The default template as plotly puts it into every figure's layout (pio.templates.default),
    as JSON text, from which each figure reads a copy of its own."""
    return json.dumps(json.loads(go.Figure().to_json())["layout"]["template"])


@functools.cache
def _empty_figure() -> dict:
    """The state of an empty plotly figure (its empty data and layout), made once."""
    return dict(go.Figure().__dict__)


class Unchecked(go.Figure):
    """A figure as a Draft wrote it, plotly's properties not checked: to_dict() gives the spec
    in plain JSON values (made once), as a checked figure's to_dict() would be, the default
    template included. Its plotly objects (data, layout) are empty: it is for drawing."""

    def __init__(self, draft: Draft) -> None:
        # plotly's own __init__ puts a deep copy of the default template into the empty layout
        # (about 1 ms a figure, a twelfth of a patient's figures' time); an Unchecked's plotly
        # objects stay empty, so every one shares one empty figure's.
        self.__dict__.update(_empty_figure())
        self._draft = draft
        self._spec: dict | None = None

    def to_dict(self) -> dict:
        if self._spec is None:
            spec = _copied({"data": self._draft.data, "layout": self._draft.layout})
            # numbers in arrays as plotly's to_dict() sends them, typed (base64)
            _typed_arrays(spec)
            self._spec = orjson.loads(pio.to_json(spec, validate=False))
            if "template" not in self._spec["layout"]:
                # The default template goes in as the plain JSON it already is: walked by both
                # steps above it was over half of their time for a patient's figures.
                self._spec["layout"]["template"] = orjson.loads(_template_json())
        return self._spec


def _as_plotly_sends(v) -> dict | np.ndarray | None:
    """A one-dimensional numpy array, Series or Index held in numpy, as plotly's
    to_typed_array_spec sends it: numbers of a type plotly.js reads as they are (float64,
    int32 ...) as a typed array spec ({"dtype", "bdata"}), times (without a time zone) as their
    numpy array; None for anything else (64-bit integers, which plotly narrows, among them),
    which plotly's own does. Its own sends every array through narwhals and a copy first."""
    if isinstance(v, pd.Series | pd.Index):
        if not isinstance(v.dtype, np.dtype):  # nullable or Arrow-backed: plotly's way
            return None
        v = v.to_numpy()
    if not isinstance(v, np.ndarray) or v.ndim != 1 or v.size == 0:
        return None
    if v.dtype.kind == "M":
        return v
    dtype = v.dtype.name
    if dtype not in plotly_utils.plotlyjsShortTypes:
        return None
    return {
        "dtype": plotly_utils.plotlyjsShortTypes[dtype],
        "bdata": base64.b64encode(np.ascontiguousarray(v)).decode("ascii"),
    }


def _typed_arrays(spec) -> None:
    """plotly's convert_to_base64 (what its to_dict() does to a figure's arrays), walking the
    same keys: arrays of numbers and times made here (_as_plotly_sends), other arrays left to
    plotly's own, and plain values (text, numbers, the lists and dicts walked) not asked
    whether they are arrays. A network patient's figures: 17.5-23.6 ms to 7.4-7.6 (in turn), and
    the same JSON, key for key, for ten patients' 116 figures."""
    if isinstance(spec, dict):
        for key, value in spec.items():
            if isinstance(value, str | int | float) or value is None:
                continue
            if plotly_utils.is_skipped_key(key):
                continue
            if isinstance(value, dict | list | tuple):
                _typed_arrays(value)
                continue
            sent = _as_plotly_sends(value)
            if sent is not None:
                spec[key] = sent
            elif is_homogeneous_array(value):
                spec[key] = plotly_utils.to_typed_array_spec(value)
    elif isinstance(spec, list | tuple):
        for value in spec:
            if isinstance(value, dict | list | tuple):
                _typed_arrays(value)


def _copied(value):
    """The dicts and lists of a spec copied, their values (arrays, Series) shared; a title
    given as its text spelt out as plotly's validators spell it ({"text": ...}), as plotly.js
    reads only that."""
    if isinstance(value, dict):
        return {
            k: {"text": v} if k == "title" and isinstance(v, str) else _copied(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_copied(v) for v in value]
    return value


def _layout(fig: Draft, title: str, height: int = HEIGHT, subtitle: str | None = None) -> Draft:
    """Every chart's title, font, size and margins. Its axes do not grow the margins to fit their
    labels unless they ask to (automargin): the margins fit the labels, and the axes whose
    category labels can be long ask. Fitting them is a second layout pass in the browser for
    every chart (Streamlit's theme turns it on for every axis): a patient's eleven charts took
    450 ms to draw in Chromium with it, and 290 without. Nor does plotly.js measure every tick
    label to hide those past the chart's edge (ticklabeloverflow 'hide past div', its default
    but for category axes): with margins that fit them none is, and the browser tests check
    that none is cut off. Measuring them was a twelfth of the browser's work on a link to a
    patient (a layout query for every label of every axis, on every draw)."""
    axes = [k for k in fig.layout if _AXIS.fullmatch(k)]
    for key in axes + [f"{a}axis" for a in "xy" if f"{a}axis" not in axes]:
        axis = fig.layout.setdefault(key, {})
        axis.setdefault("automargin", False)
        axis.setdefault("ticklabeloverflow", "allow")
    fig.update_layout(
        title={"text": title, "font": {"size": 20}, "x": 0, "xanchor": "left"},
        font={"size": FONT_SIZE, "color": INK},
        height=height,
        margin={"l": 70, "r": 20, "t": 60 if subtitle is None else 105, "b": 50},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 1, "xanchor": "right"},
        hoverlabel={"font_size": FONT_SIZE},
    )
    # A chart whose one named series is its only key entry keeps it: plotly leaves the legend
    # out for a lone entry, and a patient with one task, one status or one response category
    # was left with marks nothing named (two open circles for overdue milestones).
    keyed = [t for t in fig.data if t.get("name") and t.get("showlegend") is not False]
    if len(keyed) == 1:
        keyed[0].setdefault("showlegend", True)
    if subtitle is not None:  # what the marks mean, on a line of its own under the title,
        # both at the top, above the subplots' own titles
        fig.update_layout(
            title={
                "subtitle": {"text": subtitle, "font": {"size": FONT_SIZE}},
                "yref": "container",
                "y": 1,
                "yanchor": "top",
                "pad": {"t": 12},
            }
        )
    return fig


def _period_edges(start: dt.date, end: dt.date) -> list[pd.Timestamp]:
    """The x range of a patient's period: its first and last days whole."""
    return [
        pd.Timestamp(start) - pd.Timedelta(hours=12),
        pd.Timestamp(end) + pd.Timedelta(hours=12),
    ]


def _period(fig: Draft, start: dt.date, end: dt.date) -> Draft:
    """Every time-series chart of a patient shows the same period."""
    fig.update_xaxes(range=_period_edges(start, end))
    return fig


def meaningful_threshold(baseline: float, points: float, pct: float) -> float:
    """The NRS at or below which a reduction from baseline is meaningful (>= points or >= pct)."""
    return round(max(baseline - points, baseline * (1 - pct / 100)), 1)


def pain_trend(
    daily: pd.DataFrame,
    markers: pd.DataFrame,
    baseline: float | None,
    nrs_ref: dict,
    start: dt.date,
    end: dt.date,
    privacy_mode: bool,
) -> go.Figure:
    """Daily pain, its 7-day mean, the baseline and the meaningful-change zone; below it one lane
    each for sessions, medication changes and events, with hover text."""
    return _pain_trend(daily, markers, baseline, nrs_ref, start, end, privacy_mode).figure()


def shared_screen_pain_trend(*args, **kwargs) -> go.Figure:
    """pain_trend(...) readable from across a room (for_shared_screen), for the presenter."""
    return for_shared_screen(_pain_trend(*args, **kwargs)).figure()


def _pain_trend(daily, markers, baseline, nrs_ref, start, end, privacy_mode) -> Draft:
    fig = Draft.subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.78, 0.22], vertical_spacing=0.04
    )
    if baseline is not None and not pd.isna(baseline):
        threshold = meaningful_threshold(
            baseline, nrs_ref["meaningful_change"], nrs_ref["meaningful_change_pct"]
        )
        band_name = (
            f"Meaningful reduction: NRS ≤ {threshold:.1f} (≥ {nrs_ref['meaningful_change']:g} points "
            f"or ≥ {nrs_ref['meaningful_change_pct']:g}% below baseline)"
        )
        fig.add_trace(
            _trace(
                "scatter",
                x=[pd.Timestamp(start), pd.Timestamp(end), pd.Timestamp(end), pd.Timestamp(start)],
                y=[0, 0, threshold, threshold],
                fill="toself",
                mode="lines",
                fillcolor="rgba(0,158,115,0.13)",
                line={"width": 0},
                name=band_name,
                hoverinfo="text",
                hovertext=f"{band_name}<br>Source: {nrs_ref['source']}",
                legendrank=3,
            ),
            row=1,
            col=1,
        )
        fig.add_trace(
            _trace(
                "scatter",
                x=[pd.Timestamp(start), pd.Timestamp(end)],
                y=[baseline, baseline],
                mode="lines",
                line={"color": BASELINE, "dash": "dash", "width": 2},
                name=f"Baseline {baseline:.1f}",
                hovertemplate=f"Baseline NRS {baseline:.1f} (mean of the first 7 days of care)<extra></extra>",
                legendrank=2,
            ),
            row=1,
            col=1,
        )
    fig.add_trace(
        _trace(
            "scatter",
            x=daily["day"],
            y=daily["nrs"],
            mode="markers",
            marker={"color": PAIN, "size": 7, "opacity": 0.45},
            name="Daily pain",
            hovertemplate="%{x|%d %b %Y}: NRS %{y:.1f}<extra>daily mean of now and 24-h average</extra>",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        _trace(
            "scatter",
            x=daily["day"],
            y=daily["nrs_7d_mean"],
            mode="lines",
            line={"color": PAIN, "width": 4},
            name="7-day mean",
            hovertemplate="%{x|%d %b %Y}: 7-day mean %{y:.1f}<extra></extra>",
            legendrank=1,
        ),
        row=1,
        col=1,
    )
    lanes = {"session": "Sessions", "medication": "Medication", "event": "Events"}
    colours = {"session": SESSION, "medication": MEDICATION, "event": EVENT}
    symbols = {"session": "line-ns", "medication": "diamond", "event": "triangle-up"}
    for kind, lane in lanes.items():
        rows = markers[markers["kind"] == kind]
        if rows.empty:
            continue
        hover = [
            f"{lane}: {label}" + (f"<br>{detail}" if detail and not privacy_mode else "")
            for label, detail in zip(rows["label"], rows["detail"].fillna(""), strict=True)
        ]
        fig.add_trace(
            _trace(
                "scatter",
                x=rows["day"],
                y=[lane] * len(rows),
                mode="markers",
                marker={
                    "color": colours[kind],
                    "size": 14,
                    "symbol": symbols[kind],
                    "line": {"width": 3 if kind == "session" else 1, "color": colours[kind]},
                },
                name=lane,
                hovertext=hover,
                hovertemplate="%{x|%d %b %Y}<br>%{hovertext}<extra></extra>",
                showlegend=False,
            ),
            row=2,
            col=1,
        )
    fig.update_yaxes(title_text="Pain NRS (0-10) ↓ better", range=[0, 10.3], dtick=2, row=1, col=1)
    fig.update_yaxes(
        categoryorder="array",
        categoryarray=list(reversed(lanes.values())),
        range=[-0.6, 2.6],
        tickmode="array",  # every lane named, even when large type would crowd the labels
        tickvals=list(reversed(lanes.values())),
        row=2,
        col=1,
    )
    _period(fig, start, end)
    return _layout(fig, "Pain intensity", height=520)


def pain_qualities(
    weekly: pd.DataFrame, interference: pd.DataFrame, start: dt.date, end: dt.date
) -> go.Figure:
    """Pain qualities by week (how many ratings named each) and weekly mean interference."""
    fig = Draft.subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.65, 0.35], vertical_spacing=0.08
    )
    if not weekly.empty:
        # one row per week and quality (the query's groups): laid out as a grid by unstack,
        # a third of pivot_table's time, its counts as pivot_table's mean gave them (floats)
        grid = (
            weekly.dropna(subset=["quality"])
            .set_index(["quality", "week"])["ratings"]
            .unstack("week", fill_value=0)
            .astype("float64")
        )
        fig.add_trace(
            _trace(
                "heatmap",
                x=grid.columns,
                y=grid.index,
                z=grid.to_numpy(),
                colorscale=[[0, "#FFFFFF"], [1, PAIN]],
                zmin=0,
                colorbar={"title": "ratings", "len": 0.6, "y": 0.7},
                hovertemplate="Week of %{x|%d %b}: %{y} in %{z} ratings<extra></extra>",
                **WEEKLY,
            ),
            row=1,
            col=1,
        )
    if not interference.empty:
        fig.add_trace(
            _trace(
                "scatter",
                x=interference["week"],
                y=interference["interference"],
                mode="lines+markers",
                line={"color": PAIN, "width": 3, "dash": "dot"},
                **WEEKLY,  # each week's point in its middle, under its column of qualities
                name="Interference",
                hovertemplate="Week of %{x|%d %b}: interference %{y:.1f}<extra></extra>",
            ),
            row=2,
            col=1,
        )
    fig.update_yaxes(title_text="Interference (0-10) ↓", range=[0, 10.3], row=2, col=1)
    _period(fig, start, end)
    return _layout(fig, "Pain qualities by week and interference", height=460).figure()


def desensitization_ladder(weekly: pd.DataFrame, start: dt.date, end: dt.date) -> go.Figure:
    """Highest tolerated ladder level per modality by week (step lines); setbacks marked with a
    cross; allodynia area below where recorded."""
    has_area = weekly["allodynia_area_cm2"].notna().any()
    fig = Draft.subplots(
        rows=2 if has_area else 1,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.68, 0.32] if has_area else None,
        vertical_spacing=0.08,
    )
    for i, (modality, rows) in enumerate(weekly.groupby("modality", sort=True)):
        colour = SERIES[i % len(SERIES)]
        label = modality.replace("_", " ")
        fig.add_trace(
            _trace(
                "scatter",
                x=rows["week"],
                y=rows["tolerated_level"],
                mode="lines+markers",
                line={"shape": "hv", "color": colour, "width": 3},
                marker={"size": 8},
                name=label,
                customdata=rows[["mean_distress", "highest_tried"]].to_numpy(),
                hovertemplate=(
                    f"{label}<br>Week of %{{x|%d %b}}: level %{{y}} tolerated"
                    "<br>highest tried %{customdata[1]}, mean distress %{customdata[0]}/10<extra></extra>"
                ),
            ),
            row=1,
            col=1,
        )
        setbacks = rows[rows["setback"]]
        if not setbacks.empty:
            fig.add_trace(
                _trace(
                    "scatter",
                    x=setbacks["week"],
                    y=setbacks["tolerated_level"],
                    mode="markers",
                    marker={"symbol": "x", "size": 16, "color": PAIN, "line": {"width": 2}},
                    name="setback",
                    legendgroup="setback",
                    showlegend=i == 0 or "setback" not in {t.get("name") for t in fig.data[:-1]},
                    hovertemplate=f"{label}: setback, level %{{y}} below the week before<extra></extra>",
                ),
                row=1,
                col=1,
            )
    if has_area:
        area = weekly.groupby("week", as_index=False)["allodynia_area_cm2"].max().dropna()
        fig.add_trace(
            _trace(
                "scatter",
                x=area["week"],
                y=area["allodynia_area_cm2"],
                mode="lines+markers",
                line={"color": PAIN, "width": 3},
                name="allodynia area",
                hovertemplate="Week of %{x|%d %b}: %{y:.0f} cm²<extra>allodynia area</extra>",
            ),
            row=2,
            col=1,
        )
        fig.update_yaxes(title_text="Allodynia (cm²) ↓", rangemode="tozero", row=2, col=1)
    fig.update_yaxes(title_text="Level tolerated ↑ better", range=[0, 10.5], dtick=2, row=1, col=1)
    _period(fig, start, end)
    return _layout(fig, "Desensitization ladder", height=520 if has_area else HEIGHT).figure()


def functional_tasks(tasks: pd.DataFrame, start: dt.date, end: dt.date) -> go.Figure:
    """Completion time per task over time; lower is better, as the axis says."""
    fig = Draft()
    for i, (task, rows) in enumerate(tasks.groupby("task", sort=True)):
        fig.add_trace(
            _trace(
                "scatter",
                x=rows["date"],
                y=rows["completion_time_s"] / 60,
                mode="lines+markers",
                line={"color": SERIES[i % len(SERIES)], "width": 3},
                marker={
                    "size": 9,
                    "symbol": [
                        "circle" if c else "circle-open" for c in rows["completed"].fillna(False)
                    ],
                },
                name=task,
                customdata=rows[["level", "pain_before", "pain_after", "microbreaks"]].to_numpy(),
                hovertemplate=(
                    f"{task}<br>%{{x|%d %b}}: %{{y:.1f}} min, level %{{customdata[0]}}"
                    "<br>pain %{customdata[1]} → %{customdata[2]}, %{customdata[3]} micro-breaks<extra></extra>"
                ),
            )
        )
    fig.update_yaxes(title_text="Completion time (min) ↓ better", rangemode="tozero")
    _period(fig, start, end)
    return _layout(fig, "Graded functional tasks (open circle: not completed)", height=420).figure()


def grip_strength(measures: pd.DataFrame, start: dt.date, end: dt.date) -> go.Figure:
    """Grip strength of the affected side against the unaffected side, kg."""
    fig = Draft()
    grip = measures[measures["measure"] == "grip"]
    for affected, colour, label in (
        (True, PAIN, "affected side"),
        (False, NEUTRAL, "unaffected side"),
    ):
        rows = grip[grip["affected"].fillna(False) == affected]
        if rows.empty:
            continue
        fig.add_trace(
            _trace(
                "scatter",
                x=rows["date"],
                y=rows["value"],
                mode="lines+markers",
                line={"color": colour, "width": 3},
                marker={"size": 9},
                name=f"{label} ({'/'.join(sorted(rows['side'].dropna().unique()))})",
                hovertemplate=f"{label}<br>%{{x|%d %b}}: %{{y:.1f}} kg<extra></extra>",
            )
        )
    fig.update_yaxes(title_text="Grip (kg) ↑ better", rangemode="tozero")
    _period(fig, start, end)
    return _layout(fig, "Grip strength").figure()


def range_of_motion(measures: pd.DataFrame, start: dt.date, end: dt.date) -> go.Figure:
    """Range of motion by joint and movement, degrees."""
    fig = Draft()
    rom = measures[measures["measure"] == "rom"]
    for i, ((joint, movement, side), rows) in enumerate(
        rom.groupby(
            [rom["joint"].fillna(""), rom["movement"].fillna(""), rom["side"].fillna("")], sort=True
        )
    ):
        label = " ".join(p for p in (joint, movement, side) if p)
        fig.add_trace(
            _trace(
                "scatter",
                x=rows["date"],
                y=rows["value"],
                mode="lines+markers",
                line={"color": SERIES[i % len(SERIES)], "width": 3},
                marker={"size": 9},
                name=label,
                hovertemplate=f"{label}<br>%{{x|%d %b}}: %{{y:.0f}}°<extra></extra>",
            )
        )
    fig.update_yaxes(title_text="Range of motion (degrees) ↑ better")
    _period(fig, start, end)
    return _layout(fig, "Range of motion").figure()


def _bands(bands_json: str | None) -> list[dict]:
    return json.loads(bands_json) if bands_json else []


def _single_band_fill(direction: str | None, b_lo: float, b_hi: float, lo: float, hi: float) -> str:
    """An instrument's one band is shaded as a warning when it lies at the scale's worse end
    (PCS >= 30, PSEQ < 20), in green at its better end (GAS T >= 50), and neutral when the
    reference gives no direction (PGIC's responders, 1-2)."""
    if direction == "higher_worse":
        return BAND_FILLS[2] if b_hi >= hi else BAND_FILLS[0]
    if direction == "higher_better":
        return BAND_FILLS[2] if b_lo <= lo else BAND_FILLS[0]
    return BAND_NEUTRAL


def questionnaires(
    scores: pd.DataFrame, start: dt.date, end: dt.date, privacy_mode: bool
) -> go.Figure:
    """Small multiples, one per instrument, with the reference bands shaded and the meaningful-change
    line from the first score in the period; PHQ-9 scores with item 9 > 0 ringed (not in privacy
    mode, where safety-item detail is hidden)."""
    # Each instrument's rows by position, found in one pass, and its reference (on each of its
    # rows) read from its first: a filter of the frame per instrument, twice, was 40% of the
    # figure's time (52-54 ms a patient, now 31-35).
    at: dict[str, list[int]] = {}
    for i, code in enumerate(scores["instrument"].tolist()):
        at.setdefault(code, []).append(i)
    instruments = list(at)
    firsts = scores.iloc[[at[code][0] for code in instruments]].to_dict("records")
    refs = dict(zip(instruments, firsts, strict=True))
    cols = 3
    rows_n = (len(instruments) + cols - 1) // cols
    titles = []
    for code in instruments:
        arrow = {"higher_worse": " ↓ better", "higher_better": " ↑ better"}.get(
            refs[code]["direction"], ""
        )
        titles.append(f"{code}{arrow}")
    fig = Draft.subplots(
        rows=rows_n,
        cols=cols,
        subplot_titles=titles,
        vertical_spacing=0.12 if rows_n > 1 else 0.2,
        horizontal_spacing=0.06,
    )
    for n, code in enumerate(instruments):
        r, c = n // cols + 1, n % cols + 1
        ref, dates, totals = (
            refs[code],
            scores["date"].take(at[code]),
            scores["total"].take(at[code]),
        )
        lo = ref["range_min"] if pd.notna(ref["range_min"]) else totals.min()
        hi = ref["range_max"] if pd.notna(ref["range_max"]) else totals.max()
        bands = _bands(ref["bands"])
        for k, band in enumerate(bands):
            b_lo = band["min"] if band["min"] is not None else lo
            b_hi = band["max"] if band["max"] is not None else hi
            if len(bands) == 1:
                fill = _single_band_fill(ref["direction"], b_lo, b_hi, lo, hi)
            else:
                fill = BAND_FILLS[min(k, len(BAND_FILLS) - 1)]
                if ref["direction"] == "higher_better":
                    fill = (
                        BAND_FILLS[len(bands) - 1 - k]
                        if len(bands) - 1 - k < len(BAND_FILLS)
                        else fill
                    )
            fig.add_trace(
                _trace(
                    "scatter",
                    x=[
                        pd.Timestamp(start),
                        pd.Timestamp(end),
                        pd.Timestamp(end),
                        pd.Timestamp(start),
                    ],
                    y=[b_lo - 0.5, b_lo - 0.5, b_hi + 0.5, b_hi + 0.5]
                    if len(bands) > 1
                    else [b_lo, b_lo, b_hi, b_hi],
                    fill="toself",
                    mode="lines",
                    fillcolor=fill,
                    line={"width": 0},
                    hoverinfo="text",
                    hovertext=f"{code} {band['label']}: {b_lo:g}-{b_hi:g}<br>Source: {ref['source']}",
                    showlegend=False,
                    name=f"{code} band {band['label']}",
                ),
                row=r,
                col=c,
            )
        first = totals.iloc[0]
        mc = ref["meaningful_change"]
        if (
            pd.notna(mc)
            and ref["direction"] in ("higher_worse", "higher_better")
            and len(totals) > 1
        ):
            target = first - mc if ref["direction"] == "higher_worse" else first + mc
            fig.add_trace(
                _trace(
                    "scatter",
                    x=[pd.Timestamp(start), pd.Timestamp(end)],
                    y=[target, target],
                    mode="lines",
                    line={"color": MEANINGFUL, "dash": "dash", "width": 2},
                    name=f"{code} meaningful change",
                    showlegend=False,
                    hovertemplate=(
                        f"Meaningful change from the first score ({first:g}): {target:g}"
                        f"<br>{ref['meaningful_change_text']}<br>Source: {ref['source']}<extra></extra>"
                    ),
                ),
                row=r,
                col=c,
            )
        fig.add_trace(
            _trace(
                "scatter",
                x=dates,
                y=totals,
                mode="lines+markers",
                line={"color": INK, "width": 3},
                marker={"size": 9},
                cliponaxis=False,  # a score on the period's first or last day, whole
                name=code,
                showlegend=False,
                hovertemplate=f"{ref['name']}<br>%{{x|%d %b %Y}}: %{{y:g}}<extra></extra>",
            ),
            row=r,
            col=c,
        )
        if code == "PHQ9" and not privacy_mode and "item9" in scores:
            unsafe = scores.take(at[code])
            unsafe = unsafe[unsafe["item9"].fillna(0) > 0]
            if not unsafe.empty:
                fig.add_trace(
                    _trace(
                        "scatter",
                        x=unsafe["date"],
                        y=unsafe["total"],
                        mode="markers",
                        marker={
                            "size": 20,
                            "symbol": "circle-open",
                            "color": PAIN,
                            "line": {"width": 4},
                        },
                        cliponaxis=False,  # a ring on the period's first day, whole
                        name="PHQ-9 item 9 > 0",
                        customdata=unsafe["item9"],
                        hovertemplate="URGENT: PHQ-9 item 9 = %{customdata}<extra>safety</extra>",
                        showlegend=False,
                    ),
                    row=r,
                    col=c,
                )
        fig.update_yaxes(range=[lo - 0.5, hi + 0.5], row=r, col=c)
    fig.update_xaxes(range=[pd.Timestamp(start), pd.Timestamp(end)], tickformat="%b")
    fig.update_annotations(font_size=18)
    # The key under the title, not in it: in one line it ran past a laptop's chart (1,280 px).
    return _layout(
        fig,
        "Questionnaires",
        height=290 * rows_n + 105,
        subtitle="Shaded: reference bands. Dashed green: meaningful change from the first score.",
    ).figure()


def sleep_and_pain(sleep: pd.DataFrame, start: dt.date, end: dt.date) -> go.Figure:
    """Nightly total sleep (hours), and sleep quality beside the next day's pain, both 0-10."""
    fig = Draft.subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08)
    # Quality on every night of the diary's span, none where no night was logged: the line
    # breaks there rather than drawing a straight run across nights nobody rated.
    quality = sleep.set_index("date")["quality"]
    if not quality.empty:
        quality = quality.reindex(pd.date_range(quality.index[0], quality.index[-1], freq="D"))
    fig.add_trace(
        _trace(
            "bar",
            x=sleep["date"],
            y=sleep["total_sleep_min"] / 60,
            marker={"color": SLEEP},
            name="Total sleep",
            hovertemplate="Night of %{x|%d %b}: %{y:.1f} h<extra></extra>",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        _trace(
            "scatter",
            x=quality.index,
            y=quality.to_numpy(),
            mode="lines+markers",  # a night logged alone, between gaps, is a point
            line={"color": SESSION, "width": 3},
            marker={"size": 5},
            name="Sleep quality (0-10) ↑",
            hovertemplate="Night of %{x|%d %b}: quality %{y:.1f}<extra></extra>",
        ),
        row=2,
        col=1,
    )
    fig.add_trace(
        _trace(
            "scatter",
            x=sleep["date"],
            y=sleep["next_day_nrs"],
            mode="markers",
            marker={"color": PAIN, "size": 7, "opacity": 0.7},
            name="Next-day pain (NRS) ↓",
            hovertemplate="Day after the night of %{x|%d %b}: NRS %{y:.1f}<extra></extra>",
        ),
        row=2,
        col=1,
    )
    fig.update_yaxes(title_text="Sleep (h) ↑", rangemode="tozero", row=1, col=1)
    # two measures on one 0-10 scale, better in opposite directions: the key says which way
    fig.update_yaxes(title_text="0-10", range=[0, 10.3], row=2, col=1)
    _period(fig, start, end)
    return _layout(fig, "Sleep and next-day pain", height=480).figure()


def caregiver_and_peer_support(support: pd.DataFrame, start: dt.date, end: dt.date) -> go.Figure:
    """Caregiver involvement over time (step) and peer-group sessions in the past 4 weeks (bars)."""
    fig = Draft.subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.1)
    levels = ["none", "occasional", "regular"]
    fig.add_trace(
        _trace(
            "scatter",
            x=support["date"],
            y=support["caregiver_involvement"],
            mode="lines+markers",
            line={"shape": "hv", "color": MEANINGFUL, "width": 3},
            marker={"size": 10},
            name="Caregiver involvement",
            hovertemplate="%{x|%d %b}: caregiver involvement %{y}<extra></extra>",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        _trace(
            "bar",
            x=support["date"],
            y=support["peer_group_sessions"],
            width=3 * 24 * 3600 * 1000,
            marker={"color": SESSION},
            name="Peer-group sessions",
            hovertemplate="%{x|%d %b}: %{y} peer-group sessions in the past 4 weeks<extra></extra>",
        ),
        row=2,
        col=1,
    )
    fig.update_yaxes(categoryorder="array", categoryarray=levels, range=[-0.5, 2.5], row=1, col=1)
    fig.update_yaxes(title_text="Peer sessions / 4 wk", rangemode="tozero", row=2, col=1)
    _period(fig, start, end)
    return _layout(fig, "Caregiver involvement and peer support", height=420).figure()


def home_practice(
    weekly: pd.DataFrame, threshold_pct: float, start: dt.date, end: dt.date
) -> go.Figure:
    """Weekly home-practice adherence (%) with the low-adherence flag threshold, and the share of
    completed minutes done with a caregiver."""
    fig = Draft()
    fig.add_trace(
        _trace(
            "bar",
            x=weekly["week"],
            y=weekly["adherence_pct"],
            marker={"color": MEANINGFUL},
            name="Adherence",
            customdata=weekly[["completed_min", "prescribed_min"]].to_numpy(),
            hovertemplate="Week of %{x|%d %b}: %{y:.0f}% (%{customdata[0]} of %{customdata[1]} min)<extra></extra>",
            **WEEKLY,
        )
    )
    fig.add_trace(
        _trace(
            "scatter",
            x=weekly["week"],
            y=weekly["caregiver_assisted_pct"],
            **WEEKLY,
            mode="lines+markers",
            line={"color": MEDICATION, "width": 3},
            cliponaxis=False,  # 0% (none with a caregiver) drawn whole on the axis
            name="Caregiver-assisted share",
            hovertemplate="Week of %{x|%d %b}: %{y:.0f}% of completed minutes with a caregiver<extra></extra>",
        )
    )
    # The flag rule's line is named in the legend: a label on the plot, boxed to be read over
    # the bars, hid the top of a bar just under the line, the very weeks the team looks for.
    fig.add_trace(
        _trace(
            "scatter",
            x=_period_edges(start, end),
            y=[threshold_pct, threshold_pct],
            mode="lines",
            line={"color": PAIN, "dash": "dash", "width": 2},
            name=f"low home practice: below {threshold_pct:g}% (flag rule)",
            hoverinfo="skip",
        )
    )
    fig.update_yaxes(title_text="% of prescribed minutes ↑ better", range=[0, 105])
    _period(fig, start, end)
    return _layout(fig, "Home practice by week").figure()


def goal_attainment(
    reviews: pd.DataFrame, gas_t: pd.DataFrame, start: dt.date, end: dt.date
) -> go.Figure:
    """GAS attainment per goal by review (-2..+2) and the GAS T-score over time (50 = as expected)."""
    fig = Draft.subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.1)
    for i, (goal_id, rows) in enumerate(reviews.groupby("goal_id", sort=True)):
        fig.add_trace(
            _trace(
                "scatter",
                x=rows["date"],
                y=rows["attainment"],
                mode="lines+markers",
                line={"color": SERIES[i % len(SERIES)], "width": 3},
                marker={"size": 9},
                name=f"{goal_id} ({rows['domain'].iloc[0]})",
                hovertemplate=f"{goal_id}<br>%{{x|%d %b}}: attainment %{{y:+d}}<extra></extra>",
            ),
            row=1,
            col=1,
        )
    fig.add_trace(
        _trace(
            "scatter",
            x=gas_t["review_date"],
            y=gas_t["gas_t"],
            mode="lines+markers",
            line={"color": INK, "width": 4},
            marker={"size": 10},
            name="GAS T-score",
            hovertemplate="%{x|%d %b}: T = %{y:.1f}<extra>Kiresuk & Sherman 1968; Turner-Stokes 2009</extra>",
        ),
        row=2,
        col=1,
    )
    fig.add_hline(
        y=50,
        line={"color": MEANINGFUL, "dash": "dash", "width": 2},
        row=2,
        col=1,
        annotation_text="T = 50: goals met as expected",
        annotation_position="bottom left",
    )
    fig.update_yaxes(title_text="Attainment ↑", range=[-2.4, 2.4], dtick=1, row=1, col=1)
    fig.update_yaxes(title_text="GAS T ↑", row=2, col=1)
    _period(fig, start, end)
    return _layout(fig, "Goal attainment (GAS)", height=520).figure()


def milestones(rows: pd.DataFrame, start: dt.date, end: dt.date) -> go.Figure:
    """Milestones on the time axis: achieved (on the achieved date), due and overdue (on the due date)."""
    fig = Draft()
    when = rows["achieved_date"].fillna(rows["due_date"])
    labels = [  # a long description cut to fit beside the axis, whole on hover
        f"{m} · {d[:40]}…" if len(d) > 40 else f"{m} · {d}"
        for m, d in zip(rows["milestone_id"], rows["description"], strict=True)
    ]
    for status, colour in MILESTONE_COLOURS.items():
        mask = rows["status"] == status
        if not mask.any():
            continue
        fig.add_trace(
            _trace(
                "scatter",
                x=when[mask],
                y=[labels[i] for i in range(len(rows)) if mask.iloc[i]],
                mode="markers",
                marker={
                    "size": 16,
                    "color": colour,
                    "symbol": "diamond" if status == "achieved" else "circle-open",
                    "line": {"width": 3, "color": colour},
                },
                name=status,
                customdata=rows.loc[mask, ["milestone_id", "description"]].to_numpy(),
                hovertemplate=(
                    f"%{{customdata[0]}}: %{{customdata[1]}}<br>{status} %{{x|%d %b %Y}}"
                    "<extra></extra>"
                ),
            )
        )
    fig.update_yaxes(categoryorder="array", categoryarray=list(reversed(labels)), automargin=True)
    _period(fig, start, end)
    return _layout(fig, "Milestones", height=max(260, 60 + 42 * len(rows))).figure()


def attendance(weekly: pd.DataFrame, start: dt.date, end: dt.date) -> go.Figure:
    """Sessions by status per week (stacked)."""
    fig = Draft()
    for status, colour in STATUS_COLOURS.items():
        rows = weekly[weekly["status"] == status]
        if rows.empty:
            continue
        fig.add_trace(
            _trace(
                "bar",
                x=rows["week"],
                y=rows["sessions"],
                marker={"color": colour},
                name=STATUS_NAMES[status],
                hovertemplate=f"Week of %{{x|%d %b}}: %{{y}} {STATUS_NAMES[status]}<extra></extra>",
                **WEEKLY,
            )
        )
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title_text="Sessions per week", rangemode="tozero", dtick=1)
    _period(fig, start, end)
    return _layout(fig, "Attendance").figure()


def for_shared_screen(fig: Draft, height: int = 560) -> Draft:
    """The same figure, readable from across a room: larger type, thicker lines, and the baseline
    and meaningful-change zone labelled on the plot itself instead of in a legend.

    Beside the flags on a laptop's or a projector's 1,280 px its plot was 228 px wide of 441:
    the axis title and the lanes' names took the rest, and the dates ran into each other (at
    1,600 px '15 Nov' touched '29 Nov'; at 1,280 they were turned aslant and overlapped). So
    what the axis means is said under the title, the lanes are named in smaller type, and there
    are at most five dates (plotly places one per 80 px or so, for its own 12-px type), as short
    as they can be."""
    big = FONT_SIZE + 8
    fig.update_layout(
        height=height,
        showlegend=False,
        font={"size": big},
        title={
            "font": {"size": big + 6},
            "subtitle": {"text": "NRS 0-10, lower is better", "font": {"size": big - 4}},
            "yref": "container",
            "y": 1,
            "yanchor": "top",
            "pad": {"t": 12},
        },
        hoverlabel={"font_size": big},
        margin={"l": 90, "r": 30, "t": 100, "b": 40},
    )
    # the large labels grow the margins as they need (the others do not: _layout)
    fig.update_xaxes(
        tickfont={"size": big},
        title_font={"size": big},
        automargin=True,
        nticks=5,
        tickformatstops=[  # '1 Oct' a week or a month apart; further apart, month and year
            {"dtickrange": [None, "M1"], "value": "%-d %b"},
            {"dtickrange": ["M2", None], "value": "%b<br>%Y"},
        ],
    )
    fig.update_yaxes(tickfont={"size": big}, title_font={"size": big}, automargin=True)
    fig.update_yaxes(title_text="", row=1, col=1)  # said in the subtitle
    fig.update_yaxes(tickfont={"size": big - 6}, row=2, col=1)  # the lanes
    fig.update_traces(line_width=5, selector={"name": "7-day mean"})
    fig.update_traces(marker_size=9, selector={"name": "Daily pain"})
    for trace in fig.data:
        name = trace.get("name") or ""
        x, y = trace.get("x"), trace.get("y")
        if name.startswith("Baseline"):  # above the dashed line, at its left end, where the
            # baseline was measured: at the right end it hid the latest days' 7-day mean
            place = {"x": x[0], "y": y[0], "xanchor": "left", "yanchor": "bottom"}
        elif name.startswith("Meaningful reduction"):  # inside the zone, top left
            label = name.split(" (")[0].replace(": ", ":<br>")  # narrow beside the flags
            place = {"x": x[0], "y": max(y), "xanchor": "left", "yanchor": "top"}
        else:
            continue
        fig.add_annotation(
            **place,
            text=name if name.startswith("Baseline") else label,
            xref="x",
            yref="y",
            showarrow=False,
            font={"size": big - 2, "color": INK},
            align="left",
            bgcolor="rgba(255,255,255,0.8)",
        )
    return fig


# ---- Caseload outcomes -------------------------------------------------------------------------
RESPONSE_COLOURS = {
    "substantial": "#005C42",  # a darker bluish green: more than meaningful
    "meaningful": MEANINGFUL,
    "not yet": NEUTRAL,
}
RESPONSE_LABELS = {
    "substantial": "substantial (>= 50% down)",
    "meaningful": "meaningful (>= 30% or >= 2 points down)",
    "not yet": "not yet",
}


def _n(n: int, low_n: int) -> str:
    """A share's n as its label gives it: 'n=7', or 'n=2, low n' under the low-n threshold."""
    return f"n={n}{', low n' if n < low_n else ''}"


def _n_label(value, n: int, low_n: int) -> str:
    text = "–" if value is None or pd.isna(value) else f"{value:.0f}%"
    return f"{text} ({_n(n, low_n)})"


MANY_POINTS = 300  # more patients than a chart can give each a bar or point of their own


def pain_change_distribution(patients: pd.DataFrame, nrs_ref: dict) -> go.Figure:
    """One bar per patient (in care >= 8 weeks with a current rating): % change of NRS from
    baseline, coloured by response class, with the meaningful and substantial lines. Sorted by
    class, then by change: each class is one block as wide as its count, also across thousands
    of patients (a meaningful change of 2 points can be under 30%, and would otherwise be one
    invisible bar among the others). Each bar carries the patient id (customdata) for the
    drill-down."""
    rank = {response: i for i, response in enumerate(RESPONSE_COLOURS)}
    df = (
        patients.assign(_rank=patients["pain_response"].map(rank))
        .sort_values(["_rank", "change_pct"], kind="stable")
        .reset_index(drop=True)
    )
    fig = Draft()
    for response, colour in RESPONSE_COLOURS.items():
        part = df[df["pain_response"] == response]
        fig.add_trace(
            _trace(
                "bar",
                x=part.index,
                y=part["change_pct"],
                marker_color=colour,
                marker_line_width=0,  # the template's white outlines wash out thousands of bars
                name=RESPONSE_LABELS[response],
                customdata=part[["patient_id"]],
                hovertemplate="%{customdata[0]}: %{y:+.1f}% from baseline<extra>"
                + response
                + "</extra>",
            )
        )
    for pct, label in (
        (-nrs_ref["meaningful_change_pct"], "meaningful"),
        (-nrs_ref["substantial_change_pct"], "substantial"),
    ):
        fig.add_hline(
            y=pct,
            line={"color": INK, "dash": "dash", "width": 1.5},
            annotation_text=f"{label}: {pct:g}% ({nrs_ref['source']})",
            annotation_position="bottom right",
        )
    fig.add_hline(y=0, line={"color": BASELINE, "width": 1})
    fig.update_xaxes(title="patients by response, then change (click a bar to open the patient)",
                     showticklabels=False)  # fmt: skip
    fig.update_yaxes(title="NRS change from baseline (%) ↓ better")
    # Gaps only while a bar is wider than a few pixels: across a network's thousands of patients
    # the bars touch, so the response classes keep their colours.
    fig.update_layout(bargap=0.05 if len(df) <= MANY_POINTS else 0, barmode="overlay")
    return _layout(fig, f"Pain change per patient (n = {len(df):,})", height=440).figure()


def breakdown_bars(groups: pd.DataFrame, by: str, low_n: int) -> go.Figure:
    """Share with meaningful pain reduction per group, each bar labelled with its n; low-n
    groups drawn pale."""
    df = groups.sort_values("meaningful_pct", na_position="first")
    colours = [MEANINGFUL if n >= low_n else "#B8E0D2" for n in df["outcome_n"]]
    fig = Draft(
        _trace(
            "bar",
            x=df["meaningful_pct"],
            y=df["group"],
            orientation="h",
            marker_color=colours,
            text=[
                _n_label(v, n, low_n)
                for v, n in zip(df["meaningful_pct"], df["outcome_n"], strict=True)
            ],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}: %{text}<extra></extra>",
        )
    )
    fig.update_xaxes(title="meaningful pain reduction (% of patients in care >= 8 weeks) → better",
                     range=[0, 115], ticksuffix="%")  # fmt: skip
    fig.update_yaxes(automargin=True, tickfont=NAME_TICKS)
    return _layout(
        fig, f"Meaningful pain reduction by {by}", height=max(260, 60 + 44 * len(df))
    ).figure()


def cohort_trend(cohorts: pd.DataFrame, low_n: int) -> go.Figure:
    """Share with meaningful pain reduction by month of starting care, with n on each point;
    low-n cohorts as hollow markers, their n marked 'low n' as the breakdown's bars are."""
    df = cohorts.copy()
    df["month"] = pd.to_datetime(df["cohort_month"])
    fig = Draft(
        _trace(
            "scatter",
            x=df["month"],
            y=df["meaningful_pct"],
            mode="lines+markers+text",
            line={"color": MEANINGFUL, "width": 3},
            marker={
                "size": 12,
                "color": [MEANINGFUL if n >= low_n else "white" for n in df["outcome_n"]],
                "line": {"color": MEANINGFUL, "width": 2},
            },
            text=[_n(n, low_n) for n in df["outcome_n"]],
            textposition="top center",
            cliponaxis=False,  # a cohort at 100% shows its n above it (it was cut off)
            name="meaningful reduction",
            showlegend=False,  # the axis names it
            hovertemplate="%{x|%b %Y}: %{y:.0f}% (%{text})<extra></extra>",
        )
    )
    fig.update_xaxes(title="month care started", dtick="M1", tickformat="%b %Y")
    fig.update_yaxes(title="meaningful reduction (%) → better", range=[0, 105], ticksuffix="%")
    return _layout(
        fig, "Outcome by month of starting care (patients still in care >= 8 weeks)"
    ).figure()


def caseload_over_time(months: pd.DataFrame) -> go.Figure:
    """Patients in care at each month's end (line), starts and discharges per month (bars)."""
    df = months.copy()
    df["month"] = pd.to_datetime(df["month_start"])
    fig = Draft()
    fig.add_trace(
        _trace("bar", x=df["month"], y=df["started"], name="started", marker_color=SESSION)
    )
    fig.add_trace(
        _trace("bar", x=df["month"], y=df["discharged"], name="discharged", marker_color=MEANINGFUL)
    )
    fig.add_trace(
        _trace("bar", x=df["month"], y=df["dropped_out"], name="dropped out", marker_color=EVENT)
    )
    fig.add_trace(
        _trace("scatter",
            x=df["month"], y=df["active"], name="in care at month end", mode="lines+markers",
            line={"color": INK, "width": 3},
        )
    )  # fmt: skip
    fig.update_xaxes(dtick="M1", tickformat="%b %Y")
    fig.update_yaxes(title="patients")
    fig.update_layout(barmode="group")
    return _layout(fig, "Caseload over time").figure()


def factor_bars(factors: pd.DataFrame, title: str, low_n: int) -> go.Figure:
    """Meaningful pain reduction by group within each factor (associations), labelled with n."""
    df = factors.sort_values(["factor_order", "group_order", "group"], ascending=False)
    labels = [f"{f}: {g}" for f, g in zip(df["factor"], df["group"], strict=True)]
    fig = Draft(
        _trace(
            "bar",
            x=df["meaningful_pct"],
            y=labels,
            orientation="h",
            marker_color=[MEANINGFUL if n >= low_n else "#B8E0D2" for n in df["n"]],
            text=[
                _n_label(v, n, low_n) for v, n in zip(df["meaningful_pct"], df["n"], strict=True)
            ],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}: %{text}<extra></extra>",
        )
    )
    fig.update_xaxes(title="meaningful pain reduction (%) → better", range=[0, 115],
                     ticksuffix="%")  # fmt: skip
    fig.update_yaxes(automargin=True, tickfont=NAME_TICKS)
    return _layout(fig, title, height=max(260, 70 + 40 * len(df))).figure()


def sleep_and_pain_changes(patients: pd.DataFrame) -> pd.DataFrame:
    """The patients with both a sleep-quality change and a pain change: sleep_vs_pain's points."""
    return patients.dropna(subset=["sleep_quality_change", "change_pct"])


def sleep_vs_pain(patients: pd.DataFrame) -> go.Figure:
    """Change in sleep quality (first 14 days of care to the last 14) against pain change, one
    point per patient, coloured by response class (an association, not a cause)."""
    df = sleep_and_pain_changes(patients)
    fig = Draft()
    for response, colour in RESPONSE_COLOURS.items():
        part = df[df["pain_response"] == response]
        fig.add_trace(
            _trace(
                "scatter",
                x=part["sleep_quality_change"],
                y=part["change_pct"],
                mode="markers",
                # Thousands of points overlap: paler ones let the dense places show.
                marker={
                    "color": colour,
                    "size": 9,
                    "opacity": 0.8 if len(df) <= MANY_POINTS else 0.3,
                },
                name=RESPONSE_LABELS[response],
                customdata=part[["patient_id"]],
                hovertemplate="%{customdata[0]}: sleep %{x:+.1f}, pain %{y:+.1f}%<extra></extra>",
            )
        )
    fig.update_xaxes(title="change in sleep quality (0-10) → better", zeroline=True)
    fig.update_yaxes(title="NRS change from baseline (%) ↓ better", zeroline=True)
    return _layout(fig, f"Sleep change vs pain change (n = {len(df):,})", height=440).figure()
