-- One row per week (starting Monday) with interference recorded for one patient in the period:
-- the mean pain interference (0-10) of that week's ratings.
-- params: $patient_id, $start, $as_of
SELECT date_trunc('week', CAST(ts AS DATE)) AS week, round(avg(interference), 1) AS interference
FROM pain_ratings
WHERE patient_id = $patient_id AND interference IS NOT NULL
  AND CAST(ts AS DATE) BETWEEN $start AND $as_of
GROUP BY ALL
ORDER BY week
