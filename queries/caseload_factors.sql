-- One row per factor and group, among the caseload's patients in care >= 8 weeks with a baseline
-- and a current rating (associations, not causes): n, meaningful pain reduction (count, share),
-- median pain change and home-practice adherence. Factors: baseline sleep quality and its change
-- (tertiles), caregiver involvement, peer-group sessions, open barriers, work status, workplace
-- accommodation, attendance and home-practice adherence (tertiles).
-- params: as caseload_patients.sql
WITH cp AS (SELECT * FROM {{ caseload_patients }} c),
outcome AS (SELECT * FROM cp WHERE counts_for_outcome),
tertiles AS (
    SELECT 1 AS f, 'Baseline sleep quality' AS factor, patient_id, sleep_quality_baseline AS v,
        ntile(3) OVER (ORDER BY sleep_quality_baseline) AS t
    FROM outcome WHERE sleep_quality_baseline IS NOT NULL
    UNION ALL
    SELECT 2, 'Change in sleep quality', patient_id, sleep_quality_change,
        ntile(3) OVER (ORDER BY sleep_quality_change)
    FROM outcome WHERE sleep_quality_change IS NOT NULL
    UNION ALL
    SELECT 8, 'Attendance in the period', patient_id, attendance_pct,
        ntile(3) OVER (ORDER BY attendance_pct)
    FROM outcome WHERE attendance_pct IS NOT NULL
    UNION ALL
    SELECT 9, 'Home-practice adherence in the period', patient_id, adherence_pct,
        ntile(3) OVER (ORDER BY adherence_pct)
    FROM outcome WHERE adherence_pct IS NOT NULL
),
labelled AS (
    SELECT f, factor, patient_id, t AS g,
        ['lowest third', 'middle third', 'highest third'][t] || ' ('
            || CAST(round(min(v) OVER (PARTITION BY f, t), 1) AS VARCHAR) || ' to '
            || CAST(round(max(v) OVER (PARTITION BY f, t), 1) AS VARCHAR) || ')' AS grp
    FROM tertiles
    UNION ALL
    SELECT 3, 'Caregiver involvement', patient_id,
        CASE caregiver_involvement WHEN 'none' THEN 1 WHEN 'occasional' THEN 2 WHEN 'regular' THEN 3 ELSE 4 END,
        coalesce(caregiver_involvement, 'not recorded')
    FROM outcome
    UNION ALL
    SELECT 4, 'Peer-group sessions (past 4 weeks)', patient_id,
        CASE WHEN peer_group_sessions > 0 THEN 2 WHEN peer_group_sessions = 0 THEN 1 ELSE 3 END,
        CASE WHEN peer_group_sessions > 0 THEN 'one or more' WHEN peer_group_sessions = 0 THEN 'none'
             ELSE 'not recorded' END
    FROM outcome
    UNION ALL
    SELECT 5, 'Open barriers', patient_id, CASE WHEN open_barriers > 0 THEN 2 ELSE 1 END,
        CASE WHEN open_barriers > 0 THEN 'with open barriers' ELSE 'none open' END
    FROM outcome
    UNION ALL
    SELECT 6, 'Work status', patient_id, 1, coalesce(replace(work_status, '_', ' '), 'not recorded')
    FROM outcome
    UNION ALL
    SELECT 7, 'Workplace accommodation', patient_id, 1, coalesce(replace(accommodation, '_', ' '), 'not recorded')
    FROM outcome
)
SELECT
    l.f AS factor_order,
    l.factor,
    l.grp AS "group",
    min(l.g) AS group_order,
    count(*) AS n,
    count(*) FILTER (WHERE o.meaningful_reduction) AS meaningful,
    round(100.0 * avg(CAST(o.meaningful_reduction AS INTEGER)), 1) AS meaningful_pct,
    round(median(o.change_pct), 1) AS median_change_pct,
    round(100.0 * sum(o.practice_completed_min) / nullif(sum(o.practice_prescribed_min), 0), 1)
        AS adherence_pct
FROM labelled l
JOIN outcome o USING (patient_id)
GROUP BY l.f, l.factor, l.grp
ORDER BY factor_order, group_order, "group"
