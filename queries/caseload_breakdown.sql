-- One row per group of the caseload in the period, grouped by $by (clinician, site, condition or
-- discipline), under the filters: patients, active, outcome n, meaningful and substantial pain
-- reduction (count and share), median change, GAS T >= 50 share, attendance, home-practice
-- adherence, data completeness; the largest group first.
-- params: $by, and those of caseload_patients.sql
WITH cp AS (SELECT * FROM {{ caseload_patients }} c),
grouped AS (
    SELECT *,
        CASE $by
            WHEN 'clinician' THEN coalesce(primary_clinician, 'no primary clinician')
            WHEN 'site' THEN coalesce(site, 'no site')
            WHEN 'condition' THEN condition
            WHEN 'discipline' THEN coalesce(discipline, 'no primary clinician')
        END AS grp
    FROM cp
)
SELECT
    grp AS "group",
    count(*) AS patients,
    count(*) FILTER (WHERE in_care) AS active,
    count(*) FILTER (WHERE counts_for_outcome) AS outcome_n,
    count(*) FILTER (WHERE meaningful_reduction) AS meaningful,
    round(100.0 * avg(CAST(meaningful_reduction AS INTEGER)) FILTER (WHERE counts_for_outcome), 1) AS meaningful_pct,
    round(100.0 * avg(CAST(substantial_reduction AS INTEGER)) FILTER (WHERE counts_for_outcome), 1) AS substantial_pct,
    round(median(change_pct) FILTER (WHERE counts_for_outcome), 1) AS median_change_pct,
    count(*) FILTER (WHERE in_care AND gas_t IS NOT NULL) AS gas_n,
    round(100.0 * count(*) FILTER (WHERE in_care AND gas_t >= 50)
        / nullif(count(*) FILTER (WHERE in_care AND gas_t IS NOT NULL), 0), 1) AS gas_met_pct,
    round(100.0 * sum(sessions_attended)
        / nullif(sum(sessions_attended + sessions_dna + sessions_cancelled_patient), 0), 1)
        AS attendance_pct,
    round(100.0 * sum(practice_completed_min) / nullif(sum(practice_prescribed_min), 0), 1)
        AS adherence_pct,
    round(100.0 * count(*) FILTER (WHERE in_care AND rated_last_14_days)
        / nullif(count(*) FILTER (WHERE in_care), 0), 1) AS completeness_pct
FROM grouped
GROUP BY grp
ORDER BY patients DESC, grp
