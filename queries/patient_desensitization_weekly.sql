-- One row per week (starting Monday) and modality for one patient in the period: the highest
-- ladder level tolerated, the highest tried, mean distress, the largest allodynia area recorded,
-- and whether the tolerated level fell below the week before (a setback).
-- params: $patient_id, $start, $as_of
WITH weekly AS (
    SELECT
        date_trunc('week', date) AS week,
        modality,
        max(level) FILTER (WHERE coalesce(tolerated, false)) AS tolerated_level,
        max(level) AS highest_tried,
        round(avg(distress), 1) AS mean_distress,
        max(allodynia_area_cm2) AS allodynia_area_cm2
    FROM desensitization
    WHERE patient_id = $patient_id AND date BETWEEN $start AND $as_of
    GROUP BY ALL
)
SELECT *,
    coalesce(tolerated_level < lag(tolerated_level) OVER (PARTITION BY modality ORDER BY week), false)
        AS setback
FROM weekly
ORDER BY modality, week
