-- One row per month in which care started (cohort), for the patients of caseload_patients.sql:
-- how many started, how many are still in care, and among those in care >= 8 weeks with a baseline
-- and a current rating on the as-of date: n, meaningful pain reduction (count, share) and the
-- median change; oldest cohort first.
-- params: as caseload_patients.sql (pass a $start a year back for a year of cohorts)
WITH cp AS (SELECT * FROM {{ caseload_patients }} c)
SELECT
    CAST(date_trunc('month', start_date) AS DATE) AS cohort_month,
    count(*) AS started,
    count(*) FILTER (WHERE in_care) AS in_care,
    count(*) FILTER (WHERE counts_for_outcome) AS outcome_n,
    count(*) FILTER (WHERE meaningful_reduction) AS meaningful,
    round(100.0 * avg(CAST(meaningful_reduction AS INTEGER)) FILTER (WHERE counts_for_outcome), 1) AS meaningful_pct,
    round(median(change_pct) FILTER (WHERE counts_for_outcome), 1) AS median_change_pct
FROM cp
WHERE start_date >= $start
GROUP BY ALL
ORDER BY cohort_month
