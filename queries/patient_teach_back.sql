-- One row per education topic taught to one patient by the as-of date: times taught, the latest
-- teach-back result and its date, and how often a caregiver was present.
-- params: $patient_id, $as_of
SELECT topic, count(*) AS times_taught, max(date) AS latest_date,
    arg_max(teach_back, date) AS latest_teach_back,
    count(*) FILTER (WHERE teach_back = 'correct') AS correct,
    count(*) FILTER (WHERE caregiver_present) AS with_caregiver
FROM education
WHERE patient_id = $patient_id AND date <= $as_of
GROUP BY topic
ORDER BY latest_date DESC, topic
