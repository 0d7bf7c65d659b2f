-- One row: the caseload on the as-of date (patients by status, sessions and ratings recently).
-- params: $as_of
SELECT
    count(*) FILTER (WHERE status = 'active' AND start_date <= $as_of) AS active_patients,
    count(*) AS all_patients,
    count(DISTINCT site) AS sites,
    (SELECT count(*) FROM sessions
      WHERE status = 'attended' AND CAST(ts AS DATE) BETWEEN $as_of - 27 AND $as_of)
        AS sessions_attended_28d,
    (SELECT count(*) FROM pain_ratings
      WHERE CAST(ts AS DATE) BETWEEN $as_of - 6 AND $as_of) AS pain_ratings_7d,
    (SELECT count(*) FROM clinicians) AS clinicians,
    min(start_date) AS first_start_date,
    (SELECT max(CAST(ts AS DATE)) FROM pain_ratings) AS last_pain_date
FROM patients
