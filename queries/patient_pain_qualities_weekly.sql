-- One row per week (starting Monday) and pain quality for one patient in the period: how many of
-- the week's ratings named that quality.
-- params: $patient_id, $start, $as_of
SELECT date_trunc('week', CAST(ts AS DATE)) AS week, quality, count(*) AS ratings
FROM (
    SELECT ts, unnest(qualities) AS quality
    FROM pain_ratings
    WHERE patient_id = $patient_id AND CAST(ts AS DATE) BETWEEN $start AND $as_of
)
GROUP BY ALL
ORDER BY week, quality
