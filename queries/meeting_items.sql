-- One row per decision note, action item and 'reviewed' mark written in one MDT meeting, oldest
-- first: the patient, the kind, the text, the action's owner, due date and status, who wrote it.
-- params: $meeting_id
SELECT
    i.item_id,
    i.version,
    i.patient_id,
    p.name,
    i.kind,
    i.note,
    i.action,
    i.owner_clinician_id,
    c.name AS owner,
    i.due_date,
    i.status,
    i.created_at,
    i.created_by
FROM review_items i
JOIN patients p USING (patient_id)
LEFT JOIN clinicians c ON c.clinician_id = i.owner_clinician_id
WHERE i.meeting_id = $meeting_id AND i.kind IN ('note', 'action', 'reviewed')
ORDER BY i.created_at, i.item_id
