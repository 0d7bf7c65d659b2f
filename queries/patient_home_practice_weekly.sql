-- One row per week (starting Monday) of one patient's home practice in the period: minutes
-- prescribed and completed, adherence (completed / prescribed, where something was prescribed) and
-- the share of completed minutes done with a caregiver.
-- params: $patient_id, $start, $as_of
SELECT
    date_trunc('week', date) AS week,
    sum(prescribed_min) AS prescribed_min,
    sum(coalesce(completed_min, 0)) AS completed_min,
    round(100.0 * sum(coalesce(completed_min, 0)) FILTER (WHERE prescribed_min > 0)
        / nullif(sum(prescribed_min), 0), 1) AS adherence_pct,
    round(100.0 * sum(completed_min) FILTER (WHERE caregiver_assisted)
        / nullif(sum(completed_min), 0), 1) AS caregiver_assisted_pct
FROM home_practice
WHERE patient_id = $patient_id AND date BETWEEN $start AND $as_of
GROUP BY ALL
ORDER BY week
