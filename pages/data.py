"""Data: what the store holds, where it came from, what is missing, and importing more."""

import pandas as pd
import streamlit as st

from dashboard import caseload, components, importer, kept, privacy, schema, uploads

frame = components.current_frame()

st.title("Data")
st.caption("For whoever keeps the data: the store's contents, imports, and gaps.")

counts = components.query("table_row_counts")
freshness = components.query("data_freshness").iloc[0]
rows_by_table = counts.set_index("table_name").row_count
session_log_rows = counts.loc[counts.table_group == "Session logs", "row_count"].sum()
cols = st.columns(4)
cols[0].metric("Patients", f"{int(rows_by_table['patients']):,}")
cols[1].metric("Session-log rows", f"{int(session_log_rows):,}")
cols[2].metric(
    "Last import (UTC)",
    components.format_time(freshness.last_import_at, short=True),
    help=f"Data last changed {components.format_time(freshness.data_changed_at)}.",
)
cols[3].metric("Data version", f"{int(freshness.data_version)}")
kept_day = kept.day_kept(freshness)
if kept_day is not None:
    st.caption(
        f"The agenda and the caseload read answers kept for {kept_day:%d %b %Y}: the caseload's "
        f"summary and flags, its patients for the caseload's {caseload.DEFAULT_WEEKS}-week "
        "period, the period before it and the year, what each caseload tab shows when opened "
        f"(no filter, broken down by {caseload.DEFAULT_BY}), and the day's meeting agenda. "
        "Every import recomputes them, and so does the dashboard when it starts or a day passes "
        "with no import. For any other as-of date, period, filter or breakdown they compute "
        "them when asked."
    )
else:
    st.caption(
        "No summary and flags are kept for the current data: the agenda and the caseload compute "
        "them when asked."
    )

# Even halves: in two fifths, on a 1,280-px laptop with the sidebar open, the row counts were cut
# ("1,27" for 1,272).
left, right = st.columns(2)
with left:
    st.subheader("Rows per table")
    st.dataframe(
        counts.rename(columns={"table_name": "table", "table_group": "group", "row_count": "rows"}),
        hide_index=True,
        column_config={"rows": st.column_config.NumberColumn(format="localized")},
        height="content",
        key="row_counts",
    )
with right:
    st.subheader("Import batches")
    batches = components.query("import_batches_recent", limit=50)
    if batches.empty:
        components.empty_state("No imports yet.")
    else:
        st.dataframe(
            batches.rename(
                columns={
                    "finished_at": "when (UTC)",
                    "rows_accepted": "accepted",
                    "rows_rejected": "rejected",
                }
            ),
            hide_index=True,
            column_config={
                "when (UTC)": st.column_config.DatetimeColumn(format="D MMM YYYY HH:mm"),
                "accepted": st.column_config.NumberColumn(format="localized"),
                "rejected": st.column_config.NumberColumn(format="localized"),
                "file_count": st.column_config.NumberColumn("files"),
                # Twenty file names and a source's path do not fit half a screen: they are
                # listed below the table.
                "source_name": "from",
                "files": None,
                "source": None,
                "batch_id": None,
            },
            placeholder="",
            key="batches",
        )
        with st.expander("Each batch's id, source and files"):
            st.markdown(
                "\n".join(
                    f"- {b.finished_at:%-d %b %Y %H:%M} · `{b.batch_id}` · from "
                    f"{components.quoted([b.source], limit=200)} · {b.files}"
                    for b in batches.itertuples()
                )
            )
    for batch_id, reason in importer.failed_inbox_batches(frame.db_path):
        st.warning(f"Queued import {batch_id} could not be applied: {reason}")

st.subheader("Active patients without recent data")
stale = components.query("patients_without_recent_data", as_of=frame.as_of)
window = components.query("flag_rule", code="stale_data").iloc[0]
st.caption(f"Rule: {window['rule']}. Source: {window['source']}.")
if stale.empty:
    components.empty_state(
        f"Every active patient has a pain rating or session in the window ending {frame.as_of}."
    )
else:
    st.dataframe(
        privacy.mask_frame(stale.drop(columns=["window_days"]), frame.privacy_mode),
        hide_index=True,
        column_config={
            "patient_id": "id",
            "primary_clinician": "primary clinician",
            "last_pain_date": st.column_config.DateColumn("last pain rating", format="YYYY-MM-DD"),
            "last_session_date": st.column_config.DateColumn("last session", format="YYYY-MM-DD"),
            "days_without_data": st.column_config.NumberColumn("days without data"),
        },
        placeholder="—",
        key="stale",
    )

st.subheader("Records dated after a recorded death")
contradictions = components.query("data_contradictions")
st.caption(
    "Imported as given (an EHR export can contradict itself) and listed here to be checked "
    "against the record."
)
if contradictions.empty:
    components.empty_state("No record is dated after a patient's recorded date of death.")
else:
    st.dataframe(
        privacy.mask_frame(contradictions, frame.privacy_mode),
        hide_index=True,
        placeholder="—",
        column_config={
            "patient_id": "id",
            "first_date": st.column_config.DateColumn("first", format="YYYY-MM-DD"),
            "last_date": st.column_config.DateColumn("last", format="YYYY-MM-DD"),
            "deceased_date": st.column_config.DateColumn("date of death", format="YYYY-MM-DD"),
        },
        key="contradictions",
    )

st.subheader("Import data")
st.markdown(
    "Upload one CSV or Parquet file per table, named after the table (`sessions.csv`, "
    "`pain_ratings.parquet`), or FHIR R4 from the EHR: a Bundle (`.json`) or bulk-data "
    "`.ndjson` files. The data dictionary below lists the columns and the FHIR mapping. A batch "
    "is applied whole or not at all; importing the same rows again changes nothing."
)
with st.form("upload", clear_on_submit=False, border=True):
    files = st.file_uploader("Files to import", accept_multiple_files=True, key="upload_files")
    skip_invalid = st.checkbox(
        "Import the valid rows and reject the rest",
        help="Without this, one invalid row rejects the whole batch.",
    )
    submitted = st.form_submit_button("Import", type="primary")
if submitted:
    bar = st.progress(0.0, text="Starting")
    try:
        result = uploads.import_uploads(
            components.current_store(),
            files or [],
            skip_invalid=skip_invalid,
            progress=lambda fraction, text: bar.progress(min(fraction, 1.0), text=text),
        )
        st.session_state["upload_result"] = result
        st.session_state.pop("upload_failure", None)
    except importer.ImportFailed as e:
        st.session_state["upload_failure"] = str(e)
        st.session_state.pop("upload_result", None)
    bar.empty()
    st.rerun()

failure = st.session_state.get("upload_failure")
result = st.session_state.get("upload_result")
if failure:
    st.error(failure + " Nothing was imported; the store is unchanged.")
elif result is not None:
    if result.applied:
        st.success(result.summary())
    else:
        st.error(result.summary())
    for notice in result.notices:
        st.info(notice)
    if result.errors:
        shown = result.errors[: importer.SCREEN_ERRORS]
        st.markdown(
            f"**{importer.plural(len(result.errors), 'problem')}** "
            + (
                f"(the first {len(shown)} are shown; the report has all of them)"
                if len(result.errors) > len(shown)
                else ""
            )
        )
        st.dataframe(
            pd.DataFrame([vars(e) for e in shown]),
            hide_index=True,
            key="upload_errors",
        )
        st.download_button(
            "Download the full rejects report (CSV)",
            importer.report_csv(result.errors),
            file_name=f"rejects-{result.batch_id}.csv",
            mime="text/csv",
        )

with st.expander("Data dictionary"):
    st.markdown(schema.data_dictionary_markdown(top_level=4))
