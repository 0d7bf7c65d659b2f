"""`streamlit run` with the dashboard's own modules imported before the server starts, so the
first visit after a start does not wait for them (plotly, pandas, pyarrow, duckdb and the
dashboard's charts and queries: about half a second on a 2-core machine).

Used as `python -m dashboard.serve run dashboard/app.py --server.port ...`: the arguments are
streamlit's own."""

from __future__ import annotations

import logging
import sys


def main() -> None:
    import plotly.graph_objects as go
    import streamlit.runtime.caching.cache_data_api  # noqa: F401 - its logger, set up

    # Declaring a cache before the server exists makes Streamlit warn that it has no runtime
    # yet; the caches themselves are made on first use, in the server.
    quiet = logging.getLogger("streamlit.runtime.caching.cache_data_api")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        from dashboard import charts, components  # noqa: F401 - imported for the first visit
    finally:
        quiet.setLevel(level)
    go.Figure(go.Scatter(x=[0], y=[0])).to_json()  # plotly's validators and JSON engine

    from streamlit.web.cli import main as streamlit_main

    sys.exit(streamlit_main(prog_name="streamlit"))


if __name__ == "__main__":
    main()
