-- One row per questionnaire a patient has scored by the as-of date: first and latest score, the
-- change, and whether it is a meaningful improvement or worsening by the instrument's reference row
-- (direction and meaningful change), with the reference's bands and source.
-- params: $patient_id, $as_of
WITH scores AS (
    SELECT instrument,
        arg_min(total, date) AS first_total, min(date) AS first_date,
        arg_max(total, date) AS latest_total, max(date) AS latest_date,
        count(*) AS scores
    FROM assessments
    WHERE patient_id = $patient_id AND date <= $as_of
    GROUP BY instrument
)
SELECT
    s.instrument,
    i.name,
    s.first_total,
    s.first_date,
    s.latest_total,
    s.latest_date,
    s.scores,
    s.latest_total - s.first_total AS change,
    i.direction,
    i.meaningful_change,
    i.range_min,
    i.range_max,
    i.bands,
    i.source,
    CASE
        WHEN s.scores < 2 THEN 'one score'
        WHEN i.meaningful_change IS NULL OR i.direction IS NULL THEN 'no reference threshold'
        WHEN (i.direction = 'higher_worse' AND s.latest_total - s.first_total <= -i.meaningful_change)
          OR (i.direction = 'higher_better' AND s.latest_total - s.first_total >= i.meaningful_change)
            THEN 'meaningful improvement'
        WHEN (i.direction = 'higher_worse' AND s.latest_total - s.first_total >= i.meaningful_change)
          OR (i.direction = 'higher_better' AND s.latest_total - s.first_total <= -i.meaningful_change)
            THEN 'meaningful worsening'
        ELSE 'no meaningful change'
    END AS assessment
FROM scores s
LEFT JOIN instruments i ON i.code = s.instrument
ORDER BY CASE s.instrument WHEN 'PSEQ' THEN 0 WHEN 'PCS' THEN 1 WHEN 'PHQ9' THEN 2 WHEN 'ISI' THEN 3
         ELSE 4 END, s.instrument
