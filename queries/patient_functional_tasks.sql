-- One row per graded functional task attempt for one patient in the period: level, completion time
-- (seconds, lower is better), pain before and after, micro-breaks, whether completed.
-- params: $patient_id, $start, $as_of
SELECT date, task, domain, level, completion_time_s, reps, microbreaks, pain_before, pain_after,
    completed
FROM functional_tasks
WHERE patient_id = $patient_id AND date BETWEEN $start AND $as_of
ORDER BY task, date
