"""MDT meeting mode: the agenda for an as-of date, the meeting's decisions written back to the
store (review_meetings, review_items), and what it sends out (the agenda, the minutes).

A meeting is one day: its id is the as-of date of its agenda ("2026-11-20"). Every write goes
through Store.write (one transaction under the store's write lock), so two browsers on the same
meeting take turns: notes and actions are rows of their own and never overwrite each other,
"reviewed" and "added" are idempotent, and a change to an action names the version it was made
on, so a stale one is refused with a sentence instead of undoing the other browser's change.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import duckdb
import pandas as pd

import queries
from dashboard import kept, privacy, report, store
from dashboard.importer import plural

ACTION_STATUSES = ("open", "done", "cancelled")
AGENDA_FORMATS = ("md", "json", "pdf")
MINUTES_FORMATS = ("md", "pdf")
MAX_TEXT = 2000
DEFAULT_MINUTES_PER_PATIENT = 4
AGENDA_PAGE = 40  # agenda rows the page draws at a time: a network-wide agenda runs to thousands


class MeetingError(Exception):
    """Something a user asked of the meeting that cannot be done; the message says why."""


meeting_id_for = store.meeting_id_for  # the meeting of a day: '2026-11-20'


def agenda(cur: duckdb.DuckDBPyConnection, day: dt.date) -> pd.DataFrame:
    """The day's agenda in order (queries/meeting_agenda.sql): the whole caseload in one pass,
    on the flags and summary the store keeps when it keeps them for the day (kept.py). Each row
    counts its flags; flag_lists() has the flags themselves."""
    params = {"as_of": day, "meeting_id": meeting_id_for(day), "patient_ids": None}
    answer = kept.from_kept(cur, "meeting_agenda", params, queries.run)
    return answer if answer is not None else queries.run(cur, "meeting_agenda", **params)


def agenda_at_a_glance(agenda: pd.DataFrame, day: dt.date) -> str:
    """The day's agenda in a sentence, for the overview: how many patients, how many of them
    urgent, due for review and already reviewed (the meeting page's own counts)."""
    if agenda.empty:
        return f"Nobody is on the agenda for {day:%a %d %b}."
    counts = [
        f"{int((agenda.urgent_flags > 0).sum()):,} urgent",
        f"{int(agenda.review_due.sum()):,} review due",
        f"{int(agenda.reviewed_at.notna().sum()):,} reviewed",
    ]
    return (
        f"On the agenda for {day:%a %d %b}: **{plural(len(agenda), 'patient')}** "
        f"({', '.join(counts)})."
    )


def flag_lists(
    cur: duckdb.DuckDBPyConnection, day: dt.date, patient_ids: list[str] | None
) -> dict[str, list[dict]]:
    """The flags on `day` of the patients in `patient_ids` (None: everyone), each patient's most
    urgent first (queries/patient_flag_lists.sql, the kept rows when the store keeps the day). A
    patient with no flag is not in it."""
    params = {"as_of": day, "patient_ids": patient_ids}
    answer = kept.from_kept(cur, "patient_flag_lists", params, queries.run)
    if answer is None:
        answer = queries.run(cur, "patient_flag_lists", **params)
    return flags_by_patient(answer)


def flags_by_patient(flag_lists: pd.DataFrame) -> dict[str, list[dict]]:
    """Rows of patient_flag_lists.sql as each patient's flags (its flag_list is JSON text)."""
    return {
        pid: json.loads(text)
        for pid, text in zip(flag_lists["patient_id"], flag_lists["flag_list"], strict=True)
    }


@contextlib.contextmanager
def _write(st_: store.Store, reviewed: str | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """One meeting write (Store.write). Of what the store keeps (kept.py), only a patient's last
    review is a meeting's doing: marking `reviewed` recomputes that patient's kept rows; every
    other meeting write leaves them valid."""
    with st_.write() as cur:
        yield cur
        if reviewed is None:
            kept.carry(cur)
        else:
            kept.refresh(cur, patient_ids=[reviewed])


def _now() -> dt.datetime:
    return store._utc_now()


def _text(value: str | None, what: str) -> str:
    text = (value or "").strip()
    if not text:
        raise MeetingError(f"The {what} is empty; write what was decided, then save.")
    if len(text) > MAX_TEXT:
        raise MeetingError(
            f"The {what} has {len(text):,} characters; keep it under {MAX_TEXT:,} "
            "(put longer text in the clinical record)."
        )
    return text


def _ensure_meeting(cur: duckdb.DuckDBPyConnection, day: dt.date) -> str:
    meeting_id = meeting_id_for(day)
    cur.execute(
        "INSERT INTO review_meetings (meeting_id, meeting_date, minutes_per_patient, created_at, "
        "updated_at) SELECT $id, $day, $minutes, $now, $now "
        "WHERE NOT EXISTS (SELECT 1 FROM review_meetings WHERE meeting_id = $id)",
        {"id": meeting_id, "day": day, "minutes": DEFAULT_MINUTES_PER_PATIENT, "now": _now()},
    )
    return meeting_id


def _check_patient(cur: duckdb.DuckDBPyConnection, patient_id: str) -> None:
    if not cur.execute(
        "SELECT 1 FROM patients WHERE patient_id = $p", {"p": patient_id}
    ).fetchone():
        raise MeetingError(f"There is no patient {patient_id!r} in the store.")


def _insert_item(cur: duckdb.DuckDBPyConnection, actor: str, **values) -> str:
    item_id = uuid.uuid4().hex
    now = _now()
    row = {"item_id": item_id, "created_at": now, "created_by": actor, "version": 1, **values}
    cols = ", ".join(row)
    cur.execute(
        f"INSERT INTO review_items ({cols}) VALUES ({', '.join('$' + c for c in row)})", row
    )
    return item_id


def hidden_notes(count: int) -> str:
    """What privacy mode shows of a patient's decision notes: how many, not what they say."""
    return f"{plural(count, 'decision note')}, hidden in privacy mode"


def save_details(
    st_: store.Store, day: dt.date, attendees: list[str], minutes_per_patient: int, actor: str
) -> None:
    """Record who attends and the planned minutes per patient."""
    if not 1 <= int(minutes_per_patient) <= 60:
        raise MeetingError("Plan between 1 and 60 minutes per patient.")
    with _write(st_) as cur:
        known = {r[0] for r in cur.execute("SELECT clinician_id FROM clinicians").fetchall()}
        unknown = sorted(set(attendees) - known)
        if unknown:
            raise MeetingError(f"Unknown clinician(s) {', '.join(unknown)}: choose from the list.")
        meeting_id = _ensure_meeting(cur, day)
        cur.execute(
            "UPDATE review_meetings SET attendees = $att, minutes_per_patient = $min, "
            "updated_at = $now WHERE meeting_id = $id",
            {
                "att": sorted(attendees),
                "min": int(minutes_per_patient),
                "now": _now(),
                "id": meeting_id,
            },
        )


def start(st_: store.Store, day: dt.date, actor: str) -> None:
    """Fix the agenda's order for the meeting (once; a second start changes nothing)."""
    with _write(st_) as cur:
        meeting_id = _ensure_meeting(cur, day)
        started = cur.execute(
            "SELECT started_at FROM review_meetings WHERE meeting_id = $id", {"id": meeting_id}
        ).fetchone()[0]
        if started is not None:
            return
        now = _now()
        served = kept.kept_in_this_write(cur, day)  # read the kept flags and summary if valid
        params = {"as_of": day, "meeting_id": meeting_id, "patient_ids": None, "now": now,
                  "actor": actor}  # fmt: skip
        used = queries.params_of("meeting_agenda", kept=served) | {"meeting_id", "now", "actor"}
        cur.execute(
            "INSERT INTO review_items (item_id, meeting_id, patient_id, kind, position, reason, "
            "created_at, created_by, version) "
            "SELECT CAST(uuid() AS VARCHAR), $meeting_id, patient_id, 'agenda', position, "
            "array_to_string(on_agenda_because, ', '), $now, $actor, 1 "
            f"FROM ({queries.sql('meeting_agenda', kept=served)}) a",
            {k: v for k, v in params.items() if k in used},
        )
        cur.execute(
            "UPDATE review_meetings SET started_at = $now, updated_at = $now WHERE meeting_id = $id",
            {"now": now, "id": meeting_id},
        )


def _once(
    cur: duckdb.DuckDBPyConnection,
    day: dt.date,
    patient_id: str,
    kinds: tuple[str, ...],
    actor: str,
    **values,
) -> bool:
    """Write an item of kinds[0] unless the day's meeting has one of `kinds` for the patient."""
    _check_patient(cur, patient_id)
    meeting_id = _ensure_meeting(cur, day)
    if cur.execute(
        "SELECT 1 FROM review_items WHERE meeting_id = $m AND patient_id = $p "
        "AND list_contains($kinds, kind)",
        {"m": meeting_id, "p": patient_id, "kinds": list(kinds)},
    ).fetchone():
        return False
    _insert_item(cur, actor, meeting_id=meeting_id, patient_id=patient_id, kind=kinds[0], **values)
    return True


def add_patient(st_: store.Store, day: dt.date, patient_id: str, actor: str) -> bool:
    """Put a patient on the day's agenda by hand; False when they were on it already."""
    with _write(st_) as cur:
        return _once(cur, day, patient_id, ("added", "agenda"), actor, reason="added by hand")


def add_note(st_: store.Store, day: dt.date, patient_id: str, note: str, actor: str) -> str:
    """A decision note for a patient; returns its item id."""
    text = _text(note, "decision note")
    with _write(st_) as cur:
        _check_patient(cur, patient_id)
        meeting_id = _ensure_meeting(cur, day)
        return _insert_item(
            cur, actor, meeting_id=meeting_id, patient_id=patient_id, kind="note", note=text
        )


def add_action(
    st_: store.Store,
    day: dt.date,
    patient_id: str,
    action: str,
    owner_clinician_id: str,
    due_date: dt.date,
    actor: str,
) -> str:
    """An open action item with its owner (a clinician) and due date; returns its item id."""
    text = _text(action, "action")
    if due_date is None or due_date < day:
        raise MeetingError(
            f"The due date {due_date} is before the meeting ({day:%d %b %Y}); choose a later date."
        )
    with _write(st_) as cur:
        _check_patient(cur, patient_id)
        if not cur.execute(
            "SELECT 1 FROM clinicians WHERE clinician_id = $c", {"c": owner_clinician_id}
        ).fetchone():
            raise MeetingError(
                f"There is no clinician {owner_clinician_id!r}: choose the owner from the list."
            )
        meeting_id = _ensure_meeting(cur, day)
        return _insert_item(
            cur,
            actor,
            meeting_id=meeting_id,
            patient_id=patient_id,
            kind="action",
            action=text,
            owner_clinician_id=owner_clinician_id,
            due_date=due_date,
            status="open",
        )


def set_action_status(
    st_: store.Store, item_id: str, seen_version: int, status: str, actor: str
) -> None:
    """Change an action's status, if nobody changed it since `seen_version`."""
    if status not in ACTION_STATUSES:
        raise MeetingError(f"Unknown status {status!r}: use one of {', '.join(ACTION_STATUSES)}.")
    with _write(st_) as cur:
        changed = cur.execute(
            "UPDATE review_items SET status = $s, version = version + 1, updated_at = $now, "
            "updated_by = $actor WHERE item_id = $id AND kind = 'action' AND version = $v "
            "RETURNING item_id",
            {"s": status, "now": _now(), "actor": actor, "id": item_id, "v": int(seen_version)},
        ).fetchall()
        if changed:
            return
        now = cur.execute(
            "SELECT status, updated_by FROM review_items WHERE item_id = $id AND kind = 'action'",
            {"id": item_id},
        ).fetchone()
    if now is None:
        raise MeetingError("That action item no longer exists.")
    raise MeetingError(
        f"This action was changed in another window (it is now '{now[0]}'"
        + (f", by {now[1]}" if now[1] else "")
        + "); the list shows the latest, so check it and try again if needed."
    )


def mark_reviewed(st_: store.Store, day: dt.date, patient_id: str, actor: str) -> bool:
    """The patient was reviewed in the day's meeting (their last review date becomes the
    meeting's day); False when they already were."""
    with _write(st_, reviewed=patient_id) as cur:
        return _once(cur, day, patient_id, ("reviewed",), actor)


def unmark_reviewed(st_: store.Store, day: dt.date, patient_id: str, actor: str) -> None:
    """Undo 'mark reviewed' for the day's meeting."""
    with _write(st_, reviewed=patient_id) as cur:
        cur.execute(
            "DELETE FROM review_items WHERE meeting_id = $m AND patient_id = $p "
            "AND kind = 'reviewed'",
            {"m": meeting_id_for(day), "p": patient_id},
        )


def record_time(
    st_: store.Store, day: dt.date, patient_id: str, seconds: float, actor: str
) -> None:
    """Time the meeting spent on a patient (added up over every visit to them)."""
    if seconds < 1:
        return
    with _write(st_) as cur:
        meeting_id = _ensure_meeting(cur, day)
        _insert_item(
            cur,
            actor,
            meeting_id=meeting_id,
            patient_id=patient_id,
            kind="discussed",
            seconds=round(min(seconds, 4 * 3600)),
        )


def record_privacy(st_: store.Store, day: dt.date, on: bool, actor: str) -> None:
    """Write a privacy-mode change on the meeting page to the audit log."""
    change = "back on" if on else "off on the shared screen, after confirmation"
    st_.audit(
        actor,
        "privacy_on" if on else "privacy_off",
        f"meeting {meeting_id_for(day)}: privacy mode turned {change}",
    )


def record_export(
    st_: store.Store, what: str, day: dt.date, fmt: str, private: bool, actor: str
) -> None:
    """Write an agenda or minutes export to the audit log."""
    st_.audit(
        actor,
        f"export_{what}",
        f"meeting {meeting_id_for(day)}; {fmt}; privacy mode {'on' if private else 'off'}",
    )


# ---- What the meeting sends out -------------------------------------------------------------


def pain_text(baseline, current) -> str:
    """'6.9 → 5.4 ↓ -1.5': baseline to now with an arrow (down is better); '5.3 → 5.3, no change'
    when the change rounds to 0.0 (a '→ +0.0' read as a change)."""
    if baseline is None or pd.isna(baseline):
        return "no baseline"
    if current is None or pd.isna(current):
        return f"{baseline:.1f} → no rating in the last 7 days"
    change = round(current - baseline, 1)
    if change == 0:
        return f"{baseline:.1f} → {current:.1f}, no change"
    arrow = "↓" if change < 0 else "↑"
    return f"{baseline:.1f} → {current:.1f} {arrow} {change:+.1f}"


def due_text(days_overdue: int) -> str:
    """'3 days overdue', 'due today', 'due in 21 days'."""
    if days_overdue > 0:
        return f"{days_overdue} day{'s' if days_overdue != 1 else ''} overdue"
    if days_overdue == 0:
        return "due today"
    return f"due in {-days_overdue} day{'s' if days_overdue != -1 else ''}"


@dataclass
class Document:
    """An agenda or minutes, ready to render: plain values only."""

    kind: str  # "agenda" | "minutes"
    day: dt.date
    privacy_mode: bool
    data_version: int
    synthetic_data: bool
    body: dict

    def footer(self) -> str:
        return (
            f"As of {self.day:%d %B %Y} · data version {self.data_version}"
            + (" · SYNTHETIC DATA" if self.synthetic_data else "")
            + (" · privacy mode" if self.privacy_mode else "")
        )


def _who(row, privacy_mode: bool) -> str:
    return privacy.patient_display(row["name"], row["patient_id"], privacy_mode)


def _agenda_entry(row: dict, flags: list[dict], privacy_mode: bool) -> dict:
    entry = {
        "position": int(row["position"]),
        "patient_id": row["patient_id"],
        "patient": _who(row, privacy_mode),
        "clinician": row["primary_clinician"],
        "on_agenda_because": list(row["on_agenda_because"]),
        "flags": [report.flag_record(f, privacy_mode) for f in flags],
        "urgent_flags": int(row["urgent_flags"]),
        "review_flags": int(row["review_flags"]),
        "last_review": report._plain(row["last_review"]),
        "days_since_review": int(row["days_since_review"]),
        "review_interval_days": int(row["review_interval_days"]),
        "days_overdue": int(row["days_overdue"]),
        "review_due": bool(row["review_due"]),
        "baseline_nrs": report._plain(row["baseline_nrs"]),
        "current_nrs": report._plain(row["current_nrs"]),
        "change_points": report._plain(row["change_points"]),
        "change_pct": report._plain(row["change_pct"]),
        "open_actions": int(row["open_actions"]),
        "overdue_actions": int(row["overdue_actions"]),
        "reviewed_in_meeting": row["reviewed_at"] is not None and not pd.isna(row["reviewed_at"]),
    }
    if not privacy_mode:
        entry["name"] = row["name"]
    return entry


def _context(st_: store.Store) -> tuple[int, bool]:
    meta = st_.meta()
    return int(meta["data_version"]), meta.get("synthetic_data") == "true"


def agenda_document(st_: store.Store, day: dt.date, privacy_mode: bool) -> Document:
    """The day's agenda in order, each patient with id, flags (rule, level, values) and
    review timing: what `mdt-dashboard agenda` prints and the page downloads."""
    cur = st_.cursor()
    try:
        rows = agenda(cur, day).to_dict("records")
        flags = flag_lists(cur, day, None)
    finally:
        cur.close()
    version, synthetic = _context(st_)
    return Document(
        "agenda",
        day,
        privacy_mode,
        version,
        synthetic,
        {
            "patients": [
                _agenda_entry(r, flags.get(r["patient_id"], []), privacy_mode) for r in rows
            ]
        },
    )


def minutes_document(st_: store.Store, day: dt.date, privacy_mode: bool) -> Document:
    """The meeting's minutes: attendees, then each patient discussed (in agenda order) with their
    flags, decision notes (hidden in privacy mode), actions agreed, and whether reviewed."""
    meeting_id = meeting_id_for(day)
    cur = st_.cursor()
    try:
        rows = agenda(cur, day)
        items = queries.run(cur, "meeting_items", meeting_id=meeting_id)
        meeting = queries.run(cur, "review_meeting", meeting_id=meeting_id)
        touched = set(items["patient_id"]) | set(
            rows.loc[rows["seconds_discussed"] > 0, "patient_id"]
        )
        flags = flag_lists(cur, day, sorted(touched))
    finally:
        cur.close()
    patients = []
    for r in rows[rows["patient_id"].isin(touched)].to_dict("records"):
        own = items[items["patient_id"] == r["patient_id"]]
        notes = own.loc[own["kind"] == "note", "note"].tolist()
        actions = own[own["kind"] == "action"]
        entry = _agenda_entry(r, flags.get(r["patient_id"], []), privacy_mode)
        entry |= {
            "minutes_discussed": round(float(r["seconds_discussed"]) / 60, 1),
            "notes": [] if privacy_mode else notes,
            "notes_hidden": len(notes) if privacy_mode else 0,
            "actions": [
                {
                    "action": a["action"],
                    "owner": a["owner"],
                    "due_date": report._plain(a["due_date"]),
                    "status": a["status"],
                }
                for a in actions.to_dict("records")
            ],
        }
        patients.append(entry)
    not_discussed = [
        f"{_who(r, privacy_mode)}"
        for r in rows[~rows["patient_id"].isin(touched)].to_dict("records")
    ]
    m = meeting.iloc[0] if not meeting.empty else None
    version, synthetic = _context(st_)
    return Document(
        "minutes",
        day,
        privacy_mode,
        version,
        synthetic,
        {
            "meeting_id": meeting_id,
            "attendees": [] if m is None else list(m["attendee_names"]),
            "minutes_per_patient": None if m is None else report._plain(m["minutes_per_patient"]),
            "started_at": None if m is None else report._plain(m["started_at"]),
            "agenda_size": len(rows),
            "reviewed": sum(p["reviewed_in_meeting"] for p in patients),
            "patients": patients,
            "not_discussed": not_discussed,
        },
    )


def _values_text(values) -> str:
    if isinstance(values, dict):
        return ", ".join(
            f"{k}=({_values_text(v)})" if isinstance(v, dict | list) else f"{k}={_values_text(v)}"
            for k, v in values.items()
        )
    if isinstance(values, list):
        return "; ".join(_values_text(v) for v in values)
    return json.dumps(values, ensure_ascii=False) if isinstance(values, str) else str(values)


def _flag_line(f: dict, detail: bool = True) -> str:
    """'review · Mood: PHQ-9 16 on 29 Oct 2026 (previous 14)', with the rule and the values that
    fired it when `detail` (the PDF keeps to the reason, which states the values in words)."""
    line = f"{f['level']} · {f['name']}: {f['reason']}"
    if detail and f["values"]:
        line += f" [rule: {f['rule_text']}; values: {_values_text(f['values'])}]"
    return line


def _actions_text(p: dict) -> str:
    overdue = f" ({p['overdue_actions']} overdue)" if p["overdue_actions"] else ""
    return f"{p['open_actions']}{overdue}"


def _md_cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def agenda_markdown(doc: Document) -> str:
    patients = doc.body["patients"]
    lines = [
        f"# MDT agenda, {doc.day:%d %B %Y}",
        "",
        f"{plural(len(patients), 'patient')}. Order: urgent first, then the number of review-level flags, "
        "then days overdue for review.",
        "",
        "| # | id | patient | clinician | on the agenda because | pain baseline → now | "
        "days since review | review | open actions |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for p in patients:
        lines.append(
            "| "
            + " | ".join(
                _md_cell(x)
                for x in (
                    p["position"],
                    p["patient_id"],
                    p["patient"],
                    p["clinician"] or "",
                    ", ".join(p["on_agenda_because"]),
                    pain_text(p["baseline_nrs"], p["current_nrs"]),
                    p["days_since_review"],
                    due_text(p["days_overdue"]),
                    _actions_text(p),
                )
            )
            + " |"
        )
    lines += ["", "## Flags", ""]
    for p in patients:
        lines.append(f"### {p['position']}. {p['patient']} ({p['patient_id']})")
        lines += [f"- {_flag_line(f)}" for f in p["flags"]] or ["- no flags"]
        lines.append("")
    lines += ["---", doc.footer(), ""]
    return "\n".join(lines)


def minutes_markdown(doc: Document) -> str:
    b = doc.body
    lines = [
        f"# MDT meeting minutes, {doc.day:%d %B %Y}",
        "",
        f"Attendees: {', '.join(b['attendees']) or 'not recorded'}",
        f"Agenda: {plural(b['agenda_size'], 'patient')}; discussed {len(b['patients'])}; "
        f"marked reviewed {b['reviewed']}.",
        "",
    ]
    for p in b["patients"]:
        lines.append(f"## {p['position']}. {p['patient']} ({p['patient_id']})")
        lines.append(
            f"Clinician: {p['clinician'] or 'none'} · pain {pain_text(p['baseline_nrs'], p['current_nrs'])}"
            f" · {'reviewed in this meeting' if p['reviewed_in_meeting'] else 'not marked reviewed'}"
            + (f" · {p['minutes_discussed']:g} min" if p["minutes_discussed"] else "")
        )
        lines += ["", "Flags:"] + ([f"- {_flag_line(f)}" for f in p["flags"]] or ["- none"])
        lines += ["", "Decisions:"]
        if p["notes_hidden"]:
            lines.append(f"- {hidden_notes(p['notes_hidden'])}")
        lines += [f"- {n}" for n in p["notes"]] or (
            [] if p["notes_hidden"] else ["- none recorded"]
        )
        lines += ["", "Actions:"]
        lines += [
            f"- {a['action']} — owner {a['owner']}, due {a['due_date']}, {a['status']}"
            for a in p["actions"]
        ] or ["- none"]
        lines.append("")
    if b["not_discussed"]:
        lines += ["## Not reached", ", ".join(b["not_discussed"]), ""]
    lines += ["---", doc.footer(), ""]
    return "\n".join(lines)


def _html_page(title: str, body: str, footer: str) -> str:
    """An A4 landscape page; the footer (and page numbers) sit in the page margin on every page,
    so they never cover a row."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
{report.page_css("A4 landscape", footer)}
body {{ font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10pt; color: #222; font-variant-ligatures: none; }}
h1 {{ font-size: 16pt; margin: 0 0 2mm 0; }} h2 {{ font-size: 12pt; margin: 5mm 0 1mm 0; break-after: avoid; }}
table {{ border-collapse: collapse; width: 100%; }} td, th {{ border-bottom: 1px solid #ddd; padding: 1.2mm 2mm; text-align: left; vertical-align: top; }}
th {{ background: #f3f3f3; }} td:nth-child(2) {{ white-space: nowrap; }}
.urgent {{ color: #B00020; font-weight: bold; }} .review {{ color: #8a4b00; }}
ul {{ margin: 0; padding-left: 5mm; }} section, tr {{ break-inside: avoid; }}
</style></head><body>{body}<p class="screen-footer">{html.escape(footer)}</p></body></html>
"""


def _flags_html(flags: list[dict]) -> str:
    e = html.escape
    return (
        "<ul>"
        + "".join(
            f"<li class='{e(f['level'])}'>{e(_flag_line(f, detail=False))}</li>" for f in flags
        )
        + "</ul>"
        if flags
        else "none"
    )


def agenda_html(doc: Document) -> str:
    e = html.escape
    rows = "".join(
        f"<tr><td>{p['position']}</td><td>{e(p['patient'])}<br><small>{e(p['patient_id'])}</small></td>"
        f"<td>{e(p['clinician'] or '')}</td><td>{_flags_html(p['flags'])}</td>"
        f"<td>{e(pain_text(p['baseline_nrs'], p['current_nrs']))}</td>"
        f"<td>{p['days_since_review']}<br><small>{due_text(p['days_overdue'])}</small></td><td>{_actions_text(p)}</td></tr>"
        for p in doc.body["patients"]
    )
    body = (
        f"<h1>MDT agenda, {doc.day:%d %B %Y}</h1><p>{plural(len(doc.body['patients']), 'patient')}. Order: "
        "urgent first, then the number of review-level flags, then days overdue for review.</p>"
        "<table><tr><th>#</th><th>patient</th><th>clinician</th><th>flags (level · flag: reason)</th>"
        "<th>pain baseline → now</th><th>days since review</th><th>open actions</th></tr>"
        f"{rows}</table>"
    )
    return _html_page(f"MDT agenda {doc.day}", body, doc.footer())


def minutes_html(doc: Document) -> str:
    e = html.escape
    b = doc.body
    parts = [
        f"<h1>MDT meeting minutes, {doc.day:%d %B %Y}</h1>",
        f"<p>Attendees: {e(', '.join(b['attendees']) or 'not recorded')}<br>Agenda: "
        f"{plural(b['agenda_size'], 'patient')}; discussed {len(b['patients'])}; marked reviewed {b['reviewed']}.</p>",
    ]
    for p in b["patients"]:
        notes = [e(n) for n in p["notes"]]
        if p["notes_hidden"]:
            notes.append(hidden_notes(p["notes_hidden"]))
        actions = [
            f"{e(a['action'])} — owner {e(a['owner'] or '')}, due {e(a['due_date'] or '')}, {e(a['status'])}"
            for a in p["actions"]
        ]
        parts.append(
            f"<section><h2>{p['position']}. {e(p['patient'])} ({e(p['patient_id'])})</h2>"
            f"<p>Clinician: {e(p['clinician'] or 'none')} · pain "
            f"{e(pain_text(p['baseline_nrs'], p['current_nrs']))} · "
            f"{'reviewed in this meeting' if p['reviewed_in_meeting'] else 'not marked reviewed'}"
            + (f" · {p['minutes_discussed']:g} min" if p["minutes_discussed"] else "")
            + f"</p><b>Flags</b>{_flags_html(p['flags'])}"
            f"<b>Decisions</b><ul>{''.join(f'<li>{n}</li>' for n in notes) or '<li>none recorded</li>'}</ul>"
            f"<b>Actions</b><ul>{''.join(f'<li>{a}</li>' for a in actions) or '<li>none</li>'}</ul></section>"
        )
    if b["not_discussed"]:
        parts.append(f"<h2>Not reached</h2><p>{e(', '.join(b['not_discussed']))}</p>")
    return _html_page(f"MDT minutes {doc.day}", "".join(parts), doc.footer())


def render(doc: Document, fmt: str) -> bytes:
    """The agenda (md, json, pdf) or minutes (md, pdf) as bytes."""
    formats = AGENDA_FORMATS if doc.kind == "agenda" else MINUTES_FORMATS
    if fmt not in formats:
        raise MeetingError(f"The {doc.kind} comes as {', '.join(formats)}, not {fmt!r}.")
    if fmt == "json":
        payload = {
            "as_of": doc.day.isoformat(),
            "privacy_mode": doc.privacy_mode,
            "data_version": doc.data_version,
            "synthetic_data": doc.synthetic_data,
            **doc.body,
        }
        return json.dumps(payload, indent=2, ensure_ascii=False).encode("utf-8")
    if fmt == "md":
        text = agenda_markdown(doc) if doc.kind == "agenda" else minutes_markdown(doc)
        return text.encode("utf-8")
    page = agenda_html(doc) if doc.kind == "agenda" else minutes_html(doc)
    return report.to_pdf(page)


def file_name(kind: str, day: dt.date, privacy_mode: bool, fmt: str) -> str:
    """'mdt-agenda-2026-11-20-private.md'."""
    return f"mdt-{kind}-{day.isoformat()}{'-private' if privacy_mode else ''}.{fmt}"
