"""Streamlit entrypoint: the shared frame, then navigation over the pages that work."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run dashboard/app.py` from any folder
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboard import components, store  # noqa: E402

PAGES = ROOT / "pages"

st.set_page_config(
    page_title="MDT pain rehabilitation review",
    page_icon=":material/monitor_heart:",
    layout="wide",
)

navigation = st.navigation(
    [
        st.Page(PAGES / "overview.py", title="Overview", icon=":material/home:", default=True),
        st.Page(
            PAGES / "patient.py", title="Patient", icon=":material/person:", url_path="patient"
        ),
        st.Page(
            PAGES / "meeting.py", title="MDT meeting", icon=":material/groups:", url_path="meeting"
        ),
        st.Page(
            PAGES / "caseload.py",
            title="Caseload outcomes",
            icon=":material/monitoring:",
            url_path="caseload",
        ),
        st.Page(PAGES / "data.py", title="Data", icon=":material/database:", url_path="data"),
    ]
)
try:
    st.session_state["frame"] = components.frame(meeting_page=navigation.url_path == "meeting")
except store.StoreError as e:
    st.error(str(e))
    st.stop()
navigation.run()
