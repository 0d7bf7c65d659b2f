-- One row per night in one patient's sleep diary in the period: total sleep (minutes), quality
-- (0-10), awakenings from pain, and the next day's pain intensity (mean of `now` and `avg_24h`).
-- params: $patient_id, $start, $as_of
WITH next_day AS (
    SELECT CAST(ts AS DATE) - 1 AS night, avg(nrs) AS next_day_nrs
    FROM pain_ratings
    WHERE patient_id = $patient_id AND context IN ('now', 'avg_24h')
      AND CAST(ts AS DATE) BETWEEN $start + 1 AND $as_of
    GROUP BY ALL
)
SELECT s.date, s.total_sleep_min, s.time_in_bed_min, s.quality, s.awakenings_pain,
    round(n.next_day_nrs, 2) AS next_day_nrs
FROM sleep_diary s
LEFT JOIN next_day n ON n.night = s.date
WHERE s.patient_id = $patient_id AND s.date BETWEEN $start AND $as_of
ORDER BY s.date
