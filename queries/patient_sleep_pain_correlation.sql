-- One row: the Spearman rank correlation between a night's sleep quality and the next day's mean
-- NRS for one patient in the period, with n (paired nights). Ties get their average rank.
-- params: $patient_id, $start, $as_of
WITH pairs AS (
    SELECT s.quality, avg(r.nrs) AS next_day_nrs
    FROM sleep_diary s
    JOIN pain_ratings r
      ON r.patient_id = s.patient_id AND CAST(r.ts AS DATE) = s.date + 1
     AND r.context IN ('now', 'avg_24h')
    WHERE s.patient_id = $patient_id AND s.quality IS NOT NULL
      AND s.date BETWEEN $start AND $as_of - 1
    GROUP BY s.date, s.quality
),
ranked AS (
    SELECT
        (rank() OVER (ORDER BY quality) + count(*) OVER () + 1 - rank() OVER (ORDER BY quality DESC)) / 2.0
            AS quality_rank,
        (rank() OVER (ORDER BY next_day_nrs) + count(*) OVER () + 1
            - rank() OVER (ORDER BY next_day_nrs DESC)) / 2.0 AS nrs_rank
    FROM pairs
)
SELECT count(*) AS n, round(corr(quality_rank, nrs_rank), 2) AS spearman_rho
FROM ranked
