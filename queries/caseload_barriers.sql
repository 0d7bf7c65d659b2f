-- One row per kind of barrier open on the as-of date among patients in care, under the filters:
-- how many are open and for how many patients; the most frequent first.
-- params: $as_of, $sites, $clinicians, $conditions (lists, or NULL for all)
SELECT b.kind, count(*) AS open_barriers, count(DISTINCT b.patient_id) AS patients
FROM barriers b
JOIN patients p USING (patient_id)
LEFT JOIN care_ends e USING (patient_id)
WHERE b.opened <= $as_of AND (b.closed IS NULL OR b.closed > $as_of)
  AND p.start_date <= $as_of AND (e.end_of_care IS NULL OR e.end_of_care > $as_of)
  AND ($sites IS NULL OR list_contains(CAST($sites AS VARCHAR[]), p.site))
  AND ($clinicians IS NULL OR list_contains(CAST($clinicians AS VARCHAR[]), p.primary_clinician_id))
  AND ($conditions IS NULL OR list_contains(CAST($conditions AS VARCHAR[]), p.condition))
GROUP BY b.kind
ORDER BY open_barriers DESC, b.kind
