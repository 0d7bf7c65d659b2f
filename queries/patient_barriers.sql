-- One row per barrier one patient has had by the as-of date, open ones first (oldest first), with
-- the owner's name and the agreed action.
-- params: $patient_id, $as_of
SELECT b.barrier_id, b.kind, b.opened, b.closed,
    b.closed IS NULL OR b.closed > $as_of AS open,
    c.name AS owner, b.action
FROM barriers b
LEFT JOIN clinicians c ON c.clinician_id = b.owner_clinician_id
WHERE b.patient_id = $patient_id AND b.opened <= $as_of
ORDER BY open DESC, b.opened, b.barrier_id
