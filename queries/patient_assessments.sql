-- One row per questionnaire score for one patient in the period, with the instrument's reference
-- row (name, range, direction, bands, meaningful change, source). item9 is PHQ-9's self-harm item:
-- safety-item detail, hidden in privacy mode.
-- params: $patient_id, $start, $as_of
SELECT a.date, a.instrument, a.total, a.item9, a.respondent, i.name, i.range_min, i.range_max,
    i.direction, i.bands, i.meaningful_change, i.meaningful_change_text, i.source
FROM assessments a
LEFT JOIN instruments i ON i.code = a.instrument
WHERE a.patient_id = $patient_id AND a.date BETWEEN $start AND $as_of
ORDER BY a.instrument, a.date
