"""`mdt-dashboard bench`: how the dashboard does at N patients, measured, never pass/fail.

One run builds (or reuses) a store of N synthetic patients and writes bench.json and bench.md:
validated import rows/s; each page's queries cold (a freshly opened store) and warm (run again);
each page's full script time through AppTest, first run and cached rerun, in a process of its own
whose peak RSS (VmHWM: ru_maxrss would carry the parent's over from fork) is the dashboard's
after serving every page; the floor (DuckDB's one GROUP BY scan
over the pain ratings); the pandas approach (tables loaded into frames, the same caseload and
agenda numbers with groupby) with its time and memory against ours; the sizes; and, in a real
browser (Debian's Chromium through Playwright) against the real `streamlit run` server, how long
the patient page takes to become interactive on a first visit to a fresh server and on a visit
after it, and that server's peak RSS once the browser has opened every page.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb

import queries
from dashboard import caseload, demo_data, importer, kept, meeting, server, store

ROOT = Path(__file__).resolve().parent.parent

# The queries each page runs (parameters are filled in by name).
PAGES = {
    "patient review": (
        "patient_search", "patient_picked", "patient_summary", "patient_flags", "instrument_reference", "flag_rule",
        "patient_conditions", "patient_instrument_changes", "patient_pain_daily",
        "patient_timeline_markers", "patient_pain_qualities_weekly", "patient_interference_weekly",
        "patient_desensitization_weekly", "patient_functional_tasks",
        "patient_functional_tasks_latest", "patient_objective_measures", "patient_assessments",
        "patient_sleep", "patient_sleep_pain_correlation", "patient_social_support",
        "patient_barriers", "patient_adaptations", "patient_home_practice_weekly",
        "patient_teach_back", "patient_medications", "patient_goal_reviews", "patient_gas_t",
        "patient_milestones", "patient_attendance_weekly",
    ),
    "meeting agenda": (  # and the flags of the rows it draws: _page_calls
        "meeting_agenda", "review_meeting", "clinicians", "patient_search", "patient_flag_lists",
    ),
    "meeting presenter": (
        "meeting_agenda", "patient_summary", "patient_brief", "review_actions",
        "patient_flag_lists", "meeting_items", "instrument_reference", "patient_pain_daily",
        "patient_timeline_markers",
    ),
    "caseload": (  # each with the period pages/caseload.py asks it for: _caseload_calls
        "caseload_patients", "caseload_kpis", "caseload_kpis", "caseload_options",
        "instrument_reference", "caseload_breakdown",
    ),
    "data": (
        "table_row_counts", "import_batches_recent", "patients_without_recent_data", "flag_rule",
        "data_contradictions", "data_freshness",
    ),
}  # fmt: skip
# Queries run two at a time, as these pages do, after the ones a page reads first (the
# presenter: the agenda, whose rows it presents).
PREFETCHED_PAGES = {"patient review", "meeting presenter", "caseload"}
READ_FIRST = {"meeting presenter": 1}
APP_PAGES = {  # page file, and its URL query parameter (the patient page's patient, or the one
    # the presenter opens on: the agenda's first row)
    "patient review": ("patient.py", "patient"),
    "meeting agenda": ("meeting.py", None),
    "meeting presenter": ("meeting.py", "presented"),
    "caseload": ("caseload.py", None),
    "data": ("data.py", None),
}
# How many patients the page is timed for after the one it opens on, each not drawn yet.
NEW_PATIENTS = 7
FLOOR_SQL = "SELECT patient_id, sum(nrs), count(*) FROM pain_ratings GROUP BY patient_id"


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def build_store(patients: int, weeks: int, out: Path) -> tuple[Path, dt.date, dict]:
    """The store of `patients` synthetic patients in `out` (reused when there), its as-of date
    (the data's last day), and the import figures (none when reused)."""
    db = out / f"bench-{patients}.duckdb"
    end = demo_data.DEMO_END
    if db.exists():
        st_ = store.open_store(db)  # brings a store made by an earlier version up to date
        try:
            kept.keep_day(st_, end)  # as the dashboard does when it starts
        finally:
            st_.close()
        return db, end, {}
    folder = out / f"data-{patients}"
    started = time.perf_counter()
    counts = demo_data.generate(folder, patients, weeks, demo_data.DEFAULT_SEED, end)
    generated = time.perf_counter() - started
    st_ = store.open_store(db)
    try:
        started = time.perf_counter()
        result = importer.import_into(st_, folder, via="demo", keep_as_of=end)
        seconds = time.perf_counter() - started
    finally:
        st_.close()
    if not result.applied:
        raise RuntimeError("; ".join(e.sentence() for e in result.errors[:3]))
    rows = sum(counts.values())
    return (
        db,
        end,
        {
            "generate_seconds": round(generated, 2),
            "import_seconds": round(seconds, 2),
            "import_rows": rows,
            "import_rows_per_second": round(rows / seconds),
        },
    )


def _params(as_of: dt.date, patient_id: str) -> dict:
    return {
        "as_of": as_of, "patient_id": patient_id, "patient_ids": None, "start":
        as_of - dt.timedelta(weeks=12) + dt.timedelta(days=1), "meeting_id": as_of.isoformat(),
        "code": "NRS", "by": "clinician", "sites": None, "clinicians": None, "conditions": None,
        "limit": 50, "term": "", "privacy_mode": False,
    }  # fmt: skip


def _caseload_calls(as_of: dt.date) -> list[tuple[str, dict]]:
    """The caseload page's queries as it opens, as pages/caseload.py starts them: above its
    tabs, then its first tab's (the others run only when opened)."""
    period, filters = caseload.default_periods(as_of)[0], caseload.Filters()
    first_tab = caseload.tab_calls(period, filters, caseload.TABS[0], caseload.DEFAULT_BY)
    calls = [*caseload.opening_calls(period, filters).values(), *first_tab.values()]
    assert tuple(name for name, _ in calls) == PAGES["caseload"]
    return calls


def _page_calls(
    page: str, params: dict, patient_id: str, agenda_rows: list[str]
) -> list[tuple[str, dict]]:
    """A page's queries with the parameters it asks them for; `agenda_rows`: the patients of
    the rows the meeting page draws first (their flags are asked for by id)."""
    if page == "caseload":
        return _caseload_calls(params["as_of"])
    names, calls = PAGES[page], []
    for name in names:
        given = {k: params[k] for k in queries.params_of(name)}
        if name == "patient_flag_lists" and page == "meeting agenda":
            given["patient_ids"] = agenda_rows
        elif (
            name in ("patient_summary", "patient_flags", "patient_flag_lists", "review_actions")
            and "patient_ids" in given
        ):
            given["patient_ids"] = [patient_id]  # the one patient on screen
        if name == "flag_rule":
            given["code"] = "stale_data"
        if name == "patient_search":  # a picker asks for one more than it lists whole
            from dashboard.components import LIST_ALL_UP_TO  # streamlit, only when measuring

            given["limit"] = LIST_ALL_UP_TO + 1
        calls.append((name, given))
    return calls


def _agenda_rows(db: Path, params: dict) -> list[str]:
    """The patients of the agenda rows the meeting page draws first, for `params`' day."""
    st_ = store.open_store(db, read_only=True)
    try:
        cur = st_.cursor()
        agenda = meeting.agenda(cur, params["as_of"])
        return agenda["patient_id"].head(meeting.AGENDA_PAGE).tolist()
    finally:
        st_.close()


def presented(agenda_rows: list[str]) -> str:
    """The patient the presenter opens on: the agenda's first row."""
    if not agenda_rows:
        raise RuntimeError("Nobody is on the meeting's agenda: there is no presenter to time.")
    return agenda_rows[0]


def _run_page(
    st_: store.Store, page: str, params: dict, patient_id: str, agenda_rows: list[str]
) -> float:
    """Every query of a page, as the dashboard runs them: an answer that several queries build
    on (the caseload's summary and flags) is computed once for the page, and the answers a
    query builds on side by side (the agenda's flags and summary); the patient page's and the
    caseload page's and the presenter's queries run two at a time (the presenter's after the
    agenda); each thread on its own cursor
    (components.Prefetch, queries.side_by_side)."""
    calls = _page_calls(page, params, patient_id, agenda_rows)
    started = time.perf_counter()
    answers = queries.Answers(cursor=st_.cursor)
    try:
        # In turn: every query of a page that runs them one after another, else those it reads
        # first; then the rest two at a time.
        first = READ_FIRST.get(page, 0) if page in PREFETCHED_PAGES else len(calls)
        for name, given in calls[:first]:
            answers(name, **given)
        if calls[first:]:
            with ThreadPoolExecutor(max_workers=2) as pool:
                list(pool.map(lambda call: answers(call[0], **call[1]), calls[first:]))
    finally:
        answers.close()
    return time.perf_counter() - started


def query_times(db: Path, as_of: dt.date, patient_id: str, rows: list[str]) -> dict:
    """Each page's queries: cold on a freshly opened store, then warm. For a page that builds on
    the answers the store keeps (kept.py), also cold for the day before, which it does not keep:
    what the page costs when it computes them itself. `rows`: the as-of day's _agenda_rows()."""
    out = {}
    params = _params(as_of, patient_id)
    not_kept = _params(as_of - dt.timedelta(days=1), patient_id)
    rows_not_kept = _agenda_rows(db, not_kept)
    for page, names in PAGES.items():
        # The presenter opens on a patient of the agenda: its first row, that day's.
        shown = presented(rows) if page == "meeting presenter" else patient_id
        st_ = store.open_store(db, read_only=True)
        try:
            cold = _run_page(st_, page, params, shown, rows)
            warm = min(_run_page(st_, page, params, shown, rows) for _ in range(3))
        finally:
            st_.close()
        out[page] = {"queries": len(names), "cold_ms": _ms(cold), "warm_ms": _ms(warm)}
        if any(n in kept.KEPT or set(queries.includes(n)) & set(kept.KEPT) for n in names):
            shown = presented(rows_not_kept) if page == "meeting presenter" else patient_id
            st_ = store.open_store(db, read_only=True)
            try:
                out[page]["cold_not_kept_ms"] = _ms(
                    _run_page(st_, page, not_kept, shown, rows_not_kept)
                )
            finally:
                st_.close()
    return out


def keep_ms(db: Path, as_of: dt.date) -> float:
    """What every import adds: recomputing the kept answers for the whole caseload (the median
    of three, each in a write that is then committed as it was)."""
    st_ = store.open_store(db)
    times = []
    try:
        for _ in range(3):
            with st_.write(data_change=False) as cur:
                started = time.perf_counter()
                kept.refresh(cur, as_of)
                times.append(time.perf_counter() - started)
    finally:
        st_.close()
    return _ms(sorted(times)[1])


APPTEST_SCRIPT = r"""
import json, os, sys, time
from streamlit.testing.v1 import AppTest, app_test, local_script_runner
# A real server compiles each page once and keeps its bytecode (its Runtime's one ScriptCache);
# AppTest makes a new cache every run, so a rerun would also time compiling the page again.
script_cache = app_test.ScriptCache()
app_test.ScriptCache = local_script_runner.ScriptCache = lambda: script_cache
# The script's own run (what a server spends on a rerun), apart from AppTest reading the result.
from streamlit.runtime.scriptrunner import script_runner
own = []
run_script = script_runner.ScriptRunner._run_script
def timed_run_script(self, *args, **kwargs):
    t = time.perf_counter()
    try:
        return run_script(self, *args, **kwargs)
    finally:
        own.append(time.perf_counter() - t)
script_runner.ScriptRunner._run_script = timed_run_script
app, patients = sys.argv[1], json.loads(sys.argv[2])
pages = json.loads(sys.argv[3])
at = AppTest.from_file(app, default_timeout=600)
at.run()
out = {}
for name, (page, param) in pages.items():
    if param:
        at.query_params["patient"] = patients[param]
    else:
        at.query_params.pop("patient", None)
    times, runs = [], []
    for _ in range(4):  # the first run, then three cached reruns (their median)
        own.clear()
        t = time.perf_counter()
        at.switch_page("../pages/" + page).run()
        times.append(time.perf_counter() - t)
        runs.append(sum(own))
    if at.exception:
        raise SystemExit(f"{name}: {at.exception[0].message}")
    # The page timed is the one named: a patient not on the agenda, say, shows the agenda.
    heads = [h.value for h in [*at.title, *at.header, *at.subheader]]
    if param and not any(who in h for h in heads for who in (patients[param],  # or its alias
                                                              "·" + patients[param][-4:])):
        raise SystemExit(f"{name}: {patients[param]} is not shown: "
                         + "; ".join(w.value for w in at.warning))
    if param == "presented" and "Agenda" not in [b.label for b in at.button]:
        raise SystemExit(f"{name}: the presenter did not open")
    out[name] = {"script_first_ms": round(times[0] * 1000, 1),
                 "script_cached_ms": round(sorted(times[1:])[1] * 1000, 1),
                 "script_cached_own_ms": round(sorted(runs[1:])[1] * 1000, 1)}
# The patient page for patients it has not drawn yet, as a Next button or a link asks for one
# in a server that has drawn others: every answer and figure of theirs made anew.
times, runs = [], []
for other in json.loads(sys.argv[4]):
    at.query_params["patient"] = other
    own.clear()
    t = time.perf_counter()
    at.switch_page("../pages/patient.py").run()
    times.append(time.perf_counter() - t)
    runs.append(sum(own))
    if at.exception:
        raise SystemExit(f"patient {other}: {at.exception[0].message}")
if times:
    out["patient review"]["script_new_patients"] = len(times)
    out["patient review"]["script_new_patient_ms"] = round(sorted(times)[len(times) // 2] * 1000, 1)
    out["patient review"]["script_new_patient_own_ms"] = round(sorted(runs)[len(runs) // 2] * 1000, 1)
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
out["peak_rss_mb"] = round(int(hwm) / 1024, 1)
print(json.dumps(out))
"""


def script_times(
    db: Path,
    as_of: dt.date,
    patient_id: str,
    presented_id: str,
    new_patients: list[str] | tuple = (),
) -> dict:
    """Every page through AppTest in a process of its own (a dashboard that has served every
    page; the presenter on `presented_id`, on the agenda): first run and cached rerun, and that
    process's peak RSS; then the patient page for each of `new_patients` (the median: a patient
    it has not drawn yet)."""
    env = {**os.environ, store.DB_ENV: str(db), "MDT_AS_OF": as_of.isoformat()}
    shown = json.dumps({"patient": patient_id, "presented": presented_id})
    proc = subprocess.run(
        [sys.executable, "-c", APPTEST_SCRIPT, str(ROOT / "dashboard" / "app.py"), shown,
         json.dumps(APP_PAGES), json.dumps(list(new_patients))],
        env=env, capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        raise RuntimeError(f"AppTest run failed: {proc.stderr.strip()[-500:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# The patient page is drawn when its script has finished (server.SCRIPT_DONE_JS), the patient's
# heading is on the page and every chart has drawn its SVG; it is interactive once, after that,
# the browser's main thread has had QUIET_MS with no long task (a task over 50 ms, the browser's
# PerformanceObserver 'longtask'): Streamlit draws each chart a second time after its first
# (its spec set again once mounted), and a click before that waits for it. The time is the later
# of the two, the page drawn and the end of its last long task, as Lighthouse's Time to
# Interactive counts it (with a shorter quiet window).
QUIET_MS = 500
LONG_TASKS_JS = """() => {
  window.__lastLongTaskEnd = 0;
  new PerformanceObserver((list) => {
    for (const t of list.getEntries())
      window.__lastLongTaskEnd = Math.max(window.__lastLongTaskEnd, t.startTime + t.duration);
  }).observe({type: "longtask", buffered: true});
}"""
PATIENT_READY_JS = """(pid) => {
  const app = document.querySelector("[data-testid='stApp']");
  if (!app || app.getAttribute("data-test-script-state") !== "notRunning") return false;
  const heading = [...document.querySelectorAll("[data-testid='stHeading']")]
    .some((h) => h.textContent.includes("(" + pid + ")"));
  const charts = [...document.querySelectorAll("[data-testid='stPlotlyChart']")];
  // A chart whose plotly.js is still loading is a skeleton, not yet a stPlotlyChart.
  const loading = document.querySelectorAll("[data-testid='stSkeleton']").length;
  return heading && charts.length > 0 && loading === 0
    && charts.every((c) => c.querySelector(".main-svg"));
}"""
# True once the page is drawn (the moment kept in window.__drawnAt) and quiet since.
PATIENT_INTERACTIVE_JS = (
    """([pid, quiet]) => {
  const drawn = """
    + PATIENT_READY_JS
    + """;
  if (window.__drawnAt === undefined) {
    if (!drawn(pid)) return false;
    window.__drawnAt = performance.now();
  }
  return performance.now() - Math.max(window.__drawnAt, window.__lastLongTaskEnd) >= quiet;
}"""
)
OTHER_PAGES = ("meeting", "caseload", "data")  # opened after the patient page, for the RSS


def browser_times(db: Path, as_of: dt.date, patient_id: str, other_id: str) -> dict:
    """The patient page in Chromium against `streamlit run`, from a process of its own: ms until
    interactive on the first visit (a fresh server and a fresh browser), then in the same tab on
    a link to another patient (the page loads again, from the browser's cache) and on that
    patient's Next button (a rerun); then every other page is opened and the server's peak RSS
    read. Says why instead when Playwright or Chromium is missing."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return {"not_measured": "Playwright is not installed (pip install -e '.[test]')"}
    if not Path(server.CHROMIUM).exists():
        return {"not_measured": f"no Chromium at {server.CHROMIUM} (make browser installs it)"}
    proc = subprocess.run(
        [sys.executable, "-c", "from dashboard import bench; bench._browser_main()",
         str(db), as_of.isoformat(), patient_id, other_id],
        capture_output=True, text=True, cwd=ROOT, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    if proc.returncode != 0:
        raise RuntimeError(f"browser run failed: {proc.stderr.strip()[-800:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _browser_main() -> None:
    db, as_of = Path(sys.argv[1]), dt.date.fromisoformat(sys.argv[2])
    print(json.dumps(_browser_measure(db, as_of, sys.argv[3], sys.argv[4])))


def _browser_measure(db: Path, as_of: dt.date, patient_id: str, other_id: str) -> dict:
    from playwright.sync_api import sync_playwright

    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        running = server.launch(db, Path(tmp) / "server.log", as_of)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=server.CHROMIUM, args=server.CHROMIUM_ARGS
                )
                try:
                    page = browser.new_page(viewport={"width": 1600, "height": 1000})
                    page.add_init_script(f"({LONG_TASKS_JS})()")

                    def interactive(visit: str, pid: str, started: float) -> None:
                        """ms from `started` (the page's clock) until drawn, and interactive."""
                        page.wait_for_function(
                            PATIENT_INTERACTIVE_JS, arg=[pid, QUIET_MS], polling=50,
                            timeout=120_000,
                        )  # fmt: skip
                        drawn, done = page.evaluate(
                            "() => [window.__drawnAt,"
                            " Math.max(window.__drawnAt, window.__lastLongTaskEnd)]"
                        )
                        out[f"patient_{visit}_drawn_ms"] = round(drawn - started, 1)
                        out[f"patient_{visit}_ms"] = round(done - started, 1)

                    # a visit's clock starts with its navigation: performance.now() is 0 then
                    page.goto(f"{running.url}/patient?patient={patient_id}")
                    interactive("first_visit", patient_id, 0.0)
                    page.goto(f"{running.url}/patient?patient={other_id}")
                    interactive("link", other_id, 0.0)
                    following = page.locator("button", has_text="Next").first
                    if following.is_enabled():
                        started = page.evaluate(
                            "() => { window.__drawnAt = undefined; return performance.now(); }"
                        )
                        following.click()
                        page.wait_for_function(
                            "(pid) => new URL(location.href).searchParams.get('patient') !== pid",
                            arg=other_id, polling=20, timeout=120_000,
                        )  # fmt: skip
                        shown = page.evaluate(
                            "() => new URL(location.href).searchParams.get('patient')"
                        )
                        interactive("next_button", shown, started)
                    page = browser.new_page()
                    for name in OTHER_PAGES:
                        page.goto(f"{running.url}/{name}")
                        page.wait_for_selector("[data-testid='stHeading']", timeout=120_000)
                        page.wait_for_function(server.SCRIPT_DONE_JS, polling=100, timeout=120_000)
                finally:
                    browser.close()
            status = Path(f"/proc/{running.process.pid}/status").read_text()
            hwm = next(line for line in status.splitlines() if line.startswith("VmHWM"))
            out["server_peak_rss_mb"] = round(int(hwm.split()[1]) / 1024, 1)
        finally:
            server.stop(running)
    return out


def floor_ms(db: Path) -> dict:
    """The floor as the pages are measured: cold, its first run on a freshly opened store (the
    median of three such), and warm (the quickest run after)."""
    cold, warm = [], []
    for _ in range(3):
        st_ = store.open_store(db, read_only=True)
        try:
            cur = st_.cursor()
            for times in (cold, warm, warm):
                started = time.perf_counter()
                cur.execute(FLOOR_SQL).fetchall()
                times.append(time.perf_counter() - started)
        finally:
            st_.close()
    return {"floor_ms": _ms(min(warm)), "floor_cold_ms": _ms(sorted(cold)[1])}


PANDAS_SCRIPT = r"""
import json, sys, time
import duckdb
db, as_of, approach = sys.argv[1], sys.argv[2], sys.argv[3]
t = time.perf_counter()
con = duckdb.connect(db, read_only=True)
con.execute("SET TimeZone = 'UTC'")
if approach.startswith("sql"):
    import datetime as dt
    import queries
    day = dt.date.fromisoformat(as_of)
    if approach == "sql_not_kept":  # a day the store keeps no answers for: all computed
        day -= dt.timedelta(days=1)
        as_of = day.isoformat()
    answers = queries.Answers(con)  # the summary is computed once for both, as on the pages
    answers("meeting_agenda", as_of=day, meeting_id=as_of, patient_ids=None)
    answers("caseload_kpis", as_of=day, start=day - dt.timedelta(days=83),
            patient_ids=None, sites=None, clinicians=None, conditions=None)
else:
    import pandas as pd
    day = pd.Timestamp(as_of)
    frames = {t_: con.execute(f"SELECT * FROM {t_}").df() for t_ in
              ("patients", "pain_ratings", "sessions", "assessments", "home_practice")}
    p, r = frames["patients"], frames["pain_ratings"]
    r = r[r.context.isin(["now", "avg_24h"])].assign(day=r.ts.dt.normalize())
    daily = r.groupby(["patient_id", "day"], as_index=False).nrs.mean().merge(
        p[["patient_id", "start_date", "site", "primary_clinician_id"]], on="patient_id")
    base = daily[daily.day <= daily.start_date + pd.Timedelta(days=6)].groupby("patient_id").nrs.mean()
    cur = daily[(daily.day > day - pd.Timedelta(days=7)) & (daily.day <= day)].groupby("patient_id").nrs.mean()
    change = (100 * (cur - base) / base).round(1)
    in_care = p[(p.start_date <= day) & p.status.isin(["active", "on_hold"])].set_index("patient_id")
    weeks = (day - in_care.start_date).dt.days / 7
    eligible = change.reindex(in_care.index[weeks >= 8]).dropna()
    kpis = {"meaningful": float((eligible <= -30).mean()), "median": float(eligible.median())}
    s = frames["sessions"]
    dna = s[(s.status == "dna") & (s.ts > day - pd.Timedelta(days=28))].groupby("patient_id").size()
    h = frames["home_practice"]
    h = h[(h.date > day - pd.Timedelta(days=14)) & (h.prescribed_min > 0)].groupby("patient_id")[
        ["completed_min", "prescribed_min"]].sum()
    a = frames["assessments"]
    phq = a[a.instrument == "PHQ9"].sort_values("date").groupby("patient_id").last()
    flags = {"missed": int((dna >= 2).sum()),
             "practice": int((h.completed_min / h.prescribed_min < 0.5).sum()),
             "mood": int((phq.total >= 15).sum()), "kpis": kpis}
seconds = time.perf_counter() - t
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
print(json.dumps({"seconds": seconds, "peak_rss_mb": int(hwm) / 1024}))
"""


def approach(db: Path, as_of: dt.date, which: str) -> dict:
    """The caseload KPIs and agenda flags the dashboard's way ('sql') or loaded into pandas
    frames and grouped ('pandas'), each in a fresh process: time and peak RSS."""
    proc = subprocess.run(
        [sys.executable, "-c", PANDAS_SCRIPT, str(db), as_of.isoformat(), which],
        capture_output=True, text=True, cwd=ROOT, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    if proc.returncode != 0:
        raise RuntimeError(f"{which} approach failed: {proc.stderr.strip()[-500:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"ms": _ms(result["seconds"]), "peak_rss_mb": round(result["peak_rss_mb"], 1)}


def machine(db: Path) -> dict:
    """This machine's own pace, so that runs on different machines can be set side by side:
    a Python loop (10 million additions, one core; the quickest of three), and DuckDB's own
    load rate here, the pain ratings copied from a Parquet file into a new table (the issue's
    reference for an import's rows/s; the median of three)."""
    loop = []
    for _ in range(3):
        started, total = time.perf_counter(), 0
        for i in range(10_000_000):
            total += i
        loop.append(time.perf_counter() - started)
    with tempfile.TemporaryDirectory() as tmp:
        parquet = Path(tmp) / "pain_ratings.parquet"
        st_ = store.open_store(db, read_only=True)
        try:
            st_.cursor().execute(f"COPY pain_ratings TO '{parquet}' (FORMAT parquet)")
        finally:
            st_.close()
        con, copies = duckdb.connect(str(Path(tmp) / "copy.duckdb")), []
        try:
            for n in range(3):
                started = time.perf_counter()
                con.execute(f"CREATE TABLE t{n} AS SELECT * FROM read_parquet('{parquet}')")
                copies.append(time.perf_counter() - started)
            rows = con.execute("SELECT count(*) FROM t0").fetchone()[0]
        finally:
            con.close()
    return {
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "python_loop_ms": _ms(min(loop)),
        "duckdb_parquet_copy_rows_per_second": round(rows / sorted(copies)[1]),
    }


def sizes(db: Path) -> dict:
    st_ = store.open_store(db, read_only=True)
    try:
        counts = queries.run(st_.cursor(), "table_row_counts")
        patients = int(counts.set_index("table_name").row_count["patients"])
    finally:
        st_.close()
    return {
        "patients": patients,
        "rows": {r.table_name: int(r.row_count) for r in counts.itertuples() if r.row_count},
        "store_mb": round(db.stat().st_size / 2**20, 1),
    }


def run(patients: int, weeks: int, out: Path) -> dict:
    """Measure, write bench.json and bench.md into `out`, and return the figures."""
    out.mkdir(parents=True, exist_ok=True)
    db, as_of, imported = build_store(patients, weeks, out)
    st_ = store.open_store(db, read_only=True)
    try:
        first = queries.run(
            st_.cursor(),
            "patient_search",
            as_of=as_of,
            term="",
            privacy_mode=False,
            limit=2 + NEW_PATIENTS,
        )  # in care first
    finally:
        st_.close()
    patient_id, other_id, *new_patients = first["patient_id"]
    agenda_rows = _agenda_rows(db, _params(as_of, patient_id))
    presented_id = presented(agenda_rows)
    figures = {
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(db),
        "as_of": as_of.isoformat(),
        "patient": patient_id,
        "presented": presented_id,
        "sizes": sizes(db),
        "import": imported or "reused an existing store",
        "queries": query_times(db, as_of, patient_id, agenda_rows),
        **floor_ms(db),
        "kept_refresh_ms": keep_ms(db, as_of),
        "ours": approach(db, as_of, "sql"),
        "ours_not_kept": approach(db, as_of, "sql_not_kept"),
        "pandas": approach(db, as_of, "pandas"),
    }
    figures["scripts"] = script_times(db, as_of, patient_id, presented_id, new_patients)
    figures["browser"] = browser_times(db, as_of, patient_id, other_id)
    (out / "bench.json").write_text(json.dumps(figures, indent=2), encoding="utf-8")
    (out / "bench.md").write_text(markdown(figures), encoding="utf-8")
    return figures


def markdown(f: dict) -> str:
    s, m = f["sizes"], f["machine"]
    lines = [
        f"# Benchmark: {s['patients']:,} patients",
        "",
        f"Measured {f['measured_at']} on {m['cpus']} CPUs (Python {m['python']}); as of "
        f"{f['as_of']}; store {s['store_mb']} MB, {sum(s['rows'].values()):,} rows.",
        "",
        f"This machine's pace: a Python loop of 10 million additions {m['python_loop_ms']} ms; "
        f"DuckDB's own COPY of the pain ratings from Parquet "
        f"{m['duckdb_parquet_copy_rows_per_second']:,} rows/s.",
        "",
    ]
    if isinstance(f["import"], dict):
        i = f["import"]
        lines += [f"Import (validated): {i['import_rows']:,} rows in {i['import_seconds']} s = "
                  f"{i['import_rows_per_second']:,} rows/s, "
                  f"{i['import_rows_per_second'] / m['duckdb_parquet_copy_rows_per_second']:.0%} "
                  f"of DuckDB's own COPY here (generated in {i['generate_seconds']} s).",
                  ""]  # fmt: skip
    lines += [
        f"The patient page shows {f['patient']}; the presenter {f['presented']}, the agenda's "
        "first row (on a day not kept, that day's).",
        "",
        "| page | queries | cold ms | cold ms, a day not kept | warm ms | script first ms "
        "| script cached ms (AppTest / the script's own run) |",
        "|---|---|---|---|---|---|---|",
    ]
    for page, q in f["queries"].items():
        sc = f["scripts"].get(page, {})
        lines.append(f"| {page} | {q['queries']} | {q['cold_ms']} | {q.get('cold_not_kept_ms', '')} "
                     f"| {q['warm_ms']} | {sc.get('script_first_ms', '')} | "
                     f"{sc.get('script_cached_ms', '')} / {sc.get('script_cached_own_ms', '')} |")  # fmt: skip
    o, n, p = f["ours"], f["ours_not_kept"], f["pandas"]
    pr = f["scripts"].get("patient review", {})
    if "script_new_patient_ms" in pr:
        lines += [
            "",
            "Patient page for a patient it has not drawn yet (a Next button or a link, in a "
            f"dashboard that has drawn others; the median of {pr['script_new_patients']}): "
            f"{pr['script_new_patient_ms']} ms through AppTest, "
            f"{pr['script_new_patient_own_ms']} ms the script's own run.",
        ]
    lines += [
        "",
        f"- Floor (one GROUP BY over pain ratings): {f['floor_ms']} ms warm, "
        f"{f['floor_cold_ms']} ms cold (its first run on a freshly opened store)",
        "- Against the floor, like for like: "
        + "; ".join(
            f"{page} {f['queries'][page]['cold_ms'] / f['floor_cold_ms']:.1f}x cold, "
            f"{f['queries'][page]['warm_ms'] / f['floor_ms']:.1f}x warm"
            for page in ("meeting agenda", "caseload")
        ),
        f"- Kept answers (the caseload's summary, flags and flag lists for the as-of day, its "
        f"patients for the caseload page's periods, the page's other answers for the view each "
        f"of its tabs opens on, and the day's meeting agenda; recomputed by every import, and by "
        f"the dashboard when it starts on a day no import kept them for): "
        f"{f['kept_refresh_ms']} ms",
        f"- Agenda + caseload KPIs in a fresh process: ours {o['ms']} ms at {o['peak_rss_mb']} MB "
        f"peak RSS ({n['ms']} ms at {n['peak_rss_mb']} MB for a day not kept); the pandas approach "
        f"{p['ms']} ms at {p['peak_rss_mb']} MB ({p['ms'] / max(o['ms'], 0.1):.1f}x the time, "
        f"{p['peak_rss_mb'] / o['peak_rss_mb']:.1f}x the memory; "
        f"{p['ms'] / max(n['ms'], 0.1):.1f}x and {p['peak_rss_mb'] / n['peak_rss_mb']:.1f}x for "
        "a day not kept)",
        f"- Dashboard process after serving every page (AppTest): {f['scripts']['peak_rss_mb']} MB "
        "peak RSS",
    ]
    b = f.get("browser", {})
    if "not_measured" in b:
        lines.append(f"- Patient page in a real browser: not measured ({b['not_measured']})")
    elif b:
        visits = {"first_visit": "on the first visit to a fresh server",
                  "link": "for a link to another patient in the same tab",
                  "next_button": "for its Next button"}  # fmt: skip
        lines.append(
            "- Patient page in a real browser (Chromium, `streamlit run`), until interactive "
            f"(drawn: script done, every chart drawn; then the main thread quiet for "
            f"{QUIET_MS} ms, from the end of its last long task), drawn / interactive: "
            + "; ".join(
                f"{b[f'patient_{v}_drawn_ms']} / {b[f'patient_{v}_ms']} ms {said}"
                if f"patient_{v}_ms" in b
                else f"not measured {said}"
                for v, said in visits.items()
            )
            + f". That server after every page: {b['server_peak_rss_mb']} MB peak RSS"
        )
    lines.append("")
    return "\n".join(lines)
