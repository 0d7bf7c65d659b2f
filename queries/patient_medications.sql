-- One row per medication dose period of one patient that began by the as-of date: drug, class,
-- daily dose with its unit as one cell ("300 mg", as a prescription reads, and narrow enough for
-- a laptop's page), how the period began, start and stop, OME for opioids, side effects.
-- params: $patient_id, $as_of
SELECT drug, drug_class, rtrim(printf('%g %s', daily_dose, coalesce(unit, ''))) AS daily_dose,
    change, start_date, stop_date,
    stop_date IS NULL OR stop_date >= $as_of AS current, ome_mg_day, side_effects
FROM medications
WHERE patient_id = $patient_id AND start_date <= $as_of
ORDER BY current DESC, drug, start_date DESC
