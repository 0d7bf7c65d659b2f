-- One row per marker on the pain chart for one patient in the period: session days (with status),
-- medication changes (start / increase / decrease / stop) and events (flares, procedures ...).
-- `detail` is free text (event notes), hidden in privacy mode.
-- params: $patient_id, $start, $as_of
SELECT CAST(ts AS DATE) AS day, 'session' AS kind, status AS label, NULL AS detail
FROM sessions
WHERE patient_id = $patient_id AND CAST(ts AS DATE) BETWEEN $start AND $as_of
UNION ALL
SELECT start_date, 'medication',
    printf('%s %s%s', drug, coalesce(change, 'start'),
           CASE WHEN daily_dose IS NOT NULL THEN printf(' to %g %s/day', daily_dose, coalesce(unit, '')) ELSE '' END),
    NULL
FROM medications
WHERE patient_id = $patient_id AND start_date BETWEEN $start AND $as_of
  AND coalesce(change, 'start') <> 'no_change'
UNION ALL
SELECT m.stop_date, 'medication', printf('%s stop', m.drug), NULL
FROM medications m
WHERE m.patient_id = $patient_id AND m.stop_date BETWEEN $start AND $as_of
  AND NOT EXISTS (SELECT 1 FROM medications n
                  WHERE n.patient_id = m.patient_id AND n.drug = m.drug
                    AND n.start_date BETWEEN m.stop_date AND m.stop_date + 1
                    AND n.start_date > m.start_date)
UNION ALL
SELECT CAST(ts AS DATE), 'event', kind, text
FROM events
WHERE patient_id = $patient_id AND CAST(ts AS DATE) BETWEEN $start AND $as_of
ORDER BY day, kind, label
