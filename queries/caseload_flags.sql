-- One row per flag rule that fires in the caseload on the as-of date, under the filters: its name
-- and level, and how many patients have it; urgent first, then the most frequent.
-- params: $as_of, $sites, $clinicians, $conditions (lists, or NULL for all), $patient_ids (NULL;
--         passed to patient_flags.sql)
WITH f AS (SELECT * FROM {{ patient_flags }} pf)
SELECT f.flag, f.name, f.level, count(DISTINCT f.patient_id) AS patients
FROM f
JOIN patients p USING (patient_id)
WHERE ($sites IS NULL OR list_contains(CAST($sites AS VARCHAR[]), p.site))
  AND ($clinicians IS NULL OR list_contains(CAST($clinicians AS VARCHAR[]), p.primary_clinician_id))
  AND ($conditions IS NULL OR list_contains(CAST($conditions AS VARCHAR[]), p.condition))
GROUP BY f.flag, f.name, f.level
ORDER BY CASE f.level WHEN 'urgent' THEN 0 WHEN 'review' THEN 1 ELSE 2 END, patients DESC, f.name
