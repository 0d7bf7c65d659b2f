-- One row per recorded condition of one patient (as imported, e.g. from FHIR): the condition in
-- words, its code and code system, onset and abatement, and whether it is a pain condition;
-- pain conditions first, then by onset.
-- params: $patient_id
SELECT display, code, system, onset_date, abatement_date, pain_relevant
FROM conditions
WHERE patient_id = $patient_id
ORDER BY pain_relevant DESC NULLS LAST, onset_date NULLS LAST, display
