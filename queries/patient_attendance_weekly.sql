-- One row per week (starting Monday) and session status for one patient in the period: how many
-- sessions.
-- params: $patient_id, $start, $as_of
SELECT date_trunc('week', CAST(ts AS DATE)) AS week, status, count(*) AS sessions
FROM sessions
WHERE patient_id = $patient_id AND CAST(ts AS DATE) BETWEEN $start AND $as_of
GROUP BY ALL
ORDER BY week, status
