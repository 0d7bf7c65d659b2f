"""Caseload outcomes: how the service is doing, where and why, for a period against the one
before, with a drill-down to the patient. Filters live in the URL so a view can be shared."""

import streamlit as st

from dashboard import caseload, charts, components

frame = components.current_frame()
as_of = frame.as_of
q = components.query

st.title("Caseload outcomes")
options = q("caseload_options")
labels = {
    (r["kind"], r["value"]): r["label"]
    for r in components.records(options, ["kind", "value", "label"])
}


def choices(kind: str) -> list[str]:
    return options[options.kind == kind]["value"].tolist()


unknown = components.not_offered(
    {
        "weeks": ("period (weeks)", caseload.PERIOD_WEEKS),
        "site": ("site", choices("site")),
        "clinician": ("primary clinician", choices("clinician")),
        "condition": ("condition", choices("condition")),
        "tab": ("tab", caseload.TABS),
        "by": ("breakdown", caseload.BREAKDOWNS),
    }
)
if unknown:
    st.warning(unknown, icon=":material/link_off:")
# The period's choices whole on a laptop's 1,280 px with the sidebar open ('26' was cut).
weeks_col, site_col, clinician_col, condition_col = st.columns([2.2, 1.8, 1.9, 2.1])
weeks = weeks_col.segmented_control(
    "Period (weeks)",
    caseload.PERIOD_WEEKS,
    default=caseload.DEFAULT_WEEKS,
    required=True,
    key="weeks",
    bind="query-params",
    help="The weeks to the as-of date (sidebar); every KPI is compared with the same number of "
    "weeks before.",
)
sites = site_col.multiselect(
    "Site", choices("site"), key="site", bind="query-params", placeholder="all sites"
)
clinicians = clinician_col.multiselect(
    "Primary clinician",
    choices("clinician"),
    format_func=lambda c: labels[("clinician", c)],
    key="clinician",
    bind="query-params",
    placeholder="all clinicians",
)
conditions = condition_col.multiselect(
    "Condition", choices("condition"), key="condition", bind="query-params",
    placeholder="all conditions",
)  # fmt: skip
period = caseload.Period(as_of, int(weeks or caseload.DEFAULT_WEEKS))
filters = caseload.Filters(
    tuple(sites) or None, tuple(clinicians) or None, tuple(conditions) or None
)
# The answers above the tabs, started at once (two at a time); each is read where it is drawn.
components.Prefetch(**caseload.opening_calls(period, filters))
st.caption(
    f"{period.describe()}, against {period.previous.describe()} · {filters.describe()} · "
    f"a share over fewer than {caseload.LOW_N} is marked low n"
)

# ---- KPIs --------------------------------------------------------------------------------------
kpis = caseload.kpis(q, period, filters)
# Counts are shown without a colour (more discharges is neither good nor bad in itself); shares
# green when they rise, except the median change (more negative = less pain) and drop-outs.
DELTA_COLOUR = {"median_change": "inverse", "dropouts": "inverse"}
for row_start in range(0, len(kpis), 4):
    for column, k in zip(st.columns(4), kpis[row_start : row_start + 4], strict=False):
        if k["value"] is None:
            value = "–"
        else:
            value = f"{k['value']:.1f}%" if k["unit"] else f"{k['value']:,}"
        delta = None
        if k["change"] == 0:
            delta = "same as previous"
        elif k["change"] is not None:
            delta = (
                f"{k['change']:+.1f} points vs previous"
                if k["unit"]
                else f"{k['change']:+,g} vs previous"
            )
        detail = k["help"]
        if "n" in k:
            detail += f"  \nn = {k['n']:,} {k['n_counts']}"
            if k.get("numerator") is not None:
                detail += f" ({k['numerator']:,} of {k['n']:,})"
            detail += f"; previous period {k['previous_n']:,}"
        column.metric(
            k["label"],
            value,
            delta=delta,
            delta_color=DELTA_COLOUR.get(k["kpi"], "normal" if k["unit"] else "off")
            if k["change"]
            else "off",
            delta_arrow="auto" if k["change"] else "off",
            help=detail,
        )
        if "n" in k:
            column.caption(
                f"n = {k['n']:,} {k['n_counts']}" + (" · **low n**" if k["low_n"] else "")
            )

patients = caseload.patients(q, period, filters)
if patients.empty:
    components.empty_state("No patient in this part of the caseload in the period.")
    st.stop()
outcome = patients[patients.counts_for_outcome]
# The per-patient charts are keyed by what selected their patients (period and filters), not by
# hashing a network's 12,000 rows on every rerun.
selected = (repr(period), repr(filters))
nrs_ref = q("instrument_reference", code="NRS").iloc[0].to_dict()


def percent(label: str, kpi: str, number_format: str = "%.1f%%"):
    """A column of one of the KPIs' shares, by group, with the KPI's definition as its help."""
    return st.column_config.NumberColumn(label, help=caseload.KPI_HELP[kpi], format=number_format)


def open_patient(patient_id: str) -> None:
    # as_of and privacy_mode are bound to the sidebar widgets, which carry them to the page.
    st.switch_page("../pages/patient.py", query_params={"patient": patient_id})


def chart_to_patient(figure, key: str) -> None:
    """A chart whose points are patients: clicking one opens that patient's review."""
    event = st.plotly_chart(
        figure, width="stretch", on_select="rerun", selection_mode="points", key=key
    )
    points = event.selection.points if event and event.selection else []
    if points:
        open_patient(points[0]["customdata"][0])


# Only the open tab runs, so the page opens on its breakdowns without computing the rest; the
# tab is in the URL, so a link opens the same one.
tabs = st.tabs(caseload.TABS, key="tab", bind="query-params")
open_tab = next((name for name, tab in zip(caseload.TABS, tabs, strict=True) if tab.open), None)
asked_by = st.session_state.get("by") or st.query_params.get("by")
components.Prefetch(
    **caseload.tab_calls(
        period,
        filters,
        open_tab or caseload.TABS[0],
        asked_by if asked_by in caseload.BREAKDOWNS else caseload.DEFAULT_BY,
    )
)

if tabs[0].open:
    with tabs[0]:
        by = st.segmented_control(
            "Break down by",
            caseload.BREAKDOWNS,
            default=caseload.DEFAULT_BY,
            required=True,
            key="by",
            bind="query-params",
        )
        groups = caseload.breakdown(q, period, filters, by)
        st.plotly_chart(
            components.figure(charts.breakdown_bars, groups, by, caseload.LOW_N), width="stretch"
        )
        st.dataframe(
            groups,
            hide_index=True,
            placeholder="—",
            width="stretch",
            column_config={
                "group": st.column_config.TextColumn(by, pinned=True),
                "meaningful": None,
                "meaningful_pct": percent("meaningful", "meaningful"),
                "substantial_pct": percent("substantial", "substantial"),
                "median_change_pct": percent("median change", "median_change", "%+.1f%%"),
                "gas_met_pct": percent("GAS T ≥ 50", "gas_met"),
                "attendance_pct": percent("attendance", "attendance"),
                "adherence_pct": percent("adherence", "adherence"),
                "completeness_pct": percent("completeness", "completeness"),
                "outcome_n": st.column_config.NumberColumn(
                    "outcome n", help="In care >= 8 weeks with a baseline and a current rating"
                ),
                "gas_n": st.column_config.NumberColumn("GAS n"),
            },
        )

if tabs[1].open:
    with tabs[1]:
        if outcome.empty:
            components.empty_state("No patient has been in care 8 weeks with a current rating.")
        else:
            chart_to_patient(
                components.figure_of(selected, charts.pain_change_distribution, outcome, nrs_ref),
                "distribution",
            )

if tabs[2].open:
    with tabs[2]:
        cohorts = caseload.cohorts(q, as_of, filters)
        if cohorts.outcome_n.sum() == 0:
            components.empty_state(
                "Outcome by month of starting care: no one who started care in the past year "
                "has been in care 8 weeks with a current rating yet."
            )
        else:
            st.plotly_chart(
                components.figure(charts.cohort_trend, cohorts, caseload.LOW_N), width="stretch"
            )
        st.plotly_chart(
            components.figure(
                charts.caseload_over_time, q("caseload_over_time", as_of=as_of, **filters.params())
            ),
            width="stretch",
        )

if tabs[3].open:
    with tabs[3]:
        st.info(
            "Associations, not causes: patients in care >= 8 weeks with a current rating, grouped "
            "by each factor; every bar says its n.",
            icon=":material/info:",
        )
        found = caseload.factors(q, period, filters)
        sections = (
        ("Sleep", ("Baseline sleep quality", "Change in sleep quality")),
        ("Social support", ("Caregiver involvement", "Peer-group sessions (past 4 weeks)",
                            "Open barriers", "Work status", "Workplace accommodation")),
        ("Engagement", ("Attendance in the period", "Home-practice adherence in the period")),
    )  # fmt: skip
        for title, names in sections:
            part = found[found.factor.isin(names)]
            if part.empty:
                continue
            st.plotly_chart(
                components.figure(charts.factor_bars, part, title, caseload.LOW_N), width="stretch"
            )
            with st.expander(f"{title}: the numbers, with home-practice adherence"):
                st.dataframe(
                    part.drop(columns=["factor_order", "group_order"]),
                    hide_index=True,
                    placeholder="—",
                    column_config={
                        "meaningful_pct": st.column_config.NumberColumn(
                            "meaningful %", format="%.1f"
                        ),
                        "median_change_pct": st.column_config.NumberColumn(
                            "median change %", format="%+.1f"
                        ),
                        "adherence_pct": st.column_config.NumberColumn(
                            "home-practice adherence %", format="%.1f"
                        ),
                    },
                )
        if charts.sleep_and_pain_changes(outcome).empty:
            components.empty_state(
                "Sleep change vs pain change: no patient in care 8 weeks with a current rating "
                "has sleep-diary nights in both their first and their last 14 days."
            )
        else:
            chart_to_patient(
                components.figure_of(selected, charts.sleep_vs_pain, outcome), "sleep_scatter"
            )

if tabs[4].open:
    with tabs[4]:
        flags_col, barriers_col = st.columns(2)
        with flags_col:
            st.subheader("Patients by flag")
            st.dataframe(
                q("caseload_flags", as_of=as_of, patient_ids=None, **filters.params()),
                hide_index=True,
                placeholder="—",
                column_config={"flag": None, "name": "flag"},
                height="content",  # a row per flag rule: every one in view, not scrolled to
            )
        with barriers_col:
            st.subheader("Open barriers by kind")
            st.dataframe(
                components.spelt(q("caseload_barriers", as_of=as_of, **filters.params()), "kind"),
                hide_index=True,
                placeholder="—",
                column_config={"open_barriers": "open barriers"},
                height="content",  # a row per kind of barrier
            )

if tabs[5].open:
    with tabs[5]:
        table = components.caseload_table(patients, period, filters, frame.privacy_mode)
        st.caption("Click a row, or its Open link, to open the patient's progress review.")
        picked = st.dataframe(
            table,
            hide_index=True,
            placeholder="—",
            width="stretch",
            on_select="rerun",
            selection_mode="single-row",
            key="patients_table",
            column_config={
                # the name stays in view while the row's 20 columns scroll past
                "patient": st.column_config.TextColumn(pinned=True),
                "open": st.column_config.LinkColumn("open", display_text="Open"),
                "patient_id": "id",
                "primary_clinician": "primary clinician",
                "start_date": st.column_config.DateColumn("start", format="D MMM YYYY"),
                "weeks_in_care": st.column_config.NumberColumn("weeks in care", format="%.1f"),
                "baseline_nrs": st.column_config.NumberColumn("baseline NRS", format="%.1f"),
                "current_nrs": st.column_config.NumberColumn("current NRS", format="%.1f"),
                "change_points": st.column_config.NumberColumn("change", format="%+.1f"),
                "change_pct": st.column_config.NumberColumn("change %", format="%+.1f"),
                "pain_response": "pain response",
                "gas_t": st.column_config.NumberColumn("GAS T", format="%.1f"),
                "attendance_pct": st.column_config.NumberColumn("attendance %", format="%.0f"),
                "adherence_pct": st.column_config.NumberColumn("home practice %", format="%.0f"),
                "rated_last_14_days": "rated in the last 14 days",
                "open_barriers": "open barriers",
                "sleep_quality_change": st.column_config.NumberColumn(
                    "sleep quality change", format="%+.1f"
                ),
                "caregiver_involvement": "caregiver involvement",
            },
        )
        if picked and picked.selection.rows:
            open_patient(table["patient_id"][picked.selection.rows[0]].as_py())

        def export() -> bytes:
            data = caseload.to_csv(caseload.patient_table(patients, frame.privacy_mode))
            components.record_caseload_export(frame, period, filters)
            return data

        st.download_button(
            "Patient table (CSV)",
            data=export,
            file_name=caseload.file_name(as_of, frame.privacy_mode),
            mime="text/csv",
            icon=":material/download:",
            on_click="ignore",
            help="Masked when privacy mode is on (aliases, no names). Written to the audit log.",
        )
