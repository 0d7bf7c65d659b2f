-- One row per goal review of one patient by the as-of date: the goal, its domain and weight, the
-- Goal Attainment Scaling score (-2..+2) at that review.
-- params: $patient_id, $as_of
SELECT g.goal_id, g.domain, g.description, g.baseline, g.importance, g.difficulty, g.set_date,
    g.target_date, r.date, r.attainment
FROM goals g
JOIN goal_reviews r USING (goal_id)
WHERE g.patient_id = $patient_id AND r.date <= $as_of
ORDER BY g.goal_id, r.date
