-- One row per day with a pain rating for one patient in the period: the day's pain intensity (mean
-- of its `now` and `avg_24h` ratings, MEASURES.md), its 7-day rolling mean (the 7 calendar days
-- ending that day, counting the days before the period too), the worst rating, mean interference.
-- params: $patient_id, $start, $as_of
WITH daily AS (
    SELECT
        CAST(ts AS DATE) AS day,
        avg(nrs) FILTER (WHERE context IN ('now', 'avg_24h')) AS nrs,
        max(nrs) FILTER (WHERE context = 'worst_24h') AS worst_nrs,
        avg(interference) AS interference
    FROM pain_ratings
    WHERE patient_id = $patient_id AND CAST(ts AS DATE) BETWEEN $start - 6 AND $as_of
    GROUP BY ALL
)
SELECT *
FROM (
    SELECT day, round(nrs, 2) AS nrs,
        round(avg(nrs) OVER (ORDER BY day RANGE BETWEEN INTERVAL 6 DAYS PRECEDING AND CURRENT ROW), 2)
            AS nrs_7d_mean,
        worst_nrs, round(interference, 1) AS interference
    FROM daily
)
WHERE day >= $start
ORDER BY day
