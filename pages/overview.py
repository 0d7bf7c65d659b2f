"""Overview: the caseload at a glance and where to go next."""

import streamlit as st

from dashboard import components

frame = components.current_frame()
summary = components.query("caseload_summary", as_of=frame.as_of).iloc[0]
stale = components.query("patients_without_recent_data", as_of=frame.as_of)

st.title("MDT pain rehabilitation review")
st.caption(f"As of {frame.as_of:%A %d %B %Y}")

cols = st.columns(4)
cols[0].metric(
    "Active patients",
    f"{int(summary.active_patients):,}",
    help="In care on the as-of date (on hold included), as the caseload page counts them.",
)
cols[1].metric("Sessions attended, last 28 days", f"{int(summary.sessions_attended_28d):,}")
cols[2].metric("Pain ratings, last 7 days", f"{int(summary.pain_ratings_7d):,}")
cols[3].metric(
    "Active patients without recent data",
    f"{len(stale):,}",
    help="No pain rating and no session in the stale-data window (flag rules, MEASURES.md).",
)

st.subheader("What is here")
st.markdown(
    "- **Patient**: one patient's progress review on one time axis, flags with their reasons, "
    "and the printable progress report.\n"
    "- **MDT meeting**: the agenda of patients to review (flagged or due), one patient at a time "
    "on the shared screen, decisions and action items written back, and the minutes.\n"
    "- **Caseload outcomes**: KPIs for a period against the one before, breakdowns by "
    "clinician, site, condition and discipline, cohorts, the factors behind outcomes, and a "
    "drill-down to each patient.\n"
    "- **Data**: what the store holds, import batches, patients without recent data, "
    "importing files, and the data dictionary."
)
if int(summary.all_patients) == 0:
    components.empty_state("The store has no patients yet: import data on the Data page.")
elif int(summary.active_patients) == 0:
    components.empty_state(
        f"No patient was active on {frame.as_of:%d %B %Y}. The first patient started care on "
        f"{summary.first_start_date:%d %B %Y} and the latest pain rating is from "
        f"{summary.last_pain_date:%d %B %Y}: choose an as-of date in the sidebar."
    )
