"""Patient progress review: one patient's whole course of care on one time axis, and the report."""

import json

import pandas as pd
import streamlit as st

from dashboard import charts, components, meeting, privacy

frame = components.current_frame()
as_of = frame.as_of

st.title("Patient progress review")
patient_id = components.patient_picker(frame.privacy_mode)
if patient_id is None:
    components.empty_state("The store has no patients yet: import data on the Data page.")
    st.stop()
# Every answer this page shows, started at once (two at a time); each is read where it is drawn.
answers = components.Prefetch(
    summary=("patient_summary", dict(as_of=as_of, patient_ids=[patient_id])),
    flags=("patient_flags", dict(as_of=as_of, patient_ids=[patient_id])),
    instrument_reference=("instrument_reference", dict(code="NRS")),
    flag_rule=("flag_rule", dict(code="low_home_practice")),
    conditions=("patient_conditions", dict(patient_id=patient_id)),
    instrument_changes=("patient_instrument_changes", dict(patient_id=patient_id, as_of=as_of)),
    barriers=("patient_barriers", dict(patient_id=patient_id, as_of=as_of)),
    adaptations=("patient_adaptations", dict(patient_id=patient_id, as_of=as_of)),
    teach_back=("patient_teach_back", dict(patient_id=patient_id, as_of=as_of)),
    medications=("patient_medications", dict(patient_id=patient_id, as_of=as_of)),
    goal_reviews=("patient_goal_reviews", dict(patient_id=patient_id, as_of=as_of)),
    gas_t=("patient_gas_t", dict(patient_id=patient_id, as_of=as_of)),
    milestones=("patient_milestones", dict(patient_id=patient_id, as_of=as_of)),
)
summary = answers["summary"].iloc[0]
care_start = summary.start_date.date()
if care_start > as_of:
    st.warning(
        f"Care starts on {care_start:%d %B %Y}, after the as-of date {as_of:%d %B %Y}: "
        "choose a later as-of date in the sidebar."
    )
    st.stop()
start = components.period_start(care_start, as_of)
in_period = dict(patient_id=patient_id, start=start, as_of=as_of)
span = components.Prefetch(
    **{
        k: (f"patient_{k}", in_period)
        for k in (
            "pain_daily",
            "timeline_markers",
            "pain_qualities_weekly",
            "interference_weekly",
            "desensitization_weekly",
            "functional_tasks",
            "functional_tasks_latest",
            "objective_measures",
            "assessments",
            "sleep",
            "social_support",
            "home_practice_weekly",
            "attendance_weekly",
            "sleep_pain_correlation",
        )
    }
)
flags = answers["flags"]
nrs_ref = answers["instrument_reference"].iloc[0].to_dict()
rules = answers["flag_rule"].iloc[0]

# ---- Header card ------------------------------------------------------------------------------
with st.container(border=True):
    st.header(privacy.patient_display(summary["name"], patient_id, frame.privacy_mode))
    who = [summary.condition]
    if summary.condition_code:
        who[0] += f" ({summary.condition_code})"
    region = " ".join(x for x in (summary.affected_region, summary.side) if x and x != "NA")
    who += [region, summary.site]
    if not frame.privacy_mode:  # birth year and sex: off the shared screen in privacy mode
        if pd.notna(summary.birth_year):
            who.append(f"born {int(summary.birth_year)}")
        who.append({"F": "female", "M": "male", "X": "sex X"}.get(summary.sex))  # U: unknown
    st.markdown(" · ".join(x for x in who if x))
    # care that ended by the as-of date: when it ran, and no review due
    ended = (
        summary.end_of_care.date()
        if not summary.in_care and pd.notna(summary.end_of_care)
        else None
    )
    care = (
        f"in care {care_start:%d %b %Y} – {ended:%d %b %Y}"
        if ended
        else f"in care since {care_start:%d %b %Y}"
    )
    st.markdown(
        f"Primary clinician **{summary.primary_clinician or 'none'}**"
        + (
            f" ({summary.primary_clinician_discipline})"
            if summary.primary_clinician_discipline
            else ""
        )
        + f" · status **{summary.status.replace('_', ' ')}** · {care}"
    )
    cols = st.columns(3)
    cols[0].metric(
        "Weeks in care",
        f"{summary.weeks_in_care:.1f}",
        help=f"(end of care - start of care) / 7: care ended on {ended:%d %b %Y}"
        if ended
        else "(as-of date - start of care) / 7",
    )
    cols[1].metric("Review interval", f"{summary.review_interval_days} days")
    if ended:
        cols[2].metric(
            "Next review due",
            "none",
            help=f"Care ended on {ended:%d %b %Y}; last review {summary.last_review:%d %b %Y} "
            f"({summary.last_review_kind})",
        )
    else:
        overdue = summary.days_overdue
        cols[2].metric(
            "Next review due",
            f"{summary.next_review_due:%d %b %Y}",
            # "1 day overdue" in red; "due today" in grey, with no arrow
            delta=meeting.due_text(overdue) if overdue >= 0 else None,
            delta_color="inverse" if overdue > 0 else "off",
            delta_arrow="auto" if overdue > 0 else "off",
            help=f"Last review {summary.last_review:%d %b %Y} ({summary.last_review_kind}; a goal "
            "review or 'mark reviewed' in an MDT meeting counts, else the start of care)",
        )
    if not summary.in_care:
        st.caption("Not in care on the as-of date: flags are computed for patients in care.")
    conditions = answers["conditions"]
    if len(conditions) > 1:
        with st.expander(f"Recorded conditions ({len(conditions)})"):
            components.table(
                answers.ref("conditions"),
                hide_index=True,
                placeholder="—",
                column_config={
                    "onset_date": st.column_config.DateColumn("onset", format="YYYY-MM-DD"),
                    "abatement_date": st.column_config.DateColumn("abated", format="YYYY-MM-DD"),
                    "pain_relevant": st.column_config.CheckboxColumn("pain condition"),
                },
            )
    components.flag_callouts(flags, frame.privacy_mode)
    components.report_buttons(frame, patient_id, start)

# ---- Since baseline ---------------------------------------------------------------------------
st.subheader("Since baseline")
cols = st.columns(4)
cols[0].metric(
    "Baseline NRS",
    "none" if pd.isna(summary.baseline_nrs) else f"{summary.baseline_nrs:.1f}",
    help="Mean of the daily pain values in the first 7 days of care (MEASURES.md).",
)
cols[1].metric(
    "Current NRS",
    "none" if pd.isna(summary.current_nrs) else f"{summary.current_nrs:.1f}",
    **components.nrs_change(summary.change_points),
    help="Mean of the daily pain values in the 7 days to the as-of date.",
)
cols[2].metric(
    "Change from baseline",
    "n/a" if pd.isna(summary.change_pct) else f"{summary.change_pct:+.1f}%",
    help=f"{nrs_ref['meaningful_change_text']}. Source: {nrs_ref['source']}",
)
cols[3].metric(
    "Pain response",
    summary.pain_response or "n/a",  # a quarter of the width: "no current rating" was cut off
    help=f"{nrs_ref['meaningful_change_text']}. Source: {nrs_ref['source']}"
    + ("" if summary.pain_response else ". n/a: no current rating (none in the last 7 days)."),
)
if ended and ended < as_of:  # "current" counts back from the as-of date, after care ended
    note, button = st.columns([3, 1], vertical_alignment="center")
    note.caption(
        f"Care ended on {ended:%d %b %Y}, so the current NRS counts the 7 days to "
        f"{as_of:%d %b %Y}, after care. The pain at the end of care: the page as of "
        f"{ended:%d %b %Y}."
    )
    button.button(
        f"As of {ended:%d %b %Y}",
        icon=":material/event:",
        on_click=components.show_as_of,
        args=(ended,),
        help="Sets the as-of date (in the sidebar) to the day care ended.",
    )
cols = st.columns(4)
cols[0].metric(
    "Attendance",
    "n/a" if pd.isna(summary.attendance_pct) else f"{summary.attendance_pct:.0f}%",
    help=f"{summary.sessions_attended} attended of {summary.sessions_attended + summary.sessions_dna + summary.sessions_cancelled_patient} "
    "(attended + did not attend + cancelled by the patient)",
)
cols[1].metric(
    "Home practice",
    "n/a" if pd.isna(summary.adherence_pct) else f"{summary.adherence_pct:.0f}%",
    help="Completed / prescribed minutes since the start of care.",
)
goals_text = (
    f"{summary.goals_on_track} of {summary.goals_reviewed} reviewed goals on track (attainment ≥ 0)"
)
if pd.notna(summary.gas_t):
    goals_text += f"; GAS T-score {summary.gas_t:.1f} (≥ 50 = goals met as expected)"
st.markdown(goals_text if summary.goals else "No goals set.")
changes = answers["instrument_changes"]
if changes.empty:
    components.empty_state("No questionnaires scored yet.")
else:
    components.table(
        changes[
            [
                "instrument",
                "first_total",
                "latest_total",
                "latest_band",
                "change",
                "assessment_text",
                "scored",
            ]
        ],
        hide_index=True,
        width="stretch",
        placeholder="—",
        # widths that fit the longest cells (a band, an assessment with an 11-point threshold,
        # dates in two years) on a 1,280-px laptop's page with the sidebar open (789 px); the
        # sources, up to 80 characters, are below it
        column_config={
            "instrument": st.column_config.TextColumn(width=88, pinned=True),
            "first_total": st.column_config.NumberColumn("first", format="%g", width=45),
            "latest_total": st.column_config.NumberColumn("latest", format="%g", width=50),
            "latest_band": st.column_config.TextColumn(
                "latest band",
                help="The reference band the latest score falls in (shared/MEASURES.md, with its "
                "source below the table); — when it falls in none.",
                width=165,
            ),
            "change": st.column_config.NumberColumn(
                format="%+g",
                help="Latest minus first; — for a questionnaire scored once.",
                width=58,
            ),
            "assessment_text": st.column_config.TextColumn(
                "assessment",
                help="The change against the instrument's meaningful change (shared/MEASURES.md, "
                "its source below the table): (≥ 5) it changed by at least 5 points, the "
                "meaningful change of that instrument, for the better or the worse; (< 5) by less.",
                width=205,
            ),
            "scored": st.column_config.TextColumn(
                "scored, first → latest",
                help="The dates of the first and the latest score (one date when scored once).",
                width=170,
            ),
        },
    )
    st.caption(components.instrument_sources(changes))

period = f"{start:%d %b %Y} to {as_of:%d %b %Y}"
st.caption(f"Every chart below shows the period {period}.")

# ---- Pain -------------------------------------------------------------------------------------
st.subheader("Pain")
pain = span["pain_daily"]
markers = span["timeline_markers"]
if pain["nrs"].notna().any():
    st.plotly_chart(
        components.figure(
            charts.pain_trend,
            span.ref("pain_daily"),
            span.ref("timeline_markers"),
            summary.baseline_nrs,
            nrs_ref,
            start,
            as_of,
            frame.privacy_mode,
        ),
        width="stretch",
    )
    st.caption(
        f"Daily pain = mean of the day's 'now' and 24-hour-average ratings; worst pain is not "
        f"averaged in. Meaningful change: {nrs_ref['meaningful_change_text']} ({nrs_ref['source']})."
    )
    qualities = span["pain_qualities_weekly"]
    interference = span["interference_weekly"]
    if qualities.empty and interference.empty:
        components.empty_state("No pain qualities or interference recorded in this period.")
    else:
        st.plotly_chart(
            components.figure(
                charts.pain_qualities,
                span.ref("pain_qualities_weekly"),
                span.ref("interference_weekly"),
                start,
                as_of,
            ),
            width="stretch",
        )
else:
    components.empty_state("No pain ratings in this period.")

# ---- Desensitization and graded tasks ---------------------------------------------------------
st.subheader("Desensitization ladder")
ladder = span["desensitization_weekly"]
if ladder.empty:
    components.empty_state("No desensitization sessions in this period.")
else:
    st.plotly_chart(
        components.figure(
            charts.desensitization_ladder, span.ref("desensitization_weekly"), start, as_of
        ),
        width="stretch",
    )

st.subheader("Graded functional tasks")
tasks = span["functional_tasks"]
if tasks.empty:
    components.empty_state("No graded functional tasks in this period.")
else:
    st.plotly_chart(
        components.figure(charts.functional_tasks, span.ref("functional_tasks"), start, as_of),
        width="stretch",
    )
    components.table(
        span.ref("functional_tasks_latest"),
        spell=("domain",),
        hide_index=True,
        width="stretch",
        placeholder="—",
        # widths that fit a 1,280-px laptop's page with the sidebar open (789 px), so no column
        # is out of view; a wider page shares out the rest
        column_config={
            "task": st.column_config.TextColumn(width=180, pinned=True),
            "domain": st.column_config.TextColumn(width=78),
            "latest_date": st.column_config.DateColumn("latest", format="D MMM YYYY", width=90),
            "level": st.column_config.NumberColumn(width=45),
            "time_min": st.column_config.TextColumn(
                "time, first → latest",
                help="Completion time of the first timed attempt in the period and of the "
                "latest, in minutes; lower is better.",
                width=135,
            ),
            "pain": st.column_config.TextColumn(
                "pain before → after",
                help="NRS 0-10 before and after the latest attempt.",
                width=125,
            ),
            "microbreaks": st.column_config.NumberColumn(
                "breaks", help="Micro-breaks taken in the latest attempt.", width=55
            ),
            "completed": st.column_config.CheckboxColumn(
                "done", help="Whether the latest attempt was completed.", width=55
            ),
        },
    )

# ---- Objective measures -----------------------------------------------------------------------
st.subheader("Objective measures")
measures = span["objective_measures"]
if measures.empty:
    components.empty_state("No grip or range-of-motion measurements in this period.")
else:
    left, right = st.columns(2)
    with left:
        if (measures["measure"] == "grip").any():
            st.plotly_chart(
                components.figure(
                    charts.grip_strength, span.ref("objective_measures"), start, as_of
                ),
                width="stretch",
            )
        else:
            components.empty_state("No grip measurements in this period.")
    with right:
        if (measures["measure"] == "rom").any():
            st.plotly_chart(
                components.figure(
                    charts.range_of_motion, span.ref("objective_measures"), start, as_of
                ),
                width="stretch",
            )
        else:
            components.empty_state("No range-of-motion measurements in this period.")

# ---- Questionnaires ---------------------------------------------------------------------------
st.subheader("Questionnaires")
scores = span["assessments"]
if scores.empty:
    components.empty_state("No questionnaires scored in this period.")
else:
    st.plotly_chart(
        components.figure(
            charts.questionnaires, span.ref("assessments"), start, as_of, frame.privacy_mode
        ),
        width="stretch",
    )

# ---- Sleep ------------------------------------------------------------------------------------
st.subheader("Sleep")
sleep = span["sleep"]
if sleep.empty:
    components.empty_state("No sleep diary entries in this period.")
else:
    st.plotly_chart(
        components.figure(charts.sleep_and_pain, span.ref("sleep"), start, as_of), width="stretch"
    )
    corr = span["sleep_pain_correlation"].iloc[0]
    if corr.n >= 14 and pd.notna(corr.spearman_rho):
        st.markdown(
            f"**Exploratory:** Spearman correlation of a night's sleep quality with the next day's "
            f"mean pain: ρ = {corr.spearman_rho:+.2f} (n = {int(corr.n)} paired nights). An association "
            "in one patient's diary, not a cause."
        )
    else:
        st.caption(
            f"Sleep-pain correlation not shown: {int(corr.n)} paired nights (at least 14 are needed)."
        )

# ---- Social support and home practice --------------------------------------------------------
st.subheader("Social support and home practice")
support = span["social_support"]
if support.empty:
    components.empty_state("No social-support records in this period.")
else:
    latest = support.iloc[-1]

    def recorded(code: str | None) -> str:
        return code.replace("_", " ") if isinstance(code, str) and code else "not recorded"

    def scored(label: str, value: float, band: str | None) -> str:
        return (
            f", {label} {value:g}" + (f" ({band})" if isinstance(band, str) else "")
            if pd.notna(value)
            else ""
        )

    st.markdown(
        f"Latest ({latest.date:%d %b %Y}): work **{recorded(latest.work_status)}**, "
        f"workplace accommodation **{recorded(latest.accommodation)}**, caregiver "
        f"involvement **{recorded(latest.caregiver_involvement)}**"
        + scored("MSPSS", latest.mspss, latest.mspss_band)
        + scored("caregiver burden ZBI-12", latest.caregiver_burden_zbi12, latest.zbi12_band)
        + "."
    )
    st.plotly_chart(
        components.figure(
            charts.caregiver_and_peer_support, span.ref("social_support"), start, as_of
        ),
        width="stretch",
    )

barriers = answers["barriers"]
st.markdown("**Barriers** (open first)")
if barriers.empty:
    components.empty_state("No barriers recorded.")
else:
    components.table(
        barriers[["kind", "open", "opened", "closed", "owner", "action"]],
        spell=("kind",),
        hide_index=True,
        width="stretch",
        placeholder="—",
        # The action is free text: on a 1,280-px laptop's page (789 px) it ran out of view. Rows
        # taller than 4 rem let Streamlit's table wrap a cell's text, so the action reads whole
        # in up to three lines of the width the other columns leave it.
        row_height=components.WRAPPED_ROW,
        column_config={
            "kind": st.column_config.TextColumn(width=140, pinned=True),
            "open": st.column_config.CheckboxColumn(width=50),
            "opened": st.column_config.DateColumn(format="D MMM YYYY", width=90),
            "closed": st.column_config.DateColumn(format="D MMM YYYY", width=90),
            "owner": st.column_config.TextColumn(width=120),
            "action": st.column_config.TextColumn(width=295),
        },
    )

adaptations = privacy.mask_frame(answers["adaptations"], frame.privacy_mode)
st.markdown("**Environmental adaptations**")
if adaptations.empty:
    components.empty_state("No adaptations recommended.")
else:
    components.table(
        adaptations,
        spell=("setting", "kind", "effect"),
        hide_index=True,
        width="stretch",
        placeholder="—",
        # the description and the note are free text, wrapped as the barriers' action is
        row_height=components.WRAPPED_ROW,
        column_config={
            "setting": st.column_config.TextColumn(width=90, pinned=True),
            "kind": st.column_config.TextColumn(width=125),
            "description": st.column_config.TextColumn(width=170),
            "recommended_date": st.column_config.DateColumn(
                "recommended", format="D MMM YYYY", width=105
            ),
            "in_place_date": st.column_config.DateColumn("in place", format="D MMM YYYY", width=90),
            "effect": st.column_config.TextColumn(width=80),
            "note": st.column_config.TextColumn(width=125),
        },
    )

practice = span["home_practice_weekly"]
if practice.empty:
    components.empty_state("No home practice logged in this period.")
else:
    threshold = json.loads(rules.params)["adherence_below_pct"]
    st.plotly_chart(
        components.figure(
            charts.home_practice, span.ref("home_practice_weekly"), threshold, start, as_of
        ),
        width="stretch",
    )

teach_back = answers["teach_back"]
st.markdown("**Teach-back log**")
if teach_back.empty:
    components.empty_state("No education sessions recorded.")
else:
    components.table(
        answers.ref("teach_back"),
        hide_index=True,
        width="stretch",
        placeholder="—",
        column_config={
            "times_taught": st.column_config.NumberColumn("times taught"),
            "latest_date": st.column_config.DateColumn("latest", format="D MMM YYYY"),
            "latest_teach_back": "latest teach-back",
            "correct": st.column_config.NumberColumn("taught back correctly"),
            "with_caregiver": st.column_config.NumberColumn("caregiver present"),
        },
    )

# ---- Medications ------------------------------------------------------------------------------
st.subheader("Medications")
medications = answers["medications"]
if medications.empty:
    components.empty_state("No medications recorded.")
else:
    components.table(
        answers.ref("medications"),
        spell=("change",),
        hide_index=True,
        width="stretch",
        placeholder="—",
        # fits a 1,280-px laptop's page with the sidebar open for most patients; a longer drug
        # name or side effect scrolls, with the drug pinned
        column_config={
            "drug": st.column_config.TextColumn(pinned=True),
            "drug_class": "class",
            "daily_dose": "daily dose",
            "start_date": st.column_config.DateColumn("start", format="D MMM YYYY"),
            "stop_date": st.column_config.DateColumn("stop", format="D MMM YYYY"),
            "current": st.column_config.CheckboxColumn(width=62),
            "ome_mg_day": st.column_config.NumberColumn(
                "OME", help="Oral morphine equivalent, mg a day (opioids)", format="%g mg/day"
            ),
            "side_effects": "side effects",
        },
    )

# ---- Goals and milestones ---------------------------------------------------------------------
st.subheader("Goals and milestones")
reviews = answers["goal_reviews"]
gas_t = answers["gas_t"]
if reviews.empty:
    components.empty_state("No goal reviews yet.")
else:
    st.plotly_chart(
        components.figure(
            charts.goal_attainment, answers.ref("goal_reviews"), answers.ref("gas_t"), start, as_of
        ),
        width="stretch",
    )
milestones = answers["milestones"]
if milestones.empty:
    components.empty_state("No milestones set.")
else:
    st.plotly_chart(
        components.figure(charts.milestones, answers.ref("milestones"), start, as_of),
        width="stretch",
    )

# ---- Attendance -------------------------------------------------------------------------------
st.subheader("Attendance")
attendance = span["attendance_weekly"]
if attendance.empty:
    components.empty_state("No sessions in this period.")
else:
    st.plotly_chart(
        components.figure(charts.attendance, span.ref("attendance_weekly"), start, as_of),
        width="stretch",
    )
