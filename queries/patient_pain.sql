-- One row per patient (in the set) with a pain rating by the as-of date: baseline NRS (mean of the
-- daily values in the first 7 days of care, else the first daily value), current NRS (mean of the
-- 7 days to the as-of date) and how many days it has, the means of the pain-flare windows (the
-- 'pain_flare' flag rule's recent and previous days), and the last day with a rating. A daily
-- value is pain_daily's: the mean of the day's `now` and `avg_24h` ratings (MEASURES.md), kept by
-- the store. Means are rounded to 0.1 before anything compares them.
-- params: $as_of, $patient_ids (a list of patient ids, or NULL for every patient)
WITH prm AS (
    SELECT
        max(CASE WHEN code = 'pain_flare' THEN CAST(params ->> 'recent_days' AS INTEGER) END) AS flare_recent,
        max(CASE WHEN code = 'pain_flare' THEN CAST(params ->> 'previous_days' AS INTEGER) END) AS flare_previous
    FROM flag_rules
)
SELECT d.patient_id,
    round(coalesce(avg(d.nrs) FILTER (WHERE d.care_day BETWEEN 0 AND 6), arg_min(d.nrs, d.day)), 1)
        AS baseline_nrs,
    round(avg(d.nrs) FILTER (WHERE d.day BETWEEN $as_of - 6 AND $as_of), 1) AS current_nrs,
    count(d.day) FILTER (WHERE d.day BETWEEN $as_of - 6 AND $as_of) AS current_days,
    round(avg(d.nrs) FILTER (
        WHERE d.day BETWEEN $as_of - (prm.flare_recent - 1) AND $as_of
    ), 1) AS flare_recent_nrs,
    round(avg(d.nrs) FILTER (
        WHERE d.day BETWEEN $as_of - (prm.flare_recent + prm.flare_previous - 1)
                        AND $as_of - prm.flare_recent
    ), 1) AS flare_previous_nrs,
    max(d.day) AS last_pain_day
FROM pain_daily d
CROSS JOIN prm
WHERE d.nrs IS NOT NULL AND d.day <= $as_of
  AND ($patient_ids IS NULL OR list_contains(CAST($patient_ids AS VARCHAR[]), d.patient_id))
GROUP BY d.patient_id
