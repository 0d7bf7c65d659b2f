"""MDT meeting: the agenda for the as-of date, one patient at a time on the shared screen, and the
team's decisions written back (notes, action items, 'mark reviewed'), with minutes to send."""

import datetime as dt
import time

import pandas as pd
import streamlit as st

from dashboard import charts, components, meeting, privacy
from dashboard.importer import plural

frame = components.current_frame()
as_of = frame.as_of
q = components.query
store_ = components.current_store()
actor = components.session_actor()
meeting_id = meeting.meeting_id_for(as_of)
FLASH = "_meeting_flash"

agenda = q("meeting_agenda", as_of=as_of, meeting_id=meeting_id, patient_ids=None)
details = q("review_meeting", meeting_id=meeting_id)
clinicians = q("clinicians")
started = not details.empty and details.started_at.notna().iloc[0]
planned_minutes = (
    int(details.minutes_per_patient.iloc[0])
    if not details.empty and details.minutes_per_patient.notna().iloc[0]
    else meeting.DEFAULT_MINUTES_PER_PATIENT
)
owner_names = dict(zip(clinicians.clinician_id, clinicians.name, strict=True))
ids = agenda["patient_id"].tolist()


def who(row) -> str:
    return privacy.patient_display(row["name"], row["patient_id"], frame.privacy_mode)


# ---- Actions the buttons take (run before the page redraws) ----------------------------------
def _try(write, done: str | None = None) -> None:
    try:
        write()
        st.session_state[FLASH] = ("success", done) if done else None
    except meeting.MeetingError as e:
        st.session_state[FLASH] = ("error", str(e))


def _leave_current() -> None:
    """Add the time spent on the patient being presented to the meeting's record."""
    presenting = st.session_state.pop("_presenting", None)
    if presenting:
        meeting.record_time(store_, as_of, presenting[0], time.time() - presenting[1], actor)


def go(patient_id: str | None) -> None:
    _leave_current()
    if patient_id is None:
        st.query_params.pop("patient", None)
        return
    if not started:
        meeting.start(store_, as_of, actor)
    st.query_params["patient"] = patient_id


def save_details() -> None:
    _try(
        lambda: meeting.save_details(
            store_,
            as_of,
            st.session_state["attendees"],
            st.session_state["minutes_per_patient"],
            actor,
        ),
        "Meeting details saved.",
    )


def add_by_hand() -> None:
    pid = st.session_state.get("add_patient")
    if pid:
        _try(lambda: meeting.add_patient(store_, as_of, pid, actor), f"{pid} added to the agenda.")


def add_note(pid: str) -> None:
    _try(
        lambda: meeting.add_note(store_, as_of, pid, st.session_state["note_text"], actor),
        "Decision note saved.",
    )


def add_action(pid: str) -> None:
    _try(
        lambda: meeting.add_action(
            store_,
            as_of,
            pid,
            st.session_state["action_text"],
            st.session_state["action_owner"],
            st.session_state["action_due"],
            actor,
        ),
        "Action item added.",
    )


def set_status(item_id: str, version: int, key: str) -> None:
    _try(lambda: meeting.set_action_status(store_, item_id, version, st.session_state[key], actor))


def reviewed(pid: str, on: bool) -> None:
    if on:
        _try(lambda: meeting.mark_reviewed(store_, as_of, pid, actor), "Marked reviewed.")
    else:
        _try(lambda: meeting.unmark_reviewed(store_, as_of, pid, actor), "'Reviewed' undone.")


def flash() -> None:
    message = st.session_state.pop(FLASH, None)
    if message:
        kind, text = message
        (st.success if kind == "success" else st.error)(text)


# ---- Presenter view: one patient on the shared screen ----------------------------------------
requested = st.query_params.get("patient")
if requested and requested not in ids:
    st.warning(
        f"There is no patient {components.link_patient(requested, frame.privacy_mode)} on the "
        f"agenda for {as_of:%d %b %Y}; showing the agenda."
    )
    requested = None

if requested:
    pid = requested
    position = ids.index(pid)
    row = agenda.iloc[position]
    presenting = st.session_state.get("_presenting")
    if not presenting or presenting[0] != pid:
        st.session_state["_presenting"] = (pid, time.time())
    since = st.session_state["_presenting"][1]
    # The presenter's answers, started at once (two at a time); each is read where it is drawn.
    answers = components.Prefetch(
        summary=("patient_summary", dict(as_of=as_of, patient_ids=[pid])),
        brief=("patient_brief", dict(patient_id=pid, as_of=as_of)),
        actions=("review_actions", dict(as_of=as_of, patient_ids=[pid])),
        items=("meeting_items", dict(meeting_id=meeting_id)),
        nrs_ref=("instrument_reference", dict(code="NRS")),
    )
    summary = answers["summary"].iloc[0]
    care_start = summary.start_date.date()
    course = dict(patient_id=pid, start=care_start, as_of=as_of)
    span = components.Prefetch(
        daily=("patient_pain_daily", course), markers=("patient_timeline_markers", course)
    )
    brief = answers["brief"].iloc[0]
    actions = answers["actions"]
    flags = components.flags(as_of, [pid])
    items = answers["items"]
    notes = items[(items.patient_id == pid) & (items.kind == "note")]

    components.shared_screen_style()
    with st.container(key="presenter"):
        # Wide enough for 'Previous' in the shared screen's type on a 1,280-px screen with the
        # sidebar open (it was cut to 'Pr…'); components.shared_screen_style() fits the type.
        back, prev, progress, nxt, timer = st.container(key="presenter_nav").columns(
            [1.7, 1.85, 3, 1.35, 1.45], vertical_alignment="center"
        )
        back.button("Agenda", icon=":material/list:", on_click=go, args=(None,))
        prev.button(
            "Previous",
            icon=":material/arrow_back:",
            disabled=position == 0,
            on_click=go,
            args=(ids[position - 1] if position else None,),
            width="stretch",
        )
        progress.progress((position + 1) / len(ids), text=f"**{position + 1} of {len(ids)}**")
        nxt.button(
            "Next",
            icon=":material/arrow_forward:",
            type="primary",
            disabled=position + 1 >= len(ids),
            on_click=go,
            args=(ids[position + 1] if position + 1 < len(ids) else None,),
            width="stretch",
        )
        with timer:
            components.meeting_timer(since, planned_minutes)

        st.header(who(row))
        st.markdown(
            f"{row.condition} · {row.primary_clinician or 'no primary clinician'} · "
            f"on the agenda for: **{', '.join(row.on_agenda_because)}**"
        )
        flash()
        left, right = st.columns([3, 2], gap="large")
        with left:
            pain, review, goals = st.container(key="presenter_metrics").columns(3)
            # A metric's value is a number or a word short enough for its column in the shared
            # screen's type ('none reviewed' was cut to 'none re…' even at 1,920 px); what it
            # means is said in the delta below it.
            rated = pd.notna(summary.current_nrs)
            pain.metric(
                "Pain now (NRS)",  # "(baseline)" was cut off on a 1,600-px shared screen
                f"{summary.current_nrs:.1f}" if rated else "none",
                **(
                    components.nrs_change(summary.change_points, summary.baseline_nrs)
                    if rated
                    else {
                        "delta": "no rating in 7 days",
                        "delta_color": "off",
                        "delta_arrow": "off",
                    }
                ),
                help="Mean NRS of the last 7 days; the change is from the baseline, the mean of "
                "the first 7 days of care.",
            )
            review.metric(
                "Days since review",
                f"{row.days_since_review}",
                delta=meeting.due_text(row.days_overdue),
                delta_color="inverse" if row.days_overdue >= 0 else "off",
                delta_arrow="off",
            )
            goals.metric(
                "Goals on track",
                f"{summary.goals_on_track} of {summary.goals_reviewed}"
                if summary.goals_reviewed
                else "—",
                delta=f"GAS T {summary.gas_t:.0f}"
                if pd.notna(summary.gas_t)
                else (None if summary.goals_reviewed else "none reviewed yet"),
                help=f"Reviewed goals at attainment ≥ 0, of {summary.goals} set.",
                delta_color="off",
                delta_arrow="off",
            )
            nrs_ref = answers["nrs_ref"].iloc[0].to_dict()
            st.plotly_chart(
                components.figure(
                    charts.shared_screen_pain_trend,
                    span.ref("daily"),
                    span.ref("markers"),
                    summary.baseline_nrs,
                    nrs_ref,
                    care_start,
                    as_of,
                    frame.privacy_mode,
                ),
                width="stretch",
                key="presenter_pain",
            )
            # Under the chart, not under the flags: the right column ran a third of the screen
            # below the chart and left that space empty, pushing the actions out of view.
            sleep_col, social_col = st.columns(2)
            with sleep_col:
                st.subheader("Sleep, last 14 nights")
                if brief.sleep_nights_14d:
                    st.markdown(
                        f"- quality **{brief.sleep_quality_14d:.1f}**/10"
                        + (
                            f" (before: {brief.sleep_quality_prev_14d:.1f})"
                            if pd.notna(brief.sleep_quality_prev_14d)
                            else ""
                        )
                        + f"\n- sleep **{brief.sleep_min_14d / 60:.1f} h** a night"
                        + (
                            f" (before: {brief.sleep_min_prev_14d / 60:.1f} h)"
                            if pd.notna(brief.sleep_min_prev_14d)
                            else ""
                        )
                    )
                else:
                    components.empty_state("No sleep diary in the last 14 nights.")
            with social_col:
                st.subheader("Social support")
                if pd.notna(brief.social_date):
                    lines = [
                        f"caregiver: **{brief.caregiver_involvement or 'not recorded'}**",
                        f"peer group: {plural(int(brief.peer_group_sessions), 'session')} in 4 weeks"
                        if pd.notna(brief.peer_group_sessions)
                        else None,
                        f"MSPSS {brief.mspss:.1f}"
                        + (f" ({brief.mspss_band})" if isinstance(brief.mspss_band, str) else "")
                        if pd.notna(brief.mspss)
                        else None,
                        f"work: {brief.work_status.replace('_', ' ')}"
                        if brief.work_status
                        else None,
                        f"open barriers: {brief.open_barrier_kinds.replace('_', ' ')}"
                        if brief.open_barriers
                        else None,
                    ]
                    st.markdown("\n".join(f"- {x}" for x in lines if x))
                else:
                    components.empty_state("No social-support record yet.")
        with right:
            st.subheader("Flags")
            components.flag_callouts(components.flags_frame(flags.get(pid, [])), frame.privacy_mode)
            st.subheader("Goals and milestones")
            st.markdown(
                f"- {brief.milestones_achieved} of {plural(brief.milestones, 'milestone')} achieved"
                + (
                    f"; latest {brief.last_milestone_date:%d %b}"
                    if pd.notna(brief.last_milestone_date)
                    else ""
                )
                + (
                    f"\n- next: {brief.next_milestone} ("  # the one due first: it has a due date
                    + ("**overdue**, " if brief.next_milestone_overdue else "")
                    + f"due {brief.next_milestone_due:%d %b})"
                    if brief.next_milestone
                    else ""
                )
            )
        st.subheader("Actions")
        if actions.empty:
            components.empty_state("No action items yet for this patient.")
        action_columns = ["meeting_id", "meeting_date", "action", "owner", "owner_clinician_id",
                          "due_date", "overdue", "item_id", "version", "status"]  # fmt: skip
        for a in components.records(actions, action_columns):
            what, owner, due, status = st.columns([5, 2, 1.5, 1.6], vertical_alignment="center")
            when = "this meeting" if a["meeting_id"] == meeting_id else f"{a['meeting_date']:%d %b}"
            what.markdown(f"{a['action']}  \n:gray[agreed {when}]")
            owner.markdown(a["owner"] or a["owner_clinician_id"])
            due.markdown(
                f":orange[**due {a['due_date']:%d %b}, overdue**]"
                if a["overdue"]
                else f"due {a['due_date']:%d %b}"
            )
            key = f"status_{a['item_id']}_{a['version']}"
            status.selectbox(
                "Status",
                meeting.ACTION_STATUSES,
                index=meeting.ACTION_STATUSES.index(a["status"]),
                key=key,
                on_change=set_status,
                args=(a["item_id"], a["version"], key),
                label_visibility="collapsed",
            )

        st.subheader("Decisions")
        notes_col, action_col = st.columns(2, gap="large")
        with notes_col:
            if frame.privacy_mode and not notes.empty:
                st.caption(f"Saved: {meeting.hidden_notes(len(notes))}.")
            else:
                for n in components.records(notes, ["note", "created_at"]):
                    st.markdown(f"- {n['note']}  \n  :gray[{n['created_at']:%H:%M} UTC]")
            with st.form("note", clear_on_submit=True, border=False):
                st.text_area(
                    "Decision note",
                    key="note_text",
                    height=100,
                    max_chars=meeting.MAX_TEXT,
                    help="Free text: hidden in privacy mode, on screen and in the minutes.",
                )
                st.form_submit_button("Save note", on_click=add_note, args=(pid,))
        with action_col:
            with st.form("action", clear_on_submit=True, border=False):
                st.text_input("Action item", key="action_text", max_chars=500)
                owner, due = st.columns(2)
                default_owner = (
                    list(owner_names).index(row.primary_clinician_id)
                    if row.primary_clinician_id in owner_names
                    else 0
                )
                owner.selectbox(
                    "Owner",
                    list(owner_names),
                    index=default_owner,
                    format_func=owner_names.__getitem__,
                    key="action_owner",
                )
                due.date_input(
                    "Due",
                    value=as_of + dt.timedelta(days=14),
                    min_value=as_of,
                    key="action_due",
                    format="YYYY-MM-DD",
                )
                st.form_submit_button("Add action", on_click=add_action, args=(pid,))
        if pd.notna(row.reviewed_at):
            st.success(
                f"Reviewed in this meeting: the last review date is now {as_of:%d %b %Y}.",
                icon=":material/task_alt:",
            )
            st.button("Undo 'reviewed'", on_click=reviewed, args=(pid, False))
        else:
            st.button(
                "Mark reviewed",
                type="primary",
                icon=":material/task_alt:",
                on_click=reviewed,
                args=(pid, True),
                help=f"Sets the last review date to {as_of:%d %b %Y}, so the patient leaves "
                "the 'review due' list.",
            )
    st.stop()

# ---- Agenda -----------------------------------------------------------------------------------
st.title(f"MDT meeting · {as_of:%A %d %B %Y}")
flash()
if agenda.empty:
    components.empty_state(
        "Nobody is due for review or flagged on this day. Add a patient by hand below, or pick "
        "another as-of date in the sidebar."
    )
reviewed_n = int(agenda.reviewed_at.notna().sum())
cols = st.columns(5)
cols[0].metric("On the agenda", len(agenda))
cols[1].metric("Urgent", int((agenda.urgent_flags > 0).sum()))
cols[2].metric("Review due", int(agenda.review_due.sum()))
cols[3].metric("Overdue actions", int(agenda.overdue_actions.sum()))
cols[4].metric(
    "Planned time",
    f"{len(agenda) * planned_minutes} min",
    help=f"{plural(planned_minutes, 'minute')} a patient (meeting details)",
)
if started:
    st.caption(
        f"Started {details.started_at.iloc[0]:%H:%M} UTC: the order is fixed for this meeting. "
        f"{reviewed_n} of {len(agenda)} marked reviewed."
    )
else:
    st.caption(
        "Order: urgent first, then the number of review-level flags, then days overdue for review "
        "(MEASURES.md). It is fixed when the meeting starts."
    )

# Buttons as wide as their labels (in columns, 'Continue with P0046' was cut off at 1,280 px).
buttons = st.container(horizontal=True, gap="small")
if ids:
    pending = agenda[agenda.reviewed_at.isna()].patient_id.tolist()
    buttons.button(
        "Start the meeting" if not started else "Present from the top",
        type="primary",
        icon=":material/co_present:",
        on_click=go,
        args=(ids[0],),
    )
    if started and pending:
        buttons.button(
            f"Continue with {pending[0]}",
            icon=":material/skip_next:",
            on_click=go,
            args=(pending[0],),
        )

components.agenda_style()
with st.container(key="agenda_header"):
    st.html(components.agenda_header_html())
shown = st.session_state.setdefault("agenda_rows_shown", meeting.AGENDA_PAGE)
# The flags of the rows drawn only: the agenda itself counts them.
top = agenda.iloc[:shown]
chips = components.flag_chips(as_of, top.patient_id.tolist(), frame.privacy_mode)
row_columns = ["position", "patient_id", "name", "reviewed_at", "primary_clinician", "review_due",
               "added_by_hand", "on_agenda_because", "baseline_nrs", "current_nrs",
               "days_since_review", "days_overdue", "open_actions", "overdue_actions"]  # fmt: skip
for r in components.records(top, row_columns):
    # A row is three elements (its text as one HTML grid, and its button): the agenda is drawn
    # again on every rerun, and an element a cell made it 17 a row.
    with st.container(
        border=True,
        horizontal=True,
        wrap=False,
        vertical_alignment="center",
        gap="small",
        key=f"agenda_row_{r['patient_id']}",
    ):
        st.html(
            components.agenda_row_html(
                patient=f"{r['position']} · {who(r)}",
                reviewed=pd.notna(r["reviewed_at"]),
                clinician=r["primary_clinician"],
                chips=chips.get(r["patient_id"], ""),
                because=", ".join(x for x in r["on_agenda_because"] if "flag" not in x)
                if r["review_due"] or r["added_by_hand"]
                else "",
                pain=meeting.pain_text(r["baseline_nrs"], r["current_nrs"]),
                since_review=f"{r['days_since_review']} d",
                due=meeting.due_text(r["days_overdue"]),
                open_actions=r["open_actions"],
                overdue_actions=r["overdue_actions"],
            )
        )
        st.button(
            "Present",
            key=f"present_{r['patient_id']}",
            on_click=go,
            args=(r["patient_id"],),
            width=components.AGENDA_BUTTON_PX,
        )
if len(agenda) > shown:
    st.button(
        f"Show {min(meeting.AGENDA_PAGE, len(agenda) - shown)} more ({len(agenda) - shown} not shown)",
        icon=":material/expand_more:",
        on_click=lambda: st.session_state.update(agenda_rows_shown=shown + meeting.AGENDA_PAGE),
    )

st.subheader("Before and after")
with st.expander("Meeting details: attendees, minutes per patient; agenda and minutes to send"):
    with st.form("details", border=False):
        attendees_now = [] if details.empty else list(details.attendees.iloc[0])
        st.multiselect(
            "Attendees",
            list(owner_names),
            default=[a for a in attendees_now if a in owner_names],
            format_func=owner_names.__getitem__,
            key="attendees",
        )
        st.number_input(
            "Planned minutes per patient",
            min_value=1,
            max_value=60,
            value=planned_minutes,
            key="minutes_per_patient",
        )
        st.form_submit_button("Save details", on_click=save_details)
    st.markdown("**Send the agenda ahead, or the minutes after**")
    components.meeting_downloads(frame, "agenda", meeting.AGENDA_FORMATS)
    components.meeting_downloads(frame, "minutes", meeting.MINUTES_FORMATS)

choices = components.patient_choices("add_find", frame.privacy_mode, "Find a patient to add")
on_agenda = set(ids)
labels = {i: label for i, label in choices.labels.items() if i not in on_agenda}
add, add_button = st.columns([4, 1.2], vertical_alignment="bottom")
add.selectbox(
    "Add a patient by hand",
    list(labels),
    index=None,
    placeholder="Type an alias or id" if frame.privacy_mode else "Type a name or id",
    format_func=labels.__getitem__,
    key="add_patient",
)
add_button.button("Add to agenda", icon=":material/person_add:", on_click=add_by_hand)
if choices.note:
    st.caption(choices.note)
