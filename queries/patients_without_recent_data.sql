-- One row per patient in care on the as-of date (care_ends) and not on hold, with no pain rating
-- and no session in the stale-data window that ends on it: the patients the stale-data flag
-- fires for (window length from the flag_rules reference: stale_data.window_days).
-- params: $as_of
WITH rule AS (
    SELECT CAST(json_extract(params, '$.window_days') AS INTEGER) AS window_days
    FROM flag_rules
    WHERE code = 'stale_data'
),
last_pain AS (
    SELECT patient_id, max(CAST(ts AS DATE)) AS last_pain_date
    FROM pain_ratings
    WHERE CAST(ts AS DATE) <= $as_of
    GROUP BY patient_id
),
last_session AS (
    SELECT patient_id, max(CAST(ts AS DATE)) AS last_session_date
    FROM sessions
    WHERE CAST(ts AS DATE) <= $as_of
    GROUP BY patient_id
)
SELECT
    p.patient_id,
    p.name,
    p.site,
    c.name AS primary_clinician,
    lp.last_pain_date,
    ls.last_session_date,
    date_diff('day', greatest(lp.last_pain_date, ls.last_session_date), $as_of) AS days_without_data,
    rule.window_days
FROM patients p
CROSS JOIN rule
LEFT JOIN clinicians c ON c.clinician_id = p.primary_clinician_id
LEFT JOIN last_pain lp USING (patient_id)
LEFT JOIN last_session ls USING (patient_id)
LEFT JOIN care_ends e USING (patient_id)
WHERE p.start_date <= $as_of AND (e.end_of_care IS NULL OR e.end_of_care > $as_of)
  AND p.status <> 'on_hold'
  AND coalesce(greatest(lp.last_pain_date, ls.last_session_date), DATE '1900-01-01')
      <= $as_of - rule.window_days
ORDER BY days_without_data DESC NULLS FIRST, p.patient_id
