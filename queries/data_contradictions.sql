-- One row per patient and kind of record dated after the patient's recorded date of death (data
-- that contradicts itself, imported as given and listed for a check): the patient, the kind of
-- record, how many, and the first and last such date against the date of death.
-- params: none
WITH after_death AS (
    SELECT patient_id, 'session' AS record, CAST(ts AS DATE) AS day FROM sessions
    UNION ALL SELECT patient_id, 'pain rating', CAST(ts AS DATE) FROM pain_ratings
    UNION ALL SELECT patient_id, 'questionnaire', date FROM assessments
    UNION ALL SELECT patient_id, 'sleep diary', date FROM sleep_diary
    UNION ALL SELECT patient_id, 'medication start', start_date FROM medications
    UNION ALL SELECT patient_id, 'home practice', date FROM home_practice
)
SELECT p.patient_id, p.name, a.record, count(*) AS records, min(a.day) AS first_date,
    max(a.day) AS last_date, p.deceased_date
FROM after_death a
JOIN patients p USING (patient_id)
WHERE p.deceased_date IS NOT NULL AND a.day > p.deceased_date
GROUP BY ALL
ORDER BY p.patient_id, a.record
