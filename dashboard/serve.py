"""`streamlit run` with the dashboard's own modules imported before the server starts, so the
first visit after a start does not wait for them (plotly, pandas, pyarrow, duckdb and the
dashboard's charts and queries: about half a second on a 2-core machine), and the store's kept
answers made to stand for the day it opens on (keep_today).

Used as `python -m dashboard.serve run dashboard/app.py --server.port ...`: the arguments are
streamlit's own."""

from __future__ import annotations

import logging
import sys
import time


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
    keep_today()

    from streamlit.web.cli import main as streamlit_main

    sys.exit(streamlit_main(prog_name="streamlit"))


def keep_today() -> None:
    """The store's kept answers made to stand for the day the dashboard opens on, before the
    server starts (kept.keep_day), so the first visit reads them even when the last import was
    on another day. A store that cannot be opened is left for the dashboard to explain."""
    import duckdb

    from dashboard import kept, store

    db = store.resolve_db_path(None)
    if not db.exists():
        return
    day = kept.default_as_of()
    try:
        st_ = store.open_store(db, create=False)
    except (store.StoreError, duckdb.Error):
        return
    try:
        started = time.perf_counter()
        if kept.keep_day(st_, day):
            print(
                f"Kept the agenda's and the caseload's answers for {day:%d %b %Y} "
                f"({time.perf_counter() - started:.1f} s)",
                flush=True,
            )
    except duckdb.Error as e:  # the pages compute them instead
        print(f"The answers for {day:%d %b %Y} were not kept: {e}", flush=True)
    finally:
        st_.close()


if __name__ == "__main__":
    main()
