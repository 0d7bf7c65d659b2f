-- One row per graded functional task of one patient: its latest attempt in the period (level,
-- pain before and after it, micro-breaks, completed: that attempt's own values, none taken from
-- an earlier one) and its completion time against the first timed attempt's, in minutes (the
-- unit of the page's chart). The two pairs are read as one cell each, "4.1 → 4.0 min" and
-- "6.8 → 7.7", so the table fits a laptop's page beside the sidebar; a task timed once reads its
-- one time; a pain not logged reads "—" (the whole cell when neither was).
-- params: $patient_id, $start, $as_of
WITH tasks AS (
    SELECT task, any_value(domain) AS domain, max(date) AS latest_date,
        count(completion_time_s) AS timed,
        arg_min(completion_time_s, date) / 60 AS first_min,  -- the first attempt with a time
        arg_max(completion_time_s, date) / 60 AS latest_min,
        -- the latest attempt whole (two on one day: the later session id)
        arg_max({'level': level, 'pain_before': pain_before, 'pain_after': pain_after,
                 'microbreaks': microbreaks, 'completed': completed},
                {'date': date, 'session_id': session_id}) AS latest
    FROM functional_tasks
    WHERE patient_id = $patient_id AND date BETWEEN $start AND $as_of
    GROUP BY task
)
SELECT task, domain, latest_date, latest.level AS level,
    CASE WHEN timed = 1 THEN printf('%.1f min', latest_min)
         WHEN timed > 1 THEN printf('%.1f → %.1f min', first_min, latest_min) END AS time_min,
    CASE WHEN latest.pain_before IS NOT NULL OR latest.pain_after IS NOT NULL
         THEN coalesce(printf('%g', latest.pain_before), '—') || ' → '
              || coalesce(printf('%g', latest.pain_after), '—') END AS pain,
    latest.microbreaks AS microbreaks, latest.completed AS completed
FROM tasks
ORDER BY task
