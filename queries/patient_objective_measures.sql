-- One row per objective measurement for one patient in the period: grip / pinch (kg) by side with
-- affected or not, and range of motion (degrees) by joint and movement.
-- params: $patient_id, $start, $as_of
SELECT date, measure, side, joint, movement, value, unit, affected
FROM objective_measures
WHERE patient_id = $patient_id AND date BETWEEN $start AND $as_of
ORDER BY measure, joint, movement, side, date
