-- One row per milestone of one patient: its goal, due and achieved dates, and its status on the
-- as-of date (achieved, overdue: due date passed, due: not yet due or no due date).
-- params: $patient_id, $as_of
SELECT m.milestone_id, m.description, m.goal_id, g.domain, m.due_date,
    CASE WHEN m.achieved_date <= $as_of THEN m.achieved_date END AS achieved_date,
    CASE
        WHEN m.achieved_date <= $as_of THEN 'achieved'
        WHEN m.due_date < $as_of THEN 'overdue'
        ELSE 'due'
    END AS status
FROM milestones m
LEFT JOIN goals g USING (goal_id)
WHERE m.patient_id = $patient_id
ORDER BY coalesce(m.achieved_date, m.due_date), m.milestone_id
