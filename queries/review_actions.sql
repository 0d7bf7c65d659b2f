-- One row per action item agreed in an MDT meeting on or before the as-of date, for a set of
-- patients: what, owner, due date, status, whether it is overdue on the as-of date, and the
-- meeting it came from. Open ones first (overdue first), then by due date.
-- params: $as_of, $patient_ids (a list of patient ids, or NULL for every patient)
SELECT
    i.item_id,
    i.version,
    i.patient_id,
    i.meeting_id,
    m.meeting_date,
    i.action,
    i.owner_clinician_id,
    c.name AS owner,
    i.due_date,
    i.status,
    i.status = 'open' AND i.due_date < $as_of AS overdue,
    i.created_at,
    i.updated_at,
    i.updated_by
FROM review_items i
JOIN review_meetings m USING (meeting_id)
LEFT JOIN clinicians c ON c.clinician_id = i.owner_clinician_id
WHERE i.kind = 'action' AND m.meeting_date <= $as_of
  AND ($patient_ids IS NULL OR list_contains(CAST($patient_ids AS VARCHAR[]), i.patient_id))
ORDER BY i.status <> 'open', overdue DESC, i.due_date, i.created_at
