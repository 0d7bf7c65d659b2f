-- One row: the caseload on the as-of date (patients in care, sessions and ratings recently).
-- Active patients are those in care on the as-of date, as the caseload page counts them: care
-- started by then and not ended by then (care_ends), on hold included.
-- params: $as_of
SELECT
    count(*) FILTER (WHERE p.start_date <= $as_of
                       AND (e.end_of_care IS NULL OR e.end_of_care > $as_of)) AS active_patients,
    count(*) AS all_patients,
    count(DISTINCT p.site) AS sites,
    (SELECT count(*) FROM sessions
      WHERE status = 'attended' AND CAST(ts AS DATE) BETWEEN $as_of - 27 AND $as_of)
        AS sessions_attended_28d,
    (SELECT count(*) FROM pain_ratings
      WHERE CAST(ts AS DATE) BETWEEN $as_of - 6 AND $as_of) AS pain_ratings_7d,
    (SELECT count(*) FROM clinicians) AS clinicians,
    min(p.start_date) AS first_start_date,
    (SELECT max(CAST(ts AS DATE)) FROM pain_ratings) AS last_pain_date
FROM patients p
LEFT JOIN care_ends e USING (patient_id)
