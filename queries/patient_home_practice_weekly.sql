-- One row per week (starting Monday) of one patient's home practice in the period: minutes
-- prescribed and completed, adherence (completed / prescribed, where something was prescribed) and
-- the share of completed minutes done with a caregiver (of all completed minutes, in a week that
-- records whether any were).
-- params: $patient_id, $start, $as_of
SELECT
    date_trunc('week', date) AS week,
    sum(prescribed_min) AS prescribed_min,
    sum(coalesce(completed_min, 0)) AS completed_min,
    round(100.0 * sum(coalesce(completed_min, 0)) FILTER (WHERE prescribed_min > 0)
        / nullif(sum(prescribed_min), 0), 1) AS adherence_pct,
    -- 0 when the week records no minutes with a caregiver, none when it records nothing either way
    CASE WHEN count(caregiver_assisted) > 0 THEN
        round(100.0 * coalesce(sum(completed_min) FILTER (WHERE caregiver_assisted), 0)
            / nullif(sum(completed_min), 0), 1)
    END AS caregiver_assisted_pct
FROM home_practice
WHERE patient_id = $patient_id AND date BETWEEN $start AND $as_of
GROUP BY ALL
ORDER BY week
