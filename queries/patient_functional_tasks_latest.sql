-- One row per graded functional task of one patient: its latest attempt in the period (level,
-- pain before and after it, micro-breaks, completed) and its completion time against the first
-- attempt's, in minutes (the unit of the page's chart). The two pairs are read as one cell each,
-- "4.1 → 4.0 min" and "6.8 → 7.7", so the table fits a laptop's page beside the sidebar; a task
-- tried once reads its one time, a value not logged "—" (the whole cell when neither was).
-- params: $patient_id, $start, $as_of
WITH latest AS (
    SELECT task, any_value(domain) AS domain, max(date) AS latest_date,
        count(*) AS attempts,
        arg_max(level, date) AS level,
        arg_min(completion_time_s, date) / 60 AS first_min,
        arg_max(completion_time_s, date) / 60 AS latest_min,
        arg_max(pain_before, date) AS pain_before,
        arg_max(pain_after, date) AS pain_after,
        arg_max(microbreaks, date) AS microbreaks,
        arg_max(completed, date) AS completed
    FROM functional_tasks
    WHERE patient_id = $patient_id AND date BETWEEN $start AND $as_of
    GROUP BY task
)
SELECT task, domain, latest_date, level,
    CASE WHEN first_min IS NULL AND latest_min IS NULL THEN NULL
         WHEN attempts = 1 THEN printf('%.1f min', latest_min)
         ELSE coalesce(printf('%.1f', first_min), '—') || ' → '
              || coalesce(printf('%.1f min', latest_min), '—') END AS time_min,
    CASE WHEN pain_before IS NOT NULL OR pain_after IS NOT NULL
         THEN coalesce(printf('%g', pain_before), '—') || ' → '
              || coalesce(printf('%g', pain_after), '—') END AS pain,
    microbreaks, completed
FROM latest
ORDER BY task
