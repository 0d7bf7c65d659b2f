-- One row per filter value a caseload view can take: kind (site, clinician, condition), value
-- (the id for a clinician) and label; by kind, then label.
-- params: none
SELECT DISTINCT 'site' AS kind, site AS value, site AS label FROM patients WHERE site IS NOT NULL
UNION ALL
SELECT 'clinician', clinician_id, name || ' (' || discipline || ')' FROM clinicians
UNION ALL
SELECT DISTINCT 'condition', condition, condition FROM patients
ORDER BY kind, label
