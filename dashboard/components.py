"""Shared Streamlit pieces: the frame every page runs in (store, as-of date, privacy mode),
cached queries keyed by the data version, and small display helpers."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import html
import os
import pickle
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import orjson
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pyarrow as pa
import streamlit as st
from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

import queries
from dashboard import caseload, charts, importer, kept, meeting, privacy, report, store

INBOX_POLL_SECONDS = 2.0
PRIVACY_KEY = "privacy_mode"
AS_OF_KEY = "as_of"


@dataclass(frozen=True)
class Frame:
    """What every page needs: the store, the reference day, and whether privacy mode is on."""

    db_path: Path
    as_of: dt.date
    privacy_mode: bool


@dataclass(frozen=True)
class Page:
    """One page of the dashboard: its script in pages/, its title and icon in the navigation,
    and its URL path ('' for the default page)."""

    script: str
    title: str
    icon: str
    url_path: str


# Declared once: the navigation (app.py) and the overview's links to each page.
PAGES = (
    Page("overview.py", "Overview", ":material/home:", ""),
    Page("patient.py", "Patient", ":material/person:", "patient"),
    Page("meeting.py", "MDT meeting", ":material/groups:", "meeting"),
    Page("caseload.py", "Caseload outcomes", ":material/monitoring:", "caseload"),
    Page("data.py", "Data", ":material/database:", "data"),
)


@st.cache_resource(show_spinner="Opening the store ...")
def open_store(db_path: str) -> store.Store:
    """The process's one read-write store, with a thread that applies queued imports."""
    st_ = store.open_store(db_path)
    importer.apply_inbox(st_)
    threading.Thread(target=_watch_inbox, args=(st_,), daemon=True, name="inbox").start()
    return st_


def _watch_inbox(st_: store.Store) -> None:
    inbox = store.inbox_dir(st_.path)
    while True:
        time.sleep(INBOX_POLL_SECONDS)
        try:
            if inbox.is_dir() and any(
                p.is_dir() and p.name not in ("done", "failed") and not p.name.startswith(".")
                for p in inbox.iterdir()
            ):
                importer.apply_inbox(st_)
        except Exception as e:  # keep watching; the failed batch is kept in failed/
            print(f"inbox: {e}", flush=True)


def db_path() -> Path:
    """The store's absolute path ($MDT_DB, else the default), resolved once per value and working
    directory: each of a page's queries asks for it."""
    return _resolved_db_path(os.environ.get(store.DB_ENV), os.getcwd())


@functools.lru_cache(maxsize=16)
def _resolved_db_path(configured: str | None, cwd: str) -> Path:
    return store.resolve_db_path(configured or None).resolve()


@st.cache_resource(max_entries=4, show_spinner="Keeping the day's agenda and caseload answers ...")
def _kept_day(db: str, data_version: int, day: dt.date) -> bool:
    """The store's kept answers made to stand for `day`, the day the dashboard opens on
    (kept.keep_day): done when the server starts (dashboard/serve.py), and here again when a
    day passes with no import, or a write left them unkept. Asked again at each data version;
    when it is already done that is one read of the store's meta. A failure leaves the pages
    computing their answers, as they do for any other day; the server's log says why."""
    try:
        return kept.keep_day(open_store(db), day)
    except duckdb.Error as e:
        print(f"kept answers for {day}: not kept ({e})", flush=True)
        return False


def current_store() -> store.Store:
    return open_store(str(db_path()))


def _given(db: str, data_version: int, name: str, params: tuple) -> dict:
    """The answers `name` builds on, each computed once per data version and parameters and
    then shared: the whole caseload's summary and flags serve the agenda and the presenter
    instead of being recomputed inside each (but those a query computes within itself,
    queries.COMPUTED_WITHIN). Side by side, each on a cursor of its own: the agenda's flags and
    summary (queries.side_by_side)."""
    values, ctx, others = dict(params), get_script_run_ctx(), queries.given_includes(name)

    def included(other: str) -> Callable[[], pa.Table]:
        def answer() -> pa.Table:
            add_script_run_ctx(threading.current_thread(), ctx)
            asked = tuple(sorted((k, values[k]) for k in queries.params_of(other)))
            return _included(db, data_version, other, asked)

        return answer

    answers = queries.side_by_side([included(other) for other in others])
    return dict(zip(others, answers, strict=True))


# The whole caseload's row-per-patient answers computed lately (patient_ids NULL), by store,
# data version, query and its other parameters: a few patients' rows asked for on the same
# data are those rows of the whole answer, taken from it instead of computed again (the flags
# of the agenda page's 40 rows, which their flag lists are made from, on a day the store keeps
# no answers for: the lists took 76 ms, now 3, at 20,000 patients).
# The tables are the ones _included holds; this keeps at most _WHOLE_MAX of them alive.
_WHOLE: OrderedDict[tuple, pa.Table] = OrderedDict()
_WHOLE_MAX = 8
_WHOLE_LOCK = threading.Lock()


def _whole_key(db: str, data_version: int, name: str, params: tuple) -> tuple | None:
    if name not in queries.SAME_ROWS_PER_PATIENT:
        return None
    return (db, data_version, name, repr(sorted((k, v) for k, v in params if k != "patient_ids")))


def _from_whole(db: str, data_version: int, name: str, params: tuple) -> pa.Table | None:
    """The rows of the patients in `params` of the whole answer computed lately (the answer for
    them: queries.rows_of_patients), or None when there is none."""
    ids = dict(params).get("patient_ids")
    key = _whole_key(db, data_version, name, params)
    if key is None or ids is None:
        return None
    with _WHOLE_LOCK:
        whole = _WHOLE.get(key)
    if whole is None:
        return None
    return queries.rows_of_patients(whole, ids)


def _keep_whole(db: str, data_version: int, name: str, params: tuple, table: pa.Table) -> None:
    key = _whole_key(db, data_version, name, params)
    if key is None or dict(params)["patient_ids"] is not None:
        return
    with _WHOLE_LOCK:
        _WHOLE[key] = table
        _WHOLE.move_to_end(key)
        while len(_WHOLE) > _WHOLE_MAX:
            _WHOLE.popitem(last=False)


# Answers are held once, as objects, and shared (_Memo, as st.cache_resource would hold them):
# st.cache_data would pickle each and unpickle a copy on every read, which for a network's
# agenda (12,000 rows) is ~30 ms of every rerun. Arrow tables cannot change; a frame is handed
# out as a shallow copy, and with pandas' copy-on-write nothing done to that copy reaches the
# shared frame.
class _Memo:
    """A bounded cache of shared answers (least recently used out first), for the queries: safe
    across threads, and one computation per key at a time, a second caller of the same key
    waiting for the first's answer (so a page reading an answer a Prefetch has started waits for
    it). An error is not kept: the next call computes again. Keys are plain tuples of text and
    numbers (_key), hashed by Python itself: Streamlit's own cache hashed every parameter tuple
    and read the function's signature on every call, a quarter of a page's cached rerun."""

    def __init__(self, compute: Callable, max_entries: int) -> None:
        self._compute, self._max = compute, max_entries
        self._entries: OrderedDict[tuple, _Memo.Entry] = OrderedDict()
        self._lock = threading.Lock()

    @dataclass
    class Entry:
        done: threading.Event
        value: object = None
        error: BaseException | None = None

    def __call__(self, key: tuple, *args):
        with self._lock:
            entry = self._entries.get(key)
            computing = entry is None
            if computing:
                entry = self._entries[key] = _Memo.Entry(threading.Event())
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)  # one being computed still reaches its callers
        if computing:
            try:
                entry.value = self._compute(*args)
            except BaseException as e:
                entry.error = e
                with self._lock:
                    if self._entries.get(key) is entry:
                        del self._entries[key]
            finally:
                entry.done.set()
        else:
            entry.done.wait()
        if entry.error is not None:
            raise entry.error
        return entry.value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_PLAIN = (str, int, float, bool, type(None), dt.date, np.generic)  # a datetime is a date


def _key(params: tuple) -> str:
    """A query's parameters ((name, value) pairs) as one string that stands for them: the repr
    of plain values (text, numbers, NumPy's too, dates, None, and lists of them), each its
    value's alone."""
    for _, value in params:
        values = value if isinstance(value, list | tuple) else (value,)
        if not all(isinstance(v, _PLAIN) for v in values):
            raise TypeError(f"not a plain query parameter: {value!r}")
    return repr(params)


def _compute_included(db: str, data_version: int, name: str, params: tuple) -> pa.Table:
    answer = _from_whole(db, data_version, name, params)
    if answer is not None:
        return answer
    cur = open_store(db).reader()
    answer = kept.from_kept(cur, name, dict(params), queries.run_arrow)
    if answer is None:
        given = _given(db, data_version, name, params)
        answer = queries.run_arrow(cur, name, given=given, **dict(params))
    _keep_whole(db, data_version, name, params, answer)
    return answer


def _compute_cached(db: str, data_version: int, name: str, params: tuple) -> pd.DataFrame:
    cur = open_store(db).reader()
    if name in queries.included_anywhere():  # the answer others build on, computed once
        return queries.frame(cur, _included(db, data_version, name, params))
    answer = kept.from_kept(cur, name, dict(params), queries.run)
    if answer is not None:
        return answer
    given = _given(db, data_version, name, params)
    return queries.run(cur, name, given=given, **dict(params))


_INCLUDED = _Memo(_compute_included, max_entries=64)
_CACHED = _Memo(_compute_cached, max_entries=512)


def _included(db: str, data_version: int, name: str, params: tuple) -> pa.Table:
    """The Arrow answer of a query others build on, computed once per store, data version and
    parameters, and shared."""
    return _INCLUDED((db, data_version, name, _key(params)), db, data_version, name, params)


def _cached(db: str, data_version: int, name: str, params: tuple) -> pd.DataFrame:
    """A query's answer, computed once per store, data version and parameters, and shared."""
    return _CACHED((db, data_version, name, _key(params)), db, data_version, name, params)


_included.clear = _INCLUDED.clear  # type: ignore[attr-defined]
_cached.clear = _CACHED.clear  # type: ignore[attr-defined]


def _frame_digest(value: object) -> str:
    """Every cell counts (Streamlit's own hash samples the rows of a large frame): the digest of
    a frame (or of values holding frames) pickled, its index, columns and types with it. Frames
    that pickle alike are alike; one that pickles otherwise makes its figure anew, never
    another's. A patient's 14 chart inputs: 3 ms a rerun, where pandas' hash_pandas_object took
    19."""
    return hashlib.sha256(pickle.dumps(value, protocol=5)).hexdigest()


class _ShownFigure(go.Figure):
    """A shared figure, drawn again on every rerun. st.plotly_chart deep-copies a figure
    (to_dict) and then encodes it, and an array of text (a patient id per bar) sends plotly's
    encoder the slow way through every element: 15 ms a rerun for a network's 12,000 bars. Its
    plain-JSON form is made once here, so a rerun only encodes that (about 1 ms)."""

    def to_dict(self) -> dict:
        if getattr(self, "_shown", None) is None:
            self._shown = orjson.loads(pio.to_json(super().to_dict(), validate=False))
        return self._shown

    @classmethod
    def of(cls, figure: go.Figure) -> go.Figure:
        """The builder's figure itself, now shown this way: no copy (a copy of a patient's
        figures cost ~90 ms on the page's first run). A figure drawn unchecked
        (charts.Unchecked) makes its plain-JSON form once itself."""
        if not isinstance(figure, charts.Unchecked):
            figure.__class__ = cls
        return figure


def _built(build: str, args: tuple, kwargs: tuple) -> go.Figure:
    """charts.<build>(*args, **kwargs) as the dashboard draws it: unchecked (charts.unchecked);
    an Answer among them as its frame."""
    args = _frames(args)
    kwargs = tuple(zip((k for k, _ in kwargs), _frames(tuple(v for _, v in kwargs)), strict=True))
    with charts.unchecked():
        return _ShownFigure.of(getattr(charts, build)(*args, **dict(kwargs)))


_FIGURES = _Memo(_built, max_entries=128)


@dataclass(frozen=True)
class Answer:
    """A query's answer named by what it is the answer to: the store, its data version, the
    query and its parameters (sorted (name, value) pairs). figure() and table() take one in
    place of the frame and tell it apart by that name, where a frame is pickled cell by cell on
    every rerun (a patient's 15 inputs: 9.7 ms of an 80-ms cached rerun here): an answer is
    computed once for those four and never changed (_cached), so they stand for its cells."""

    db: str
    data_version: int
    name: str
    params: tuple

    def frame(self) -> pd.DataFrame:
        return _answer(self.db, self.data_version, self.name, dict(self.params))


def _frames(values: tuple) -> tuple:
    """`values` with each Answer in them as its frame."""
    return tuple(v.frame() if isinstance(v, Answer) else v for v in values)


def figure(build, *args, **kwargs) -> go.Figure:
    """charts.<build>(*args, **kwargs), built once for the same inputs and then shared: the
    builders are pure, and building a plotly figure costs more than drawing it again. The
    figure returned is shared, so it is never changed afterwards. The inputs are told apart
    by every value in them, frames cell by cell (their digest, as _frame_digest's), and an
    Answer by its name; each Answer is given to the builder as its frame."""
    kwargs_ = tuple(sorted(kwargs.items()))
    key = (build.__name__, _frame_digest((args, kwargs_)))
    return _FIGURES(key, build.__name__, args, kwargs_)


@st.cache_resource(max_entries=32, show_spinner=False)
def _figure_of(build: str, key: tuple, _args: tuple, _kwargs: tuple) -> go.Figure:
    return _built(build, _args, _kwargs)


def figure_of(key: tuple, build, *args, **kwargs) -> go.Figure:
    """As figure(), for inputs too large to hash on every rerun (a chart of a network's 12,000
    patients: ~10 ms a chart). `key` says what selected the inputs (the period and filters);
    with the store's data version it stands for them, so it must name everything they depend
    on."""
    st_ = current_store()
    key = (str(st_.path), st_.data_version(), *key)
    return _figure_of(build.__name__, key, args, tuple(sorted(kwargs.items())))


def flags(as_of: dt.date, patient_ids: list[str]) -> dict[str, list[dict]]:
    """The flags of `patient_ids` on `as_of`, each patient's most urgent first
    (meeting.flags_by_patient of patient_flag_lists.sql), read from their JSON once per answer
    and shared: never changed by the caller. The agenda draws its 40 rows' flags on every
    rerun, and reading them again was a quarter of its cached rerun."""
    st_ = current_store()
    return _flags(str(st_.path), st_.data_version(), as_of, tuple(patient_ids))


@st.cache_resource(max_entries=64, show_spinner=False)
def _flags(db: str, data_version: int, as_of: dt.date, patient_ids: tuple) -> dict:
    params = {"as_of": as_of, "patient_ids": list(patient_ids)}
    return meeting.flags_by_patient(
        _cached(db, data_version, "patient_flag_lists", tuple(sorted(params.items())))
    )


def flag_chips(as_of: dt.date, patient_ids: list[str], privacy_mode: bool) -> dict[str, str]:
    """Each of `patient_ids`' flags (flags()) as its chips (chips_html), for the patients with
    any: made once per answer and privacy mode, and shared. The agenda draws its 40 rows' chips
    on every rerun, and making them again was a tenth of its cached rerun (py-spy, 20,000
    patients)."""
    st_ = current_store()
    key = (str(st_.path), st_.data_version(), as_of, tuple(patient_ids), privacy_mode)
    return _CHIPS(key, *key)


def _chips(db: str, data_version: int, as_of: dt.date, patient_ids: tuple, privacy_mode: bool):
    flags = _flags(db, data_version, as_of, patient_ids)
    return {pid: chips_html(f, privacy_mode) for pid, f in flags.items() if len(f)}


_CHIPS = _Memo(_chips, max_entries=64)


def agenda_at_a_glance(as_of: dt.date) -> str:
    """The day's agenda in a sentence (meeting.agenda_at_a_glance) on the answer the meeting
    page reads: made once per data version and day, not counted on every rerun."""
    st_ = current_store()
    return _GLANCES((str(st_.path), st_.data_version(), as_of), as_of)


def _glance(as_of: dt.date) -> str:
    params = dict(as_of=as_of, meeting_id=meeting.meeting_id_for(as_of), patient_ids=None)
    return meeting.agenda_at_a_glance(query("meeting_agenda", **params), as_of)


_GLANCES = _Memo(_glance, max_entries=16)


def query(name: str, **params) -> pd.DataFrame:
    """Run queries/<name>.sql; results are cached until the store's data version changes."""
    st_ = current_store()
    return _answer(str(st_.path), st_.data_version(), name, params)


def _answer(db: str, data_version: int, name: str, params: dict) -> pd.DataFrame:
    answer = _cached(db, data_version, name, tuple(sorted(params.items())))
    return answer.copy(deep=False)


# Two queries at a time: DuckDB releases the GIL while it plans and runs one, and most of a
# page's queries are small ones whose planning is single-threaded, so a second runs on the other
# core (a network's patient page: 29 queries in ~75 ms instead of ~140).
_PREFETCH = ThreadPoolExecutor(max_workers=2, thread_name_prefix="prefetch")
_PREFETCHED: OrderedDict[str, None] = OrderedDict()  # recently started, so a rerun starts none
_PREFETCHED_MAX = 4096
_PREFETCH_LOCK = threading.Lock()


def _prefetch_one(ctx, db: str, version: int, name: str, params: tuple) -> None:
    add_script_run_ctx(threading.current_thread(), ctx)
    try:
        if name in queries.included_anywhere():  # others build on it: its table, no frame
            _included(db, version, name, params)
        else:
            _cached(db, version, name, params)
    except Exception:  # noqa: BLE001, S110 - the page asks again itself and shows the error
        pass


class Prefetch:
    """A page's answers, started at once on two worker threads into the query cache; reading
    one (prefetched["pain"]) is query() with the same parameters, so it waits for the answer
    being computed, or computes it if no worker has started it yet. All of them are of the
    store's data version when the page asked for them: the store is looked up once, not for
    each answer read (Streamlit's cache, 8% of the patient page's cached rerun)."""

    def __init__(self, **calls: tuple[str, dict]):
        self.calls = calls
        st_ = current_store()
        db, version, ctx = str(st_.path), st_.data_version(), get_script_run_ctx()
        self._of = (db, version)
        for name, params in calls.values():
            if set(params) != queries.params_of(name):  # here, not silently in a worker
                raise TypeError(
                    f"{name}.sql takes {sorted(queries.params_of(name))}, got {sorted(params)}"
                )
            key = (db, version, name, tuple(sorted(params.items())))
            seen = repr(key)  # a list parameter (patient_ids) is not hashable
            with _PREFETCH_LOCK:
                if seen in _PREFETCHED:
                    _PREFETCHED.move_to_end(seen)
                    continue
                _PREFETCHED[seen] = None
                if len(_PREFETCHED) > _PREFETCHED_MAX:
                    _PREFETCHED.popitem(last=False)
            _PREFETCH.submit(_prefetch_one, ctx, *key)

    def __getitem__(self, key: str) -> pd.DataFrame:
        return self.ref(key).frame()

    def ref(self, key: str) -> Answer:
        """The answer `key`, by its name: for figure() and table(), which then need not read
        its cells to tell it apart."""
        name, params = self.calls[key]
        return Answer(*self._of, name, tuple(sorted(params.items())))


def default_as_of() -> dt.date:
    return kept.default_as_of()


# A table row tall enough for Streamlit's table to wrap a cell's text (it does above 4 rem, 68 px
# with the theme's 17-px base font in .streamlit/config.toml: at 68 it did not, at 72 it did),
# with room for three lines: free text (a barrier's action) reads whole where one line ran out
# of view.
WRAPPED_ROW = 76

# Every page's metrics fit their columns on a laptop's 1,280 px with the sidebar open, where
# their labels and values were cut ('Meaningful pain reducti…', '07 Dec 05:…'): each metric is a
# size container, and its label and value scale with its width (cqi: a hundredth of it) down to
# a floor, past which a label wraps rather than being cut. At 1,600 px and up they keep
# Streamlit's sizes.
FIT_CSS = """
[data-testid="stMetric"] { container-type: inline-size; }
[data-testid="stMetricLabel"] p { font-size: clamp(0.75rem, 7cqi, 0.875rem); white-space: normal; }
[data-testid="stMetricValue"] p { font-size: clamp(1.75rem, 18cqi, 2.25rem); }
"""


def frame(meeting_page: bool = False) -> Frame:
    """Draw the sidebar (as-of date, privacy mode, freshness) and the privacy indicator.

    Both settings live in the URL (?as_of=2026-11-20&privacy_mode=true), so they survive a
    reload and travel with a shared link; Streamlit ignores a value in the URL that is not valid.
    On the meeting page (a shared screen) privacy mode is on whatever the link says; turning it
    off there takes a confirmation and is written to the audit log (see meeting_privacy).
    """
    st_ = current_store()
    _kept_day(str(st_.path), st_.data_version(), default_as_of())
    if meeting_page and not st.session_state.get(MEETING_PRIVACY_OFF):
        st.session_state[PRIVACY_KEY] = True
    # What the link asks for, read before the widgets take it: Streamlit leaves out a value its
    # widget does not offer without a word, and a privacy_mode it cannot read would be off.
    asked_day = [v for v in st.query_params.get_all(AS_OF_KEY) if v]
    asked_privacy = st.query_params.get_all(PRIVACY_KEY)
    unreadable_privacy = bool(asked_privacy) and not readable_switch(asked_privacy)
    if unreadable_privacy:
        st.session_state[PRIVACY_KEY] = True  # the safe reading on a screen others may see
    with st.sidebar:
        as_of = st.date_input(
            "As of",
            value=default_as_of(),
            key=AS_OF_KEY,
            bind="query-params",
            help="The reference day: every 'last 14 days' and 'current' is counted back from it.",
            format="YYYY-MM-DD",
        )
        privacy_mode = st.toggle(
            "Privacy mode",
            value=False,
            key=PRIVACY_KEY,
            bind="query-params",
            on_change=_privacy_changed,
            args=(meeting_page, as_of),
            help="Hides names, birth dates, free-text notes and safety-item detail everywhere, "
            "exports included."
            + (
                " On by default on the meeting page; turning it off there asks first."
                if meeting_page
                else ""
            ),
        )
        _freshness(st_)
        st.html(f"<style>{FIT_CSS}</style>")
    if meeting_page:
        _meeting_privacy_prompt(st_, as_of)
    unshown = []
    if asked_day and st.query_params.get(AS_OF_KEY) is None and link_day(asked_day) != as_of:
        unshown.append(
            f"as-of date {quoted(asked_day)} is not a day the dashboard shows (YYYY-MM-DD, "
            f"within ten years of {default_as_of():%d %b %Y}), so it shows {as_of:%d %b %Y}"
        )
    if unreadable_privacy:
        unshown.append(
            f"privacy_mode {quoted(asked_privacy)} is not a single true or false, so privacy "
            "mode is on"
        )
    if unshown:
        st.warning("This link's " + "; its ".join(unshown) + ".", icon=":material/link_off:")
    if privacy_mode:
        st.info(
            "**Privacy mode is on**: names, birth dates, notes and safety-item detail are hidden.",
            icon=":material/visibility_off:",
        )
    elif meeting_page:
        st.warning(
            "**Privacy mode is off on the shared screen**: names, birth years, decision notes and "
            "safety-item detail are visible to the room. The change is in the audit log.",
            icon=":material/visibility:",
        )
    return Frame(st_.path, as_of, privacy_mode)


def readable_switch(values: list[str]) -> bool:
    """Whether a link's values for a switch (privacy_mode) are one Streamlit reads: true or
    false, in any case."""
    return len(values) == 1 and values[0].lower() in ("true", "false")


def link_day(values: list[str]) -> dt.date | None:
    """The day a link's values for a date mean, if they mean one (Streamlit reads
    '2026-11-2' and '2026/11/02' as well as '2026-11-02')."""
    if len(values) != 1:
        return None
    day = pd.to_datetime(values[0], errors="coerce", format="mixed")
    return None if pd.isna(day) else day.date()


def quoted(values: list[str], limit: int = 40) -> str:
    """A link's values for one key, quoted for a message: each cut to `limit` characters,
    Markdown's marks shown as themselves."""
    cut = [v if len(v) <= limit else v[: limit - 1] + "…" for v in values]
    return ", ".join('"' + MARKDOWN_MARKS.sub(r"\\\g<0>", v) + '"' for v in cut)


def instrument_sources(changes: pd.DataFrame) -> str:
    """The source of each instrument's bands and meaningful change, as a line under its table
    (a column cut them off: up to 80 characters each)."""
    sources = [f"**{r.instrument}** {r.source}" for r in changes.itertuples() if pd.notna(r.source)]
    return "Bands and meaningful change (shared/MEASURES.md): " + " · ".join(sources) + "."


def link_patient(requested: str, privacy_mode: bool) -> str:
    """A patient asked for by a link, for a message: quoted as typed, or in privacy mode not
    repeated (a link can hold a name, and the screen may be shared)."""
    return "with the id in this link" if privacy_mode else quoted([requested])


def not_offered(offered: dict[str, tuple[str, list]]) -> str | None:
    """What the link asks for that the page does not offer, as a message (None if nothing):
    `offered` maps each URL key to its name for people and the values its widget offers. Read
    before the widgets are drawn: Streamlit leaves such a value out without a word."""
    asked = []
    for key, (name, values) in offered.items():
        allowed = {str(v) for v in values}
        unknown = [v for v in st.query_params.get_all(key) if v and v not in allowed]
        if unknown:
            asked.append(f"{name} {quoted(unknown)}")
    if not asked:
        return None
    return f"This link asks for {', '.join(asked)}, which this page does not offer: left out."


MARKDOWN_MARKS = re.compile(r"[\\`*_{}\[\]()<>#+!|~:$-]")


MEETING_PRIVACY_OFF = "_meeting_privacy_off"  # confirmed off for this browser session
MEETING_PRIVACY_ASKED = "_meeting_privacy_asked"  # a switch-off waiting for its confirmation


def session_actor() -> str:
    """Who did it, for the audit log and the meeting's items: this browser session."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return f"dashboard session {ctx.session_id[:8]}" if ctx else "dashboard"


def show_as_of(day: dt.date) -> None:
    """A button's callback: the sidebar's as-of date (and the URL's) set to `day` before the
    page runs again."""
    st.session_state[AS_OF_KEY] = day


def _privacy_changed(meeting_page: bool, as_of: dt.date) -> None:
    on = st.session_state[PRIVACY_KEY]
    if not meeting_page:
        return
    if not on and not st.session_state.get(MEETING_PRIVACY_OFF):
        st.session_state[PRIVACY_KEY] = True  # not until confirmed
        st.session_state[MEETING_PRIVACY_ASKED] = True
    elif on and st.session_state.get(MEETING_PRIVACY_OFF):
        st.session_state[MEETING_PRIVACY_OFF] = False
        meeting.record_privacy(current_store(), as_of, on=True, actor=session_actor())


def _confirm_privacy_off(as_of: dt.date) -> None:
    meeting.record_privacy(current_store(), as_of, on=False, actor=session_actor())
    st.session_state[MEETING_PRIVACY_OFF] = True
    st.session_state[MEETING_PRIVACY_ASKED] = False
    st.session_state[PRIVACY_KEY] = False


def _keep_privacy_on() -> None:
    st.session_state[MEETING_PRIVACY_ASKED] = False


def _meeting_privacy_prompt(st_: store.Store, as_of: dt.date) -> None:
    if not st.session_state.get(MEETING_PRIVACY_ASKED):
        return
    with st.container(border=True, key="privacy_confirm"):
        st.warning(
            "**Turn privacy mode off on the shared screen?** Everyone in the room will see full "
            "names, birth years, decision notes and safety-item detail. This is written to the "
            "audit log.",
            icon=":material/warning:",
        )
        yes, no, _ = st.columns([2, 1.3, 3])
        yes.button(
            "Show names to the room",
            key="privacy_off_confirm",
            icon=":material/visibility:",
            on_click=_confirm_privacy_off,
            args=(as_of,),
        )
        no.button(
            "Keep privacy on", key="privacy_off_cancel", type="primary", on_click=_keep_privacy_on
        )


@st.fragment(run_every=INBOX_POLL_SECONDS * 2)
def _freshness(st_: store.Store) -> None:
    """Data freshness; reruns the page when new data arrives (e.g. an import from the CLI)."""
    version = st_.data_version()
    seen = st.session_state.get("_seen_data_version")
    st.session_state["_seen_data_version"] = version
    if seen is not None and seen != version:
        st.rerun(scope="app")
    fresh = query("data_freshness").iloc[0]
    last = fresh["last_import_at"]
    st.caption(
        f"Last import: {format_time(last)}  \nData version {version} · store `{st_.path.name}`"
    )


def format_time(ts, short: bool = False) -> str:
    """'24 Nov 2026 21:54 UTC' (short, for a labelled metric: '24 Nov 21:54'); 'never'."""
    if ts is None or pd.isna(ts):
        return "never"
    if short:
        return pd.Timestamp(ts).strftime("%d %b %H:%M")
    return pd.Timestamp(ts).strftime("%d %b %Y %H:%M UTC")


def empty_state(text: str) -> None:
    """One kind line instead of an empty table or chart."""
    st.caption(text)


def current_frame() -> Frame:
    """The frame app.py drew for this script run."""
    return st.session_state["frame"]


PATIENT_KEY = "patient_pick"
FIND_KEY = "patient_find"
PATIENT_URL_PARAM = "patient"
FROM_KEY = "from"
LEVEL_STYLE = {"urgent": st.error, "review": st.warning, "info": st.info}
LEVEL_ICON = {
    "urgent": ":material/emergency:",
    "review": ":material/flag:",
    "info": ":material/info:",
}


def records(frame: pd.DataFrame, columns: list[str]) -> list[dict]:
    """A few rows drawn on every rerun as plain dicts of these columns (missing values as None,
    NaN or NaT, as tolist gives them): itertuples over Arrow-backed text took 2.7 ms for the
    agenda's 40 rows, this 0.4 ms."""
    values = zip(*(frame[c].tolist() for c in columns), strict=True)
    return [dict(zip(columns, v, strict=True)) for v in values]


def patient_label(name: str | None, patient_id: str, privacy_mode: bool) -> str:
    """A picker entry: 'Noel Example (P0014)', or 'N.E. ·0014 (P0014)' in privacy mode."""
    if privacy_mode:
        return f"{privacy.alias(name, patient_id)} ({patient_id})"
    return privacy.patient_display(name, patient_id, privacy_mode=False)


def _arrow_table(frame: pd.DataFrame | Answer, spelt_columns: tuple) -> pa.Table | pd.DataFrame:
    """The Arrow table st.dataframe makes of `frame` (pyarrow's own from_pandas, the index as
    pyarrow keeps it), so that it sends the same bytes, with its `spelt_columns` spelt(); the
    frame itself when pyarrow cannot convert it, for st.dataframe's own fixes."""
    if isinstance(frame, Answer):
        frame = frame.frame()
    if spelt_columns:
        frame = spelt(frame, *spelt_columns)
    try:
        return pa.Table.from_pandas(frame)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return frame


_TABLES = _Memo(_arrow_table, max_entries=128)


def table(frame: pd.DataFrame | Answer, *, spell: tuple[str, ...] = (), **kwargs) -> None:
    """st.dataframe(frame, **kwargs), the frame turned into Arrow once for the same cells (its
    digest, as a figure's inputs; an Answer by its name) and kept: st.dataframe turns a frame
    into Arrow again on every rerun (the patient page's cached rerun at 20,000 patients: medians
    81-96 ms to 74-86). `spell`: code columns shown as people read them (spelt()), spelt in
    that one turn too (1.1 ms a table on every rerun)."""
    st.dataframe(shown_table(frame, spell), **kwargs)


def shown_table(
    frame: pd.DataFrame | Answer, spell: tuple[str, ...] = ()
) -> pa.Table | pd.DataFrame:
    """What table() hands st.dataframe for `frame` and `spell`: made once and kept."""
    spell = tuple(spell)
    return _TABLES((_frame_digest((frame, spell)),), frame, spell)


@st.cache_resource(max_entries=16, show_spinner=False)
def _caseload_table(
    _patients: pd.DataFrame, key: tuple, privacy_mode: bool, as_of: dt.date
) -> pa.Table:
    table = caseload.patient_table(_patients, privacy_mode)
    table.insert(1, "open", [f"/patient?patient={p}&as_of={as_of}" for p in table.patient_id])
    # As Arrow, which st.dataframe sends as it is: from a frame it converts again every rerun.
    return pa.Table.from_pandas(table, preserve_index=False)


def caseload_table(
    patients: pd.DataFrame, period: caseload.Period, filters: caseload.Filters, privacy_mode: bool
) -> pa.Table:
    """The caseload's patient table as shown, with each row's Open link: made once per data
    version, period, filters and privacy mode (a network's 19,000 rows took a sixth of every
    rerun of the page)."""
    st_ = current_store()
    key = (str(st_.path), st_.data_version(), repr(period), repr(filters))
    return _caseload_table(patients, key, privacy_mode, period.as_of)


# A picker lists every patient up to this many; a larger store (a network) is searched instead,
# so a rerun never sends the browser tens of thousands of names.
LIST_ALL_UP_TO = 1000
SEARCH_SHOWS = 50


@dataclass(frozen=True)
class Choices:
    labels: dict[str, str]  # id -> picker entry, in picker order
    searched: bool  # True: a network's search matches; False: every patient
    note: str = ""  # how many matched, when searched


def patient_choices(
    find_key: str, privacy_mode: bool, find_label: str = "Find a patient"
) -> Choices:
    """The patients a picker offers: all of them in a store of up to LIST_ALL_UP_TO; else a
    search box (id and name, or alias in privacy mode) and its first SEARCH_SHOWS matches,
    found in SQL with the term bound (patient_search.sql)."""
    as_of = current_frame().as_of

    def found(term: str, limit: int) -> pd.DataFrame:
        return query(
            "patient_search", as_of=as_of, term=term, privacy_mode=privacy_mode, limit=limit
        )

    def labels(rows: pd.DataFrame) -> dict[str, str]:
        return {
            i: patient_label(n, i, privacy_mode)
            for n, i in zip(rows["name"], rows["patient_id"], strict=True)
        }

    everyone = found("", LIST_ALL_UP_TO + 1)
    if len(everyone) <= LIST_ALL_UP_TO:
        return Choices(labels(everyone), searched=False)
    term = st.text_input(
        find_label,
        key=find_key,
        max_chars=60,
        placeholder="id or alias" if privacy_mode else "name or id",
        help="Type part of an id"
        + (" or alias (initials and the end of the id)" if privacy_mode else " or name")
        + f", then press Enter; the list beside shows the first {SEARCH_SHOWS} matches, "
        "patients in care on the as-of date first.",
    ).strip()
    # no term: the first of everyone, in the same order (patient_search.sql's order is total)
    rows = found(term, SEARCH_SHOWS + 1) if term else everyone.head(SEARCH_SHOWS + 1)
    shown = rows.head(SEARCH_SHOWS)
    if not term:
        note = f"The list shows the first {len(shown)} patients: type above to find others."
    elif rows.empty:
        note = f"No patient matches {term!r}."
    elif len(rows) > SEARCH_SHOWS:
        note = f"More than {SEARCH_SHOWS} patients match {term!r}; the list shows the first {SEARCH_SHOWS}."
    else:
        note = f"{len(rows)} patient{'s' if len(rows) > 1 else ''} match{'' if len(rows) > 1 else 'es'} {term!r}."
    return Choices(labels(shown), searched=True, note=note)


def _step_patient(patient_id: str) -> None:
    st.session_state[PATIENT_KEY] = patient_id


def patient_picker(privacy_mode: bool) -> str | None:
    """Pick one patient by name, id or alias (alias only in privacy mode), with previous / next
    through the primary clinician's caseload; None when the store has no patients.

    The choice lives in the URL as the pseudonymous id (?patient=P0007), never as the label (which
    has the name), so a link in an e-mail opens the same patient and carries no name.
    """
    as_of = current_frame().as_of

    def picked(patient_id: str | None) -> pd.Series | None:
        rows = query("patient_picked", as_of=as_of, patient_id=patient_id) if patient_id else None
        return None if rows is None or rows.empty else rows.iloc[0]

    requested = st.query_params.get(PATIENT_URL_PARAM)
    if requested and requested != st.session_state.get("_patient_in_url"):
        if picked(requested) is not None:
            st.session_state[PATIENT_KEY] = requested
        else:
            st.warning(
                f"There is no patient {link_patient(requested, privacy_mode)} in the store; "
                "showing the first patient."
            )
    choices = patient_choices(FIND_KEY, privacy_mode)
    term = st.session_state.get(FIND_KEY, "")
    if choices.searched and term != st.session_state.get("_find_was", ""):
        st.session_state["_find_was"] = term
        if len(choices.labels) == 1:  # a search that finds one patient opens them
            st.session_state[PATIENT_KEY] = next(iter(choices.labels))
    row = picked(st.session_state.get(PATIENT_KEY))
    if row is None:
        first = query("patient_search", as_of=as_of, term="", privacy_mode=False, limit=1)
        if first.empty:
            return None
        row = picked(first.patient_id.iloc[0])
    patient_id = row.patient_id
    st.session_state[PATIENT_KEY] = patient_id
    labels = {patient_id: patient_label(row["name"], patient_id, privacy_mode)}
    labels |= choices.labels
    # Wide enough for 'Previous' on a laptop's 1,280 px with the sidebar open (cut to 'Pr…').
    pick, prev_col, next_col = st.columns([5, 1.3, 1.3], vertical_alignment="bottom")
    with pick:
        st.selectbox(
            "Patient",
            list(labels),
            key=PATIENT_KEY,
            format_func=labels.__getitem__,
            help="Type a name or id"
            + (" or alias (initials and the end of the id)" if privacy_mode else "")
            + ". Patients in care on the as-of date come first.",
        )
    st.query_params[PATIENT_URL_PARAM] = patient_id
    st.session_state["_patient_in_url"] = patient_id
    who = row.primary_clinician or "no primary clinician"
    steps = (
        (prev_col, "Previous", ":material/arrow_back:", row.previous_id),
        (next_col, "Next", ":material/arrow_forward:", row.next_id),
    )
    for column, label, icon, target in steps:
        target = target if isinstance(target, str) else None
        column.button(
            label,
            icon=icon,
            disabled=target is None,
            on_click=_step_patient,
            args=(target,),
            help=f"{label} patient in {who}'s caseload",
            width="stretch",
        )
    notes = [choices.note] if choices.note else []
    if pd.notna(row.position):
        notes.append(f"{int(row.position)} of {int(row.caseload_size)} in {who}'s caseload in care")
    else:  # why Previous and Next are greyed out
        notes.append(
            (f"Not in care on {as_of:%d %b %Y}" if not row.in_care else "No primary clinician")
            + ": Previous and Next step through a clinician's patients in care."
        )
    for note in notes:
        st.caption(note)
    return patient_id


def period_start(care_start: dt.date, as_of: dt.date) -> dt.date:
    """The first day of the period shown: ?from= if given and sensible, else the start of care."""
    asked = [v for v in st.query_params.get_all(FROM_KEY) if v]  # empty: the start of care
    chosen = st.date_input(
        "From",
        value=None,
        key=FROM_KEY,
        bind="query-params",
        format="YYYY-MM-DD",
        help="First day of the period every chart shows; empty = the start of care. "
        "The period ends on the as-of date (sidebar).",
    )
    start = chosen or care_start
    if asked and chosen is None:
        st.warning(
            f"This link's first day {quoted(asked)} is not a day the dashboard shows "
            f"(YYYY-MM-DD, within ten years of today), so the charts start at the start of care.",
            icon=":material/link_off:",
        )
    if start > as_of:
        st.warning(
            f"The period would start on {start:%d %b %Y}, after the as-of date {as_of:%d %b %Y}: "
            "showing the 12 weeks to the as-of date instead."
        )
        start = as_of - dt.timedelta(weeks=12)
    return start


def spelt(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """A table's code columns as people read them: 'self_care' as 'self care', 'no_change' as
    'no change' (for display; the data and exports keep the codes)."""
    return frame.assign(**{c: frame[c].str.replace("_", " ", regex=False) for c in columns})


def nrs_change(change_points: float, baseline: float | None = None) -> dict:
    """st.metric's delta for a current NRS against its baseline: red when pain is up, green when
    down; without an arrow or a colour when it is the same to the 0.1 shown (a '+0.0' was drawn
    as a red rise): 'no change', or with `baseline`, '±0.0 from 5.3' (the delta then says what
    it is from, short enough for a third of the presenter's left column)."""
    if pd.isna(change_points):
        return {"delta": None}
    after = f" from {baseline:.1f}" if baseline is not None else " points"
    if round(float(change_points), 1) == 0:
        return {"delta": f"±0.0{after}" if baseline is not None else "no change",
                "delta_color": "off", "delta_arrow": "off"}  # fmt: skip
    return {"delta": f"{change_points:+.1f}{after}", "delta_color": "inverse"}


def flag_callouts(flags: pd.DataFrame, privacy_mode: bool) -> None:
    """Each active flag as a callout, most urgent first, with its reason and the rule that fired.
    In privacy mode the safety flag says only 'safety flag: see record'."""
    if flags.empty:
        st.success("No flags on the as-of date.", icon=":material/check_circle:")
        return
    for f in records(flags, ["flag", "name", "level", "reason", "rule", "source"]):
        if f["flag"] == "safety" and privacy_mode:
            text = f"**{f['name']}** ({f['level']}): {privacy.SAFETY_MASK}"
        else:
            text = f"**{f['name']}** ({f['level']}): {f['reason']}.  \nRule: {f['rule']} — {f['source']}"
        LEVEL_STYLE[f["level"]](text, icon=LEVEL_ICON[f["level"]])


def report_buttons(frame: Frame, patient_id: str, start: dt.date) -> None:
    """Download the progress report (PDF or HTML) of the patient for the period shown, masked
    when privacy mode is on. Made when clicked; each export is written to the audit log."""
    st_ = current_store()

    def make(fmt: str):
        def produce() -> bytes:
            built = report.build(st_, patient_id, frame.as_of, start, frame.privacy_mode)
            data = report.render(built, fmt)
            report.record_export(st_, built, fmt, actor="dashboard")
            return data

        return produce

    kinds = (
        ("pdf", "application/pdf", ":material/picture_as_pdf:"),
        ("html", "text/html", ":material/description:"),
    )
    # In a row, each as wide as its label: in columns 'Progress report (HTML)' was cut on a
    # laptop's 1,280 px.
    row = st.container(horizontal=True)
    for fmt, mime, icon in kinds:
        row.download_button(
            f"Progress report ({fmt.upper()})",
            data=make(fmt),
            file_name=report.file_name(patient_id, frame.as_of, frame.privacy_mode, fmt),
            mime=mime,
            icon=icon,
            on_click="ignore",
            help="For the record: header, since-baseline summary, flags, key charts, goals, "
            "milestones, open barriers. Masked when privacy mode is on.",
        )


# ---- MDT meeting ------------------------------------------------------------------------------
def flag_text(flag: dict, privacy_mode: bool) -> str:
    """A flag's hover text: reason, rule and date; only 'see record' for safety in privacy mode.
    A flag with no date (stale data for a patient with no rating or session yet) has none."""
    if flag["flag"] == "safety" and privacy_mode:
        return f"{flag['name']} ({flag['level']}): {privacy.SAFETY_MASK}"
    when = flag.get("flag_date")
    dated = "" if pd.isna(when) else f"Date: {pd.Timestamp(when):%d %b %Y}. "
    return (
        f"{flag['name']} ({flag['level']}): {flag['reason']}. Rule: {flag['rule']}. "
        f"{dated}Source: {flag['source']}"
    )


def chips_html(flags, privacy_mode: bool) -> str:
    """The flags as coloured chips (urgent red, review orange, info grey), each with its reason
    shown on hover or keyboard focus (agenda_style), as one HTML element: an agenda of 40 rows
    is redrawn on every rerun, and a badge element per flag made it 260 elements more."""
    chips = []
    for f in flags:
        icon = LEVEL_ICON[f["level"]].removeprefix(":material/").removesuffix(":")
        chips.append(
            f'<span class="mdt-chip mdt-{f["level"]}" tabindex="0">'
            f'<span class="mdt-icon" aria-hidden="true">{icon}</span>{html.escape(f["name"])}'
            f'<span class="mdt-tip" role="tooltip">{html.escape(flag_text(f, privacy_mode))}</span>'
            "</span>"
        )
    return f'<div class="mdt-chips">{"".join(chips)}</div>'


# The agenda's six text columns (agenda_row_html) and their relative widths: on a wide screen,
# and on a laptop with the sidebar open (narrower: the numbers give the names room). The Present
# button beside them is AGENDA_BUTTON_PX wide, so the headings line up with the rows below them.
AGENDA_COLUMNS = (
    ("# · Patient", 2.0, 1.4),
    ("Clinician", 1.8, 1.8),
    ("Flags (hover for the reason)", 3.2, 3.2),
    ("Pain baseline → now", 1.7, 1.3),
    ("Since review", 1.3, 1.5),
    ("Open actions", 1.1, 0.6),
)
AGENDA_BUTTON_PX = 120


def agenda_header_html() -> str:
    """The agenda's column headings, in the grid of agenda_row_html plus the button's width."""
    cells = "".join(
        f"<div><strong>{html.escape(label)}</strong></div>" for label, *_ in AGENDA_COLUMNS
    )
    return f'<div class="mdt-agenda-grid mdt-agenda-head">{cells}<div></div></div>'


def agenda_row_html(
    patient: str,
    reviewed: bool,
    clinician: str | None,
    chips: str,
    because: str,
    pain: str,
    since_review: str,
    due: str,
    open_actions: int,
    overdue_actions: int,
) -> str:
    """One agenda row's six text cells as one HTML grid: an agenda of 40 rows is redrawn on
    every rerun, and a column and a markdown element a cell made it 17 elements a row. Every
    value from the store is escaped; the patient is shown as the caller masked it, and the
    flags as their chips (chips_html, '' for none) as privacy mode made them."""

    def text(value) -> str:
        return html.escape(str(value))

    cells = [
        f"<strong>{text(patient)}</strong>"
        + ('<br><span class="mdt-ok">reviewed ✓</span>' if reviewed else ""),
        text(clinician or "–"),
        (chips or '<span class="mdt-muted">no flags</span>')
        + (f'<div class="mdt-muted mdt-small">{text(because)}</div>' if because else ""),
        text(pain),
        f'{text(since_review)}<br><span class="mdt-muted">{text(due)}</span>',
        text(open_actions)
        + (
            f'<br><span class="mdt-late">{overdue_actions} overdue</span>'
            if overdue_actions
            else ""
        ),
    ]
    return '<div class="mdt-agenda-grid">' + "".join(f"<div>{c}</div>" for c in cells) + "</div>"


def flags_frame(flags) -> pd.DataFrame:
    """An agenda row's flag list as the frame flag_callouts takes."""
    columns = ["flag", "name", "level", "reason", "rule", "evidence", "flag_date", "source"]
    return pd.DataFrame(list(flags), columns=columns)


def shared_screen_style() -> None:
    """Large type inside the container keyed 'presenter', for a screen read from across a room."""
    st.html(
        """<style>
        .st-key-presenter p, .st-key-presenter li, .st-key-presenter label p { font-size: 1.45rem; line-height: 1.45; }
        .st-key-presenter h2 { font-size: 2.6rem; }
        .st-key-presenter h3 { font-size: 1.9rem; }
        .st-key-presenter [data-testid="stMetricValue"] p { font-size: 3.6rem; font-weight: 600; line-height: 1.2; }
        .st-key-presenter [data-testid="stMetricLabel"] p { font-size: 1.4rem; }
        .st-key-presenter [data-testid="stMetricDelta"] p, .st-key-presenter [data-testid="stMetricDelta"] div { font-size: 1.4rem; }
        .st-key-presenter button p { font-size: 1.25rem; }
        .st-key-presenter [data-testid="stBadge"] p, .st-key-presenter .stBadge p { font-size: 1.3rem; }
        .st-key-presenter [data-testid="stCaptionContainer"] p { font-size: 1.15rem; }
        /* Metrics whose type fits their column: on a laptop or a 1,280-px projector with the
           sidebar open a metric's column is half a 1,920-px screen's, and a label cut to
           'Days since r…' says nothing. Each metric is a size container (FIT_CSS), and its
           type scales with it (cqi: a hundredth of its width) up to the shared screen's size.
           What still does not fit (a button's label on a narrower screen) wraps rather than
           being cut. */
        .st-key-presenter_metrics [data-testid="stMetricLabel"] p { font-size: min(1.4rem, 12cqi); }
        .st-key-presenter_metrics [data-testid="stMetricValue"] p { font-size: min(3.6rem, 38cqi); }
        .st-key-presenter_metrics [data-testid="stMetricDelta"] p,
        .st-key-presenter_metrics [data-testid="stMetricDelta"] div { font-size: min(1.4rem, 13cqi); }
        .st-key-presenter_nav button p, .st-key-presenter_metrics p { white-space: normal; }
        </style>"""
    )


def _agenda_template(which: int) -> str:
    """The grid columns of the agenda's cells (1: wide screen, 2: laptop), and of its headings,
    which also leave the Present button's width."""
    # No narrower than a cell's longest word: a name is wrapped between words, not inside one.
    cells = " ".join(f"minmax(min-content, {c[which]}fr)" for c in AGENDA_COLUMNS)
    return (
        f".mdt-agenda-grid {{ grid-template-columns: {cells}; }}\n"
        f".mdt-agenda-head {{ grid-template-columns: {cells} {AGENDA_BUTTON_PX}px; }}"
    )


AGENDA_CSS = (
    """
        .st-key-agenda_header { padding: 0 calc(1rem + 1px); }
        /* a row without wrapping scrolls its overflow; the chips' hover text must show over it */
        [class*="st-key-agenda_row_"] { overflow: visible; gap: 1rem; }
        .mdt-agenda-grid { display: grid; column-gap: 1rem; align-items: center;
            font-size: 1.15rem; line-height: 1.5; overflow-wrap: break-word; }
"""
    + _agenda_template(1)
    + """
        .mdt-agenda-grid .mdt-chips { margin: 0.15rem 0; }
        /* a laptop with the sidebar open: the cells a size down, so words fit their column */
        @media (max-width: 1280px) {
"""
    + _agenda_template(2)
    + """
            .mdt-agenda-grid { font-size: 1rem; }
            .mdt-agenda-grid .mdt-chip { font-size: 0.9rem; }
        }
        /* a phone: two columns a row, no headings (a column of its own is too narrow) */
        @media (max-width: 700px) {
            .mdt-agenda-grid { grid-template-columns: 1fr 1fr; row-gap: 0.5rem; }
            .mdt-agenda-head { display: none; }
        }
        .mdt-muted { color: rgba(49, 51, 63, 0.65); }
        .mdt-small { font-size: 0.95rem; }
        .mdt-ok { color: rgb(21, 130, 55); }
        .mdt-late { color: rgb(155, 69, 25); }
        .mdt-chips { display: flex; flex-wrap: wrap; gap: 0.5rem; }
        .mdt-chip { position: relative; display: inline-block; padding: 0 0.25em; border-radius: 0.25em;
            font-size: 1rem; line-height: 1.6; cursor: default; }
        .mdt-icon { font-family: "Material Symbols Rounded"; font-size: 1em; vertical-align: -0.125em;
            margin-right: 0.2em; font-feature-settings: "liga"; -webkit-font-smoothing: antialiased; }
        .mdt-tip { visibility: hidden; position: absolute; left: 0; top: calc(100% + 0.3rem); z-index: 1000;
            width: max-content; max-width: 26rem; padding: 0.5rem 0.75rem; border-radius: 0.5rem;
            background: #fff; color: rgb(49, 51, 63); font-size: 0.95rem; line-height: 1.4;
            box-shadow: 0 2px 12px rgba(0, 0, 0, 0.2); white-space: normal; }
        .mdt-chip:hover, .mdt-chip:focus { z-index: 1000; outline: none; }
        .mdt-chip:focus-visible { outline: 2px solid currentColor; }
        .mdt-chip:hover .mdt-tip, .mdt-chip:focus .mdt-tip { visibility: visible; }
        /* Streamlit's own badge colours (light theme): urgent red, review orange, info grey */
        .mdt-urgent { background: rgb(255, 241, 242); color: rgb(158, 48, 59); }
        .mdt-review { background: rgb(255, 246, 237); color: rgb(155, 69, 25); }
        .mdt-info { background: rgb(245, 244, 242); color: rgb(104, 98, 85); }
"""
)


def agenda_style() -> None:
    """Agenda type a size up (it is read on the shared screen too), the column headings lined
    up with the bordered rows below them, and the flag chips (chips_html) with their hover text."""
    st.html(f"<style>{AGENDA_CSS}</style>")


def meeting_timer(started_epoch: float, planned_minutes: int) -> None:
    """Time on this patient against the plan, ticking in the browser (no reruns); small and grey,
    amber once over the planned minutes."""
    st.html(
        f"""<div id="mdt-timer" data-start="{started_epoch:.0f}" data-planned="{planned_minutes * 60}"
        style="font-size:1.15rem;color:#666;text-align:right;font-variant-numeric:tabular-nums"
        title="Time on this patient / planned minutes per patient">0:00 / {planned_minutes}:00</div>
        <script>
        (function () {{
          const el = document.getElementById("mdt-timer");
          if (window.__mdtTimer) clearInterval(window.__mdtTimer);
          const tick = () => {{
            const t = document.getElementById("mdt-timer");
            if (!t) return;
            const s = Math.max(0, Math.floor(Date.now() / 1000 - Number(t.dataset.start)));
            const planned = Number(t.dataset.planned);
            t.textContent = Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0") +
              " / " + Math.floor(planned / 60) + ":00";
            t.style.color = s > planned ? "#B35C00" : "#666";
            t.style.fontWeight = s > planned ? "600" : "400";
          }};
          tick();
          window.__mdtTimer = setInterval(tick, 1000);
        }})();
        </script>""",
        unsafe_allow_javascript=True,
    )


def meeting_downloads(frame: Frame, kind: str, formats: tuple[str, ...]) -> None:
    """Download buttons for the day's agenda or minutes, masked when privacy mode is on; made
    when clicked, each export written to the audit log."""
    st_ = current_store()
    mimes = {"md": "text/markdown", "json": "application/json", "pdf": "application/pdf"}

    def make(fmt: str):
        def produce() -> bytes:
            build = meeting.agenda_document if kind == "agenda" else meeting.minutes_document
            data = meeting.render(build(st_, frame.as_of, frame.privacy_mode), fmt)
            meeting.record_export(st_, kind, frame.as_of, fmt, frame.privacy_mode, session_actor())
            return data

        return produce

    with st.container(horizontal=True, gap="small"):
        for fmt in formats:
            st.download_button(
                f"{kind.capitalize()} ({fmt.upper()})",
                data=make(fmt),
                file_name=meeting.file_name(kind, frame.as_of, frame.privacy_mode, fmt),
                mime=mimes[fmt],
                icon=":material/download:",
                on_click="ignore",
                key=f"download_{kind}_{fmt}",
                help=f"The {kind} as {fmt.upper()}"
                + (", masked (privacy mode is on)." if frame.privacy_mode else "."),
            )


def record_caseload_export(
    frame: Frame, period: caseload.Period, filters: caseload.Filters
) -> None:
    """Write a caseload table export to the audit log."""
    current_store().audit(
        session_actor(),
        "export_caseload",
        f"csv; {period.describe()}; {filters.describe()}; "
        f"privacy mode {'on' if frame.privacy_mode else 'off'}",
    )
