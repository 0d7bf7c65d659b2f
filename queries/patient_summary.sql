-- One row per patient in the set on the as-of date: who they are, their care episode, review
-- timing (last review = the latest goal review or MDT 'mark reviewed', else the start of care),
-- and the since-baseline summary (baseline and current NRS, change, response class by the
-- NRS reference row; attendance; home-practice adherence; goals on track; latest GAS T-score).
-- Baseline = mean of the daily values in the first 7 days of care, else the first daily value;
-- current = mean of the daily values in the 7 days to the as-of date (MEASURES.md). Means are
-- rounded to 0.1 and percents to 0.1% before they are compared with a threshold.
-- Each table is narrowed to the patients asked for where it is read (list_contains), not by a
-- join with the cohort: cheaper for one patient and for all (20,000 patients: 166 -> 150 ms).
-- params: $as_of, $patient_ids (a list of patient ids, or NULL for every patient)
WITH
nrs_ref AS (
    SELECT meaningful_change, meaningful_change_pct, substantial_change_pct
    FROM instruments WHERE code = 'NRS'
),
cohort AS (  -- with the end of care (care_ends)
    SELECT *
    FROM patients
    LEFT JOIN care_ends e USING (patient_id)
    WHERE ($patient_ids IS NULL OR list_contains(CAST($patient_ids AS VARCHAR[]), patient_id))
),
pain AS (  -- baseline and current pain of each patient (patient_pain.sql, from pain_daily)
    SELECT
        c.patient_id, d.baseline_nrs, d.current_nrs, coalesce(d.current_days, 0) AS current_days,
        d.last_pain_day AS last_pain_date
    FROM cohort c
    LEFT JOIN {{ patient_pain }} d USING (patient_id)
),
change AS (
    SELECT *,
        round(current_nrs - baseline_nrs, 1) AS change_points,
        round(100 * (current_nrs - baseline_nrs) / nullif(baseline_nrs, 0), 1) AS change_pct
    FROM pain
),
attendance AS (
    SELECT s.patient_id,
        count(*) FILTER (WHERE s.status = 'attended') AS sessions_attended,
        count(*) FILTER (WHERE s.status = 'dna') AS sessions_dna,
        count(*) FILTER (WHERE s.status = 'cancelled_patient') AS sessions_cancelled_patient,
        count(*) FILTER (WHERE s.status = 'cancelled_clinic') AS sessions_cancelled_clinic,
        max(CAST(s.ts AS DATE)) FILTER (WHERE s.status = 'attended') AS last_session_date
    FROM sessions s
    WHERE CAST(s.ts AS DATE) <= $as_of AND ($patient_ids IS NULL OR list_contains(CAST($patient_ids AS VARCHAR[]), s.patient_id))
    GROUP BY s.patient_id
),
practice AS (
    SELECT h.patient_id,
        sum(h.prescribed_min) AS practice_prescribed_min,
        sum(h.completed_min) AS practice_completed_min
    FROM practice_daily h
    WHERE h.day <= $as_of AND ($patient_ids IS NULL OR list_contains(CAST($patient_ids AS VARCHAR[]), h.patient_id))
    GROUP BY h.patient_id
),
goal_latest AS (
    SELECT g.patient_id, g.goal_id, arg_max(r.attainment, r.date) AS attainment,
        coalesce(any_value(g.importance), 1) * coalesce(any_value(g.difficulty), 1) AS w,
        max(r.date) AS reviewed
    FROM goals g
    JOIN goal_reviews r ON r.goal_id = g.goal_id AND r.date <= $as_of
    WHERE ($patient_ids IS NULL OR list_contains(CAST($patient_ids AS VARCHAR[]), g.patient_id))
    GROUP BY ALL
),
goal_status AS (
    SELECT g.patient_id,
        count(*) AS goals,
        count(gl.goal_id) AS goals_reviewed,
        count(*) FILTER (WHERE gl.attainment >= 0) AS goals_on_track,
        max(gl.reviewed) AS last_goal_review
    FROM goals g
    LEFT JOIN goal_latest gl USING (goal_id)
    WHERE g.set_date <= $as_of AND ($patient_ids IS NULL OR list_contains(CAST($patient_ids AS VARCHAR[]), g.patient_id))
    GROUP BY g.patient_id
),
meeting_review AS (  -- "mark reviewed" in an MDT meeting on or before the as-of date
    SELECT i.patient_id, max(m.meeting_date) AS last_meeting_review
    FROM review_items i
    JOIN review_meetings m USING (meeting_id)
    WHERE i.kind = 'reviewed' AND m.meeting_date <= $as_of AND ($patient_ids IS NULL OR list_contains(CAST($patient_ids AS VARCHAR[]), i.patient_id))
    GROUP BY i.patient_id
),
gas AS (  -- T-score over each goal's latest attainment (weights importance * difficulty, 1 if not given)
    SELECT patient_id,
        round(50 + 10 * sum(w * attainment) / nullif(sqrt(0.7 * sum(w * w) + 0.3 * sum(w) * sum(w)), 0), 1) AS gas_t
    FROM goal_latest GROUP BY patient_id
)
SELECT
    c.patient_id,
    c.name,
    c.birth_year,
    c.sex,
    c.condition,
    c.condition_code,
    c.affected_region,
    c.side,
    c.site,
    c.status,
    c.start_date,
    c.discharge_date,
    c.end_of_care,
    c.start_date <= $as_of AND (c.end_of_care IS NULL OR c.end_of_care > $as_of) AS in_care,
    coalesce(c.review_interval_days, 28) AS review_interval_days,
    c.primary_clinician_id,
    cl.name AS primary_clinician,
    cl.discipline AS primary_clinician_discipline,
    -- (as-of - start) / 7 (MEASURES.md); for care that ended by the as-of date, to its end
    round(date_diff('day', c.start_date, least(coalesce(c.end_of_care, $as_of), $as_of)) / 7.0, 1)
        AS weeks_in_care,
    greatest(gs.last_goal_review, mr.last_meeting_review, c.start_date) AS last_review,
    CASE greatest(gs.last_goal_review, mr.last_meeting_review, c.start_date)
        WHEN mr.last_meeting_review THEN 'MDT meeting'
        WHEN gs.last_goal_review THEN 'goal review'
        ELSE 'start of care'
    END AS last_review_kind,
    greatest(gs.last_goal_review, mr.last_meeting_review, c.start_date)
        + coalesce(c.review_interval_days, 28) AS next_review_due,
    date_diff('day', greatest(gs.last_goal_review, mr.last_meeting_review, c.start_date), $as_of)
        AS days_since_review,
    date_diff('day', greatest(gs.last_goal_review, mr.last_meeting_review, c.start_date)
        + coalesce(c.review_interval_days, 28), $as_of) AS days_overdue,
    ch.baseline_nrs,
    ch.current_nrs,
    ch.current_days,
    ch.last_pain_date,
    ch.change_points,
    ch.change_pct,
    CASE
        WHEN ch.current_nrs IS NULL OR ch.baseline_nrs IS NULL THEN NULL
        WHEN ch.change_pct <= -ref.substantial_change_pct THEN 'substantial'
        WHEN ch.change_points <= -ref.meaningful_change OR ch.change_pct <= -ref.meaningful_change_pct
            THEN 'meaningful'
        ELSE 'not yet'
    END AS pain_response,
    coalesce(a.sessions_attended, 0) AS sessions_attended,
    coalesce(a.sessions_dna, 0) AS sessions_dna,
    coalesce(a.sessions_cancelled_patient, 0) AS sessions_cancelled_patient,
    coalesce(a.sessions_cancelled_clinic, 0) AS sessions_cancelled_clinic,
    a.last_session_date,
    round(100.0 * a.sessions_attended
        / nullif(a.sessions_attended + a.sessions_dna + a.sessions_cancelled_patient, 0), 1)
        AS attendance_pct,
    pr.practice_prescribed_min,
    pr.practice_completed_min,
    round(100.0 * pr.practice_completed_min / nullif(pr.practice_prescribed_min, 0), 1)
        AS adherence_pct,
    coalesce(gs.goals, 0) AS goals,
    coalesce(gs.goals_reviewed, 0) AS goals_reviewed,
    coalesce(gs.goals_on_track, 0) AS goals_on_track,
    gas.gas_t
FROM cohort c
CROSS JOIN nrs_ref ref
LEFT JOIN clinicians cl ON cl.clinician_id = c.primary_clinician_id
LEFT JOIN change ch USING (patient_id)
LEFT JOIN attendance a USING (patient_id)
LEFT JOIN practice pr USING (patient_id)
LEFT JOIN goal_status gs USING (patient_id)
LEFT JOIN gas USING (patient_id)
LEFT JOIN meeting_review mr USING (patient_id)
ORDER BY c.patient_id
