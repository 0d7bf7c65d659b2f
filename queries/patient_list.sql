-- One row per patient, for the patient picker: id, name, status and primary clinician, and whether
-- they are in care on the as-of date; in care first, then by id.
-- params: $as_of
SELECT
    p.patient_id,
    p.name,
    p.status,
    p.primary_clinician_id,
    c.name AS primary_clinician,
    p.start_date,
    p.start_date <= $as_of AND coalesce(p.discharge_date > $as_of, p.status IN ('active', 'on_hold'))
        AS in_care
FROM patients p
LEFT JOIN clinicians c ON c.clinician_id = p.primary_clinician_id
ORDER BY in_care DESC, p.patient_id
