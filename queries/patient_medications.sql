-- One row per medication dose period of one patient that began by the as-of date: drug, class,
-- dose, how the period began, start and stop, OME for opioids, side effects.
-- params: $patient_id, $as_of
SELECT drug, drug_class, daily_dose, unit, change, start_date, stop_date,
    stop_date IS NULL OR stop_date >= $as_of AS current, ome_mg_day, side_effects
FROM medications
WHERE patient_id = $patient_id AND start_date <= $as_of
ORDER BY current DESC, drug, start_date DESC
