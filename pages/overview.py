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
# Each page a link, with what it is for: the names read as links, so they are.
WHAT_IT_IS_FOR = {
    "patient": "One patient's progress review on one time axis, flags with their reasons, and "
    "the printable progress report.",
    "meeting": "The agenda of patients to review (flagged or due), one patient at a time on the "
    "shared screen, decisions and action items written back, and the minutes.",
    "caseload": "KPIs for a period against the one before, breakdowns by clinician, site, "
    "condition and discipline, cohorts, the factors behind outcomes, and a drill-down to each "
    "patient.",
    "data": "What the store holds, import batches, patients without recent data, importing "
    "files, and the data dictionary.",
}
guide = [page for page in components.PAGES if page.url_path in WHAT_IT_IS_FOR]
for row in (guide[:2], guide[2:]):
    for column, page in zip(st.columns(2), row, strict=True):
        with column.container(border=True, height="stretch"):
            st.page_link(f"../pages/{page.script}", label=f"**{page.title}**", icon=page.icon)
            st.write(WHAT_IT_IS_FOR[page.url_path])
            if page.url_path == "meeting":
                st.markdown(components.agenda_at_a_glance(frame.as_of))
if int(summary.all_patients) == 0:
    components.empty_state("The store has no patients yet: import data on the Data page.")
elif int(summary.active_patients) == 0:
    components.empty_state(
        f"No patient was active on {frame.as_of:%d %B %Y}. The first patient started care on "
        f"{summary.first_start_date:%d %B %Y} and the latest pain rating is from "
        f"{summary.last_pain_date:%d %B %Y}: choose an as-of date in the sidebar."
    )
