-- One row per goal-review date of one patient by the as-of date: the GAS T-score over the goals
-- reviewed by then, each at its latest attainment; weight = importance * difficulty (each 1 when
-- not given): T = 50 + 10*sum(w*x) / sqrt(0.7*sum(w^2) + 0.3*(sum w)^2) (MEASURES.md).
-- params: $patient_id, $as_of
WITH review_dates AS (
    SELECT DISTINCT r.date
    FROM goal_reviews r JOIN goals g USING (goal_id)
    WHERE g.patient_id = $patient_id AND r.date <= $as_of
),
points AS (
    SELECT d.date AS review_date, g.goal_id, arg_max(r.attainment, r.date) AS attainment,
        coalesce(any_value(g.importance), 1) * coalesce(any_value(g.difficulty), 1) AS w
    FROM review_dates d
    JOIN goals g ON g.patient_id = $patient_id
    JOIN goal_reviews r ON r.goal_id = g.goal_id AND r.date <= d.date
    GROUP BY ALL
)
SELECT review_date, count(*) AS goals,
    round(50 + 10 * sum(w * attainment) / nullif(sqrt(0.7 * sum(w * w) + 0.3 * sum(w) * sum(w)), 0), 1)
        AS gas_t
FROM points
GROUP BY review_date
ORDER BY review_date
