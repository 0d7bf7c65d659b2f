-- One row per graded functional task of one patient: its latest attempt in the period (level, time,
-- pain before and after, micro-breaks, completed) and its first time, for comparison; times in
-- minutes, the unit of the page's chart.
-- params: $patient_id, $start, $as_of
SELECT task, any_value(domain) AS domain, max(date) AS latest_date,
    arg_max(level, date) AS level,
    arg_min(completion_time_s, date) / 60 AS first_time_min,
    arg_max(completion_time_s, date) / 60 AS latest_time_min,
    arg_max(pain_before, date) AS pain_before,
    arg_max(pain_after, date) AS pain_after,
    arg_max(microbreaks, date) AS microbreaks,
    arg_max(completed, date) AS completed
FROM functional_tasks
WHERE patient_id = $patient_id AND date BETWEEN $start AND $as_of
GROUP BY task
ORDER BY task
