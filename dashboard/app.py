"""Streamlit entrypoint: the shared frame, then navigation over the pages that work."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run dashboard/app.py` from any folder
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboard import components, store  # noqa: E402

PAGES_DIR = ROOT / "pages"

st.set_page_config(
    page_title="MDT pain rehabilitation review",
    page_icon=":material/monitor_heart:",
    layout="wide",
)

navigation = st.navigation(
    [
        st.Page(
            PAGES_DIR / page.script,
            title=page.title,
            icon=page.icon,
            url_path=page.url_path or None,
            default=not page.url_path,
        )
        for page in components.PAGES
    ]
)
try:
    st.session_state["frame"] = components.frame(meeting_page=navigation.url_path == "meeting")
except store.StoreError as e:
    st.error(str(e))
    st.stop()
navigation.run()
