"""Shared Streamlit pieces: the frame every page runs in (store, as-of date, privacy mode),
cached queries keyed by the data version, and small display helpers."""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

import queries
from dashboard import importer, store

INBOX_POLL_SECONDS = 2.0
PRIVACY_KEY = "privacy_mode"
AS_OF_KEY = "as_of"


@dataclass(frozen=True)
class Frame:
    """What every page needs: the store, the reference day, and whether privacy mode is on."""

    db_path: Path
    as_of: dt.date
    privacy_mode: bool


@st.cache_resource(show_spinner="Opening the store ...")
def open_store(db_path: str) -> store.Store:
    """The process's one read-write store, with a thread that applies queued imports."""
    st_ = store.open_store(db_path)
    importer.apply_inbox(st_)
    threading.Thread(target=_watch_inbox, args=(st_,), daemon=True, name="inbox").start()
    return st_


def _watch_inbox(st_: store.Store) -> None:
    inbox = store.inbox_dir(st_.path)
    while True:
        time.sleep(INBOX_POLL_SECONDS)
        try:
            if inbox.is_dir() and any(
                p.is_dir() and p.name not in ("done", "failed") and not p.name.startswith(".")
                for p in inbox.iterdir()
            ):
                importer.apply_inbox(st_)
        except Exception as e:  # keep watching; the failed batch is kept in failed/
            print(f"inbox: {e}", flush=True)


def db_path() -> Path:
    return store.resolve_db_path(None).resolve()


def current_store() -> store.Store:
    return open_store(str(db_path()))


@st.cache_data(max_entries=512, show_spinner=False)
def _cached(db: str, data_version: int, name: str, params: tuple) -> pd.DataFrame:
    cur = open_store(db).cursor()
    try:
        return queries.run(cur, name, **dict(params))
    finally:
        cur.close()


def query(name: str, **params) -> pd.DataFrame:
    """Run queries/<name>.sql; results are cached until the store's data version changes."""
    st_ = current_store()
    return _cached(str(st_.path), st_.data_version(), name, tuple(sorted(params.items())))


def default_as_of() -> dt.date:
    env = os.environ.get("MDT_AS_OF")
    if env:
        try:
            return dt.date.fromisoformat(env)
        except ValueError:
            pass
    return dt.date.today()


def frame() -> Frame:
    """Draw the sidebar (as-of date, privacy mode, freshness) and the privacy indicator.

    Both settings live in the URL (?as_of=2026-11-20&privacy_mode=true), so they survive a
    reload and travel with a shared link; Streamlit ignores a value in the URL that is not valid.
    """
    st_ = current_store()
    with st.sidebar:
        as_of = st.date_input(
            "As of",
            value=default_as_of(),
            key=AS_OF_KEY,
            bind="query-params",
            help="The reference day: every 'last 14 days' and 'current' is counted back from it.",
            format="YYYY-MM-DD",
        )
        privacy_mode = st.toggle(
            "Privacy mode",
            value=False,
            key=PRIVACY_KEY,
            bind="query-params",
            help="Hides names, birth dates, free-text notes and safety-item detail everywhere, "
            "exports included.",
        )
        _freshness(st_)
    if privacy_mode:
        st.info(
            "**Privacy mode is on**: names, birth dates, notes and safety-item detail are hidden.",
            icon=":material/visibility_off:",
        )
    return Frame(st_.path, as_of, privacy_mode)


@st.fragment(run_every=INBOX_POLL_SECONDS * 2)
def _freshness(st_: store.Store) -> None:
    """Data freshness; reruns the page when new data arrives (e.g. an import from the CLI)."""
    version = st_.data_version()
    seen = st.session_state.get("_seen_data_version")
    st.session_state["_seen_data_version"] = version
    if seen is not None and seen != version:
        st.rerun(scope="app")
    fresh = query("data_freshness").iloc[0]
    last = fresh["last_import_at"]
    st.caption(
        f"Last import: {format_time(last)}  \nData version {version} · store `{st_.path.name}`"
    )


def format_time(ts, short: bool = False) -> str:
    """'24 Nov 2026 21:54 UTC' (short, for a labelled metric: '24 Nov 21:54'); 'never'."""
    if ts is None or pd.isna(ts):
        return "never"
    if short:
        return pd.Timestamp(ts).strftime("%d %b %H:%M")
    return pd.Timestamp(ts).strftime("%d %b %Y %H:%M UTC")


def empty_state(text: str) -> None:
    """One kind line instead of an empty table or chart."""
    st.caption(text)


def current_frame() -> Frame:
    """The frame app.py drew for this script run."""
    return st.session_state["frame"]
