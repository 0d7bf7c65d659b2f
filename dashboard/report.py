"""The progress report of one patient: JSON for scripts and the EHR, HTML, and a PDF for the record.

The same numbers as the patient page (the same queries), the key charts as images drawn by kaleido
in the system Chromium, and the PDF printed by that Chromium. Privacy mode (`--private`) masks
exactly what it masks on screen: the name becomes the alias, the birth year, notes and the
safety-item detail go.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import html
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

import queries
from dashboard import charts, privacy, store

FORMATS = ("pdf", "html", "json")
CHROMIUM_ENV = "MDT_CHROMIUM"


class ReportError(Exception):
    """A report that cannot be made; the message says why and what to do."""


@dataclass
class ProgressReport:
    patient_id: str
    patient: str
    as_of: dt.date
    start: dt.date
    privacy_mode: bool
    data_version: int
    synthetic_data: bool
    summary: dict
    flags: list[dict]
    instruments: list[dict]
    nrs_ref: dict
    goals: list[dict] = field(default_factory=list)
    milestones: list[dict] = field(default_factory=list)
    barriers: list[dict] = field(default_factory=list)
    frames: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)


def _records(df: pd.DataFrame) -> list[dict]:
    return json.loads(df.to_json(orient="records", date_format="iso"))


def _plain(value):
    if value is None or (not isinstance(value, str | list | dict) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value


def build(
    st_: store.Store,
    patient_id: str,
    as_of: dt.date,
    start: dt.date | None = None,
    privacy_mode: bool = False,
) -> ProgressReport:
    """Gather one patient's report from the store (the patient page's own queries)."""
    cur = st_.cursor()
    try:
        summary_df = queries.run(cur, "patient_summary", as_of=as_of, patient_ids=[patient_id])
        if summary_df.empty:
            raise ReportError(
                f"There is no patient {patient_id!r} in the store {st_.path}. Check the id "
                "(the Patient page's picker lists them)."
            )
        summary = {k: _plain(v) for k, v in summary_df.iloc[0].items()}
        care_start = dt.date.fromisoformat(summary["start_date"][:10])
        if care_start > as_of:
            raise ReportError(
                f"{patient_id} starts care on {care_start:%d %B %Y}, after the as-of date "
                f"{as_of:%d %B %Y}: choose a later --as-of."
            )
        start = start or care_start
        if start > as_of:
            raise ReportError(f"--from {start} is after the as-of date {as_of}.")
        period = {"patient_id": patient_id, "start": start, "as_of": as_of}
        flags = queries.run(cur, "patient_flags", as_of=as_of, patient_ids=[patient_id])
        frames = {
            "pain": queries.run(cur, "patient_pain_daily", **period),
            "markers": queries.run(cur, "patient_timeline_markers", **period),
            "scores": queries.run(cur, "patient_assessments", **period),
            "goal_reviews": queries.run(
                cur, "patient_goal_reviews", patient_id=patient_id, as_of=as_of
            ),
            "gas_t": queries.run(cur, "patient_gas_t", patient_id=patient_id, as_of=as_of),
        }
        instruments = queries.run(
            cur, "patient_instrument_changes", patient_id=patient_id, as_of=as_of
        )
        milestones = queries.run(cur, "patient_milestones", patient_id=patient_id, as_of=as_of)
        barriers = queries.run(cur, "patient_barriers", patient_id=patient_id, as_of=as_of)
        nrs_ref = queries.run(cur, "instrument_reference", code="NRS").iloc[0].to_dict()
        meta = dict(cur.execute("SELECT key, value FROM meta").fetchall())
    finally:
        cur.close()
    name = summary.pop("name")
    if privacy_mode:
        summary.pop("birth_year", None)
    goals = (
        frames["goal_reviews"].sort_values("date").groupby("goal_id", as_index=False).last()
        if not frames["goal_reviews"].empty
        else frames["goal_reviews"]
    )
    return ProgressReport(
        patient_id=patient_id,
        patient=privacy.patient_display(name, patient_id, privacy_mode),
        as_of=as_of,
        start=start,
        privacy_mode=privacy_mode,
        data_version=int(meta["data_version"]),
        synthetic_data=meta.get("synthetic_data") == "true",
        summary=summary,
        flags=[flag_record(f, privacy_mode) for f in flags.itertuples()],
        instruments=[
            {
                "instrument": r.instrument,
                "name": r.name,
                "first": _plain(r.first_total),
                "first_date": _plain(r.first_date),
                "latest": _plain(r.latest_total),
                "latest_date": _plain(r.latest_date),
                "latest_band": _plain(r.latest_band),
                "change": _plain(r.change),
                "meaningful_change": _plain(r.meaningful_change),
                "assessment": r.assessment,
                "assessment_text": r.assessment_text,
                "source": r.source,
            }
            for r in instruments.itertuples()
        ],
        nrs_ref=nrs_ref,
        goals=_records(goals[["goal_id", "domain", "description", "date", "attainment"]])
        if not goals.empty
        else [],
        milestones=_records(milestones[["description", "due_date", "achieved_date", "status"]]),
        barriers=_records(barriers[barriers["open"]][["kind", "opened", "owner", "action"]]),
        frames=frames,
    )


def flag_record(f, privacy_mode: bool) -> dict:
    """One flag (a row of patient_flags.sql, as a row tuple or a dict) for an export: rule,
    name, level, reason, the values that fired it, date and source; the safety flag's detail
    (its values, reason and rule) is masked in privacy mode."""
    get = f.get if isinstance(f, dict) else lambda k: getattr(f, k)
    values = json.loads(get("evidence"))
    reason, rule_text = get("reason"), get("rule")
    if get("flag") == "safety" and privacy_mode:  # its rule too: it names the item that fired
        values, reason, rule_text = {}, privacy.SAFETY_MASK, None
    return {
        "rule": get("flag"),
        "name": get("name"),
        "level": get("level"),
        "reason": reason,
        "values": values,
        "rule_text": rule_text,
        "date": _plain(get("flag_date")),
        "source": get("source"),
    }


def to_json(report: ProgressReport) -> dict:
    """The summary numbers and flags, for scripts and the EHR."""
    s = report.summary
    return {
        "patient_id": report.patient_id,
        "patient": report.patient,
        "as_of": report.as_of.isoformat(),
        "from": report.start.isoformat(),
        "privacy_mode": report.privacy_mode,
        "data_version": report.data_version,
        "synthetic_data": report.synthetic_data,
        "condition": s["condition"],
        "weeks_in_care": s["weeks_in_care"],
        "primary_clinician": s["primary_clinician"],
        "baseline_nrs": s["baseline_nrs"],
        "current_nrs": s["current_nrs"],
        "change_points": s["change_points"],
        "change_pct": s["change_pct"],
        "pain_response": s["pain_response"],
        "attendance_pct": s["attendance_pct"],
        "home_practice_adherence_pct": s["adherence_pct"],
        "goals_on_track": s["goals_on_track"],
        "goals_reviewed": s["goals_reviewed"],
        "gas_t": s["gas_t"],
        "next_review_due": s["next_review_due"],
        "in_care": s["in_care"],
        "end_of_care": s.get("end_of_care"),
        "flags": [
            {k: f[k] for k in ("rule", "name", "level", "reason", "values", "date")}
            for f in report.flags
        ],
        "instruments": report.instruments,
    }


# ---- Figures and HTML ---------------------------------------------------------------------------

REPORT_INSTRUMENTS = ("PSEQ", "PCS", "PHQ9", "ISI", "GAD7", "TSK11")


def figures(report: ProgressReport) -> dict[str, go.Figure]:
    """The key charts of the report, sized for an A4 page."""
    f = report.frames
    out: dict[str, go.Figure] = {}
    if f["pain"]["nrs"].notna().any():
        out["Pain intensity"] = charts.pain_trend(
            f["pain"],
            f["markers"],
            report.summary["baseline_nrs"],
            report.nrs_ref,
            report.start,
            report.as_of,
            privacy_mode=True,
        )
    scores = f["scores"][f["scores"]["instrument"].isin(REPORT_INSTRUMENTS)]
    if not scores.empty:
        out["Questionnaires"] = charts.questionnaires(
            scores, report.start, report.as_of, report.privacy_mode
        )
    if not f["goal_reviews"].empty:
        out["Goal attainment"] = charts.goal_attainment(
            f["goal_reviews"], f["gas_t"], report.start, report.as_of
        )
    for fig in out.values():
        fig.update_layout(
            title=None, margin={"t": 30, "l": 70, "r": 20, "b": 40}, font={"size": 13}
        )
    return out


def find_chromium() -> str:
    """The system Chromium (or $MDT_CHROMIUM) that draws the charts and prints the PDF."""
    candidates = [os.environ.get(CHROMIUM_ENV)] + [
        shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")
    ]
    for c in candidates:
        if c and Path(c).exists():
            return c
    raise ReportError(
        "PDF reports need Chromium, which was not found. Install Debian's chromium package "
        "(make run does), or set MDT_CHROMIUM to its path; --format html or json work without it."
    )


def chart_images(figs: dict[str, go.Figure], width: int = 760) -> dict[str, str]:
    """Each figure as an SVG string, drawn by kaleido in the system Chromium (one browser)."""
    if not figs:
        return {}
    os.environ.setdefault("BROWSER_PATH", find_chromium())
    import kaleido

    async def draw() -> list[bytes]:
        async with kaleido.Kaleido(n=1, mathjax=False) as k:
            return [
                await k.calc_fig(
                    fig,
                    opts={"format": "svg", "width": width, "height": int(fig.layout.height * 0.75)},
                )
                for fig in figs.values()
            ]

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        images = asyncio.run(draw())
    else:  # called from inside an event loop: draw on a thread with a loop of its own
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            images = pool.submit(asyncio.run, draw()).result()
    return {title: img.decode("utf-8") for title, img in zip(figs, images, strict=True)}


def _fmt(value, spec: str = "", none: str = "–") -> str:
    if value is None:
        return none
    return format(value, spec) if spec else str(value)


def page_css(size: str, footer: str) -> str:
    """CSS for printed pages: size, margins, and the footer with page numbers in the bottom
    margin of every page (Chromium's @page margin boxes), where it can never cover content.
    On screen the page ends with the same footer as a paragraph (class screen-footer)."""
    text = footer.replace("\\", "\\\\").replace('"', '\\"')
    box = "font-family: 'DejaVu Sans', Arial, sans-serif; font-size: 8.5pt; color: #555;"
    return (
        f"@page {{ size: {size}; margin: 12mm 12mm 16mm 12mm;"
        f' @bottom-left {{ content: "{text}"; {box} }}'
        f' @bottom-right {{ content: "page " counter(page) " of " counter(pages); {box} }} }}'
        " .screen-footer { font-size: 8.5pt; color: #555; border-top: 1px solid #ccc; }"
        " @media print { .screen-footer { display: none; } }"
    )


def to_html(report: ProgressReport, images: dict[str, str] | None = None) -> str:
    """A self-contained HTML report (charts inline as SVG), laid out for A4 printing."""
    s = report.summary
    e = html.escape
    flags = (
        "".join(
            f"<li class='{e(f['level'])}'><b>{e(f['name'])}</b> ({e(f['level'])}): {e(f['reason'])}"
            + (f"<br><small>Rule: {e(f['rule_text'])}</small>" if f["rule_text"] else "")
            + "</li>"
            for f in report.flags
        )
        or "<li>No flags on the as-of date.</li>"
    )
    instruments = "".join(
        f"<tr><td>{e(i['instrument'])}</td><td>{_fmt(i['first'], 'g')}</td><td>{_fmt(i['latest'], 'g')}</td>"
        f"<td>{e(i['latest_band'] or '—')}</td><td>{_fmt(i['change'], '+g')}</td><td>{e(i['assessment_text'])}</td><td><small>{e(i['source'] or '')}</small></td></tr>"
        for i in report.instruments
    )
    goals = (
        "".join(
            f"<tr><td>{e(g['goal_id'])}</td><td>{e(g['domain'].replace('_', ' '))}</td><td>{e(g['description'])}</td>"
            f"<td>{g['attainment']:+d}</td><td>{e(g['date'][:10])}</td></tr>"
            for g in report.goals
        )
        or "<tr><td colspan=5>No goal reviews yet.</td></tr>"
    )
    milestones = (
        "".join(
            f"<tr><td>{e(m['description'])}</td><td>{e((m['due_date'] or '')[:10])}</td>"
            f"<td>{e((m['achieved_date'] or '')[:10])}</td><td>{e(m['status'])}</td></tr>"
            for m in report.milestones
        )
        or "<tr><td colspan=4>No milestones set.</td></tr>"
    )
    barriers = (
        "".join(
            f"<tr><td>{e(b['kind'].replace('_', ' '))}</td><td>{e(b['opened'][:10])}</td>"
            f"<td>{e(b['owner'] or '')}</td><td>{e(b['action'] or '')}</td></tr>"
            for b in report.barriers
        )
        or "<tr><td colspan=4>No open barriers.</td></tr>"
    )
    charts_html = "".join(
        f"<section class='chart'><h2>{e(title)}</h2>{svg}</section>"
        for title, svg in (images or {}).items()
    )
    born = "" if report.privacy_mode or not s.get("birth_year") else f" · born {s['birth_year']}"
    footer = (
        f"As of {report.as_of:%d %B %Y} · period from {report.start:%d %B %Y} · data version "
        f"{report.data_version}"
        + (" · SYNTHETIC DATA" if report.synthetic_data else "")
        + (" · privacy mode" if report.privacy_mode else "")
    )
    response = s["pain_response"] or "no current rating"
    care = f"{_fmt(s['weeks_in_care'], '.1f')} weeks in care since {e(s['start_date'][:10])}"
    review = f"next due {e(s['next_review_due'][:10])}"
    if not s["in_care"] and s.get("end_of_care"):  # care ended by the as-of date
        weeks = _fmt(s["weeks_in_care"], ".1f")  # to the end of care
        care = f"in care {e(s['start_date'][:10])} to {e(s['end_of_care'][:10])} ({weeks} weeks)"
        review = "none due (care ended)"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Progress report {e(report.patient)}</title>
<style>
{page_css("A4", footer)}
body {{ font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10.5pt; color: #222; font-variant-ligatures: none; }}
h1 {{ font-size: 17pt; margin: 0 0 2mm 0; }} h2 {{ font-size: 12.5pt; margin: 4mm 0 1mm 0; }}
table {{ border-collapse: collapse; width: 100%; }} td, th {{ border-bottom: 1px solid #ddd; padding: 1.2mm 2mm; text-align: left; vertical-align: top; }}
.kpis td {{ font-size: 12pt; }} .kpis b {{ font-size: 14pt; }}
ul.flags {{ padding-left: 5mm; margin: 0; }} li.urgent {{ color: #B00020; font-weight: bold; }}
li.review {{ color: #8a4b00; }} li.info {{ color: #333; }}
.chart {{ break-inside: avoid; }} .chart svg {{ width: 100%; height: auto; }}
</style></head><body>
<h1>Progress report: {e(report.patient)}</h1>
<p>{e(s["condition"])}{e(" (" + s["condition_code"] + ")" if s.get("condition_code") else "")} ·
{e(" ".join(x for x in (s.get("affected_region"), s.get("side")) if x and x != "NA"))} · {e(s.get("site") or "")}{e(born)}<br>
{care} · primary clinician {e(s["primary_clinician"] or "none")} ·
review every {s["review_interval_days"]} days, {review} · status {e(s["status"].replace("_", " "))}</p>
<h2>Since baseline</h2>
<table class="kpis"><tr>
<td>Baseline NRS<br><b>{_fmt(s["baseline_nrs"], ".1f")}</b></td>
<td>Current NRS<br><b>{_fmt(s["current_nrs"], ".1f")}</b></td>
<td>Change<br><b>{_fmt(s["change_points"], "+.1f")} points ({_fmt(s["change_pct"], "+.1f")}%)</b></td>
<td>Pain response<br><b>{e(response)}</b></td>
<td>Attendance<br><b>{_fmt(s["attendance_pct"], ".0f")}%</b></td>
<td>Home practice<br><b>{_fmt(s["adherence_pct"], ".0f")}%</b></td>
<td>Goals on track<br><b>{s["goals_on_track"]} of {s["goals_reviewed"]}</b>{"" if s["gas_t"] is None else f"<br>GAS T {s['gas_t']:.1f}"}</td>
</tr></table>
<p><small>NRS: {e(report.nrs_ref["meaningful_change_text"])}. Source: {e(report.nrs_ref["source"])}.</small></p>
<h2>Flags</h2><ul class="flags">{flags}</ul>
<h2>Questionnaires (first and latest)</h2>
<table><tr><th>instrument</th><th>first</th><th>latest</th><th>latest band</th><th>change</th><th>assessment</th><th>source</th></tr>{instruments}</table>
{charts_html}
<h2>Goals (latest review)</h2>
<table><tr><th>goal</th><th>domain</th><th>description</th><th>attainment</th><th>reviewed</th></tr>{goals}</table>
<h2>Milestones</h2>
<table><tr><th>milestone</th><th>due</th><th>achieved</th><th>status</th></tr>{milestones}</table>
<h2>Open barriers and actions</h2>
<table><tr><th>barrier</th><th>opened</th><th>owner</th><th>action</th></tr>{barriers}</table>
<p class="screen-footer">{e(footer)}</p>
</body></html>
"""


def to_pdf(page_html: str, timeout: float = 90) -> bytes:
    """Print the HTML report to PDF with the system Chromium."""
    chromium = find_chromium()
    with tempfile.TemporaryDirectory(prefix="mdt-report-") as tmp:
        src = Path(tmp) / "report.html"
        out = Path(tmp) / "report.pdf"
        src.write_text(page_html, encoding="utf-8")
        cmd = [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={Path(tmp) / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={out}",
            src.as_uri(),
        ]
        try:
            subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as e:
            raise ReportError(
                f"Chromium did not finish printing the PDF within {timeout:.0f} s."
            ) from e
        if not out.exists() or out.stat().st_size == 0:
            raise ReportError(
                "Chromium could not print the PDF; try --format html and print it from a browser."
            )
        return out.read_bytes()


def render(report: ProgressReport, fmt: str) -> bytes:
    """The report as PDF, HTML or JSON bytes."""
    if fmt == "json":
        return (json.dumps(to_json(report), indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    images = chart_images(figures(report))
    page = to_html(report, images)
    if fmt == "html":
        return page.encode("utf-8")
    if fmt == "pdf":
        return to_pdf(page)
    raise ReportError(f"Unknown report format {fmt!r}: choose one of {', '.join(FORMATS)}.")


def file_name(patient_id: str, as_of: dt.date, privacy_mode: bool, fmt: str) -> str:
    """'progress-report-P0006-private-2026-11-20.pdf': the id only, never the name."""
    who = patient_id + ("-private" if privacy_mode else "")
    return f"progress-report-{who}-{as_of.isoformat()}.{fmt}"


def record_export(st_: store.Store, report: ProgressReport, fmt: str, actor: str) -> None:
    """Write who exported which patient's report, and how, to the audit log."""
    privacy_mode = "on" if report.privacy_mode else "off"
    st_.audit(
        actor,
        "export_report",
        f"{fmt}; as of {report.as_of}; privacy mode {privacy_mode}",
        patient_id=report.patient_id,
    )
