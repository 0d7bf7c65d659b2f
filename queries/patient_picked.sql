-- One row for the patient a picker shows (none when the store has no such patient): their name,
-- whether they are in care on the as-of date, their primary clinician, and their place in that
-- clinician's caseload in care on the as-of date, ordered by id: position (from 1), the
-- caseload's size, and the previous and next patient (NULL at either end, and all four NULL
-- when the patient is not in care or has no primary clinician).
-- params: $as_of, $patient_id
WITH
in_care AS (
    SELECT patient_id, p.name, p.primary_clinician_id,
        p.start_date <= $as_of AND (e.end_of_care IS NULL OR e.end_of_care > $as_of) AS in_care
    FROM patients p
    LEFT JOIN care_ends e USING (patient_id)
),
me AS (SELECT * FROM in_care WHERE patient_id = $patient_id),
caseload AS (
    SELECT i.patient_id,
        row_number() OVER w AS position,
        count(*) OVER () AS caseload_size,
        lag(i.patient_id) OVER w AS previous_id,
        lead(i.patient_id) OVER w AS next_id
    FROM in_care i
    JOIN me ON i.primary_clinician_id = me.primary_clinician_id
    WHERE i.in_care
    WINDOW w AS (ORDER BY i.patient_id)
)
SELECT me.patient_id, me.name, me.in_care, c.name AS primary_clinician,
    cl.position, cl.caseload_size, cl.previous_id, cl.next_id
FROM me
LEFT JOIN clinicians c ON c.clinician_id = me.primary_clinician_id
LEFT JOIN caseload cl ON cl.patient_id = me.patient_id
