-- One row per graded functional task of one patient: its latest attempt in the period (level,
-- pain before and after it, micro-breaks, completed: that attempt's own values, none taken from
-- an earlier day's; two attempts of a task on one day, which the import allows, may give each
-- value from either of them) and its completion time from the first timed attempt to the latest,
-- in minutes (the unit of the page's chart). The two pairs are read as one cell each,
-- "4.1 → 4.0 min" and "6.8 → 7.7", so the table fits a laptop's page beside the sidebar; a task
-- timed once reads its one time; a pain not logged reads "—" (the whole cell when neither was).
-- arg_max_null keeps the latest attempt's NULL where arg_max skips to an earlier value. At 20,000
-- patients (300 patients, medians) the query takes 8.8-9.9 ms against arg_max's 7.2-8.3; the
-- latest row taken whole as one struct took 10.5-12.3, and ordering by (date, session_id) to
-- settle a tie 12.4.
-- params: $patient_id, $start, $as_of
SELECT task, any_value(domain) AS domain, max(date) AS latest_date,
    arg_max_null(level, date) AS level,
    CASE count(completion_time_s)
        WHEN 0 THEN NULL
        WHEN 1 THEN printf('%.1f min', max(completion_time_s) / 60)
        ELSE printf('%.1f → %.1f min',
                    arg_min(completion_time_s, date) / 60, arg_max(completion_time_s, date) / 60)
    END AS time_min,
    CASE WHEN arg_max_null(pain_before, date) IS NOT NULL OR arg_max_null(pain_after, date) IS NOT NULL
        THEN coalesce(printf('%g', arg_max_null(pain_before, date)), '—') || ' → '
            || coalesce(printf('%g', arg_max_null(pain_after, date)), '—')
    END AS pain,
    arg_max_null(microbreaks, date) AS microbreaks,
    arg_max_null(completed, date) AS completed
FROM functional_tasks
WHERE patient_id = $patient_id AND date BETWEEN $start AND $as_of
GROUP BY task
ORDER BY task
