-- One row per patient in the caseload during the period ($start .. $as_of: started by the as-of
-- date and whose care had not ended before the period began; the end of care is care_ends': the
-- discharge date, else for a discharge or drop-out without one the last attended session or
-- pain rating, whenever it was), narrowed by the filters: who, where, with
-- whom, the since-baseline pain summary of patient_summary.sql (response class from the NRS
-- reference row), whether they count for outcomes (in care on the as-of date with >= 8 weeks in
-- care, MEASURES.md), the latest GAS T-score, attendance and home-practice adherence in the
-- period, a pain rating in the last 14 days, open barriers, sleep quality in the first and the
-- last 14 days, and the latest social-support record.
-- Sleep quality (a decimal) is averaged as DECIMAL, exactly: its mean, and the 0.1 it is rounded
-- to, do not depend on the order DuckDB adds the nights in (as a double they did, at x.x5).
-- The period's sessions, practice, ratings, barriers and social support are aggregated for every
-- patient and joined to the members at the end (the LEFT JOINs keep members only): a semi join
-- with the members first cost more than it saved (20,000 patients: 92 -> 82 ms whole, 71 -> 64
-- for one site, 54 -> 51 for one clinician; same rows).
-- params: $as_of, $start, $sites, $clinicians, $conditions (lists, or NULL for all),
--         $patient_ids (NULL; passed to patient_summary.sql)
WITH
summary AS (SELECT * FROM {{ patient_summary }} ps),
members AS (  -- the end of care is the summary's (care_ends)
    SELECT *, s.discharge_date AS discharged_on
    FROM summary s
    WHERE s.start_date <= $as_of AND (s.end_of_care IS NULL OR s.end_of_care >= $start)
      AND ($sites IS NULL OR list_contains(CAST($sites AS VARCHAR[]), s.site))
      AND ($clinicians IS NULL OR list_contains(CAST($clinicians AS VARCHAR[]), s.primary_clinician_id))
      AND ($conditions IS NULL OR list_contains(CAST($conditions AS VARCHAR[]), s.condition))
),
period_sessions AS (
    SELECT x.patient_id,
        count(*) FILTER (WHERE x.status = 'attended') AS attended,
        count(*) FILTER (WHERE x.status = 'dna') AS dna,
        count(*) FILTER (WHERE x.status = 'cancelled_patient') AS cancelled_patient
    FROM sessions x
    WHERE CAST(x.ts AS DATE) BETWEEN $start AND $as_of
    GROUP BY x.patient_id
),
period_practice AS (
    SELECT h.patient_id, sum(h.prescribed_min) AS prescribed_min,
        sum(h.completed_min) AS completed_min
    FROM practice_daily h
    WHERE h.day BETWEEN $start AND $as_of
    GROUP BY h.patient_id
),
recent_rating AS (
    SELECT DISTINCT r.patient_id
    FROM pain_daily r  -- any rating that day, whatever its context
    WHERE r.day BETWEEN $as_of - 13 AND $as_of
),
open_barriers AS (
    SELECT b.patient_id, count(*) AS open_barriers
    FROM barriers b
    WHERE b.opened <= $as_of AND (b.closed IS NULL OR b.closed > $as_of)
    GROUP BY b.patient_id
),
sleep AS (
    SELECT d.patient_id,
        round(avg(CAST(d.quality AS DECIMAL(18, 6))) FILTER (WHERE d.date BETWEEN m.start_date AND m.start_date + 13), 1)
            AS sleep_quality_baseline,
        round(avg(CAST(d.quality AS DECIMAL(18, 6))) FILTER (WHERE d.date BETWEEN $as_of - 13 AND $as_of), 1)
            AS sleep_quality_recent
    FROM sleep_diary d
    JOIN members m USING (patient_id)
    WHERE d.date <= $as_of
    GROUP BY d.patient_id
),
social AS (
    SELECT s.patient_id,
        arg_max(s.caregiver_involvement, s.date) AS caregiver_involvement,
        arg_max(s.peer_group_sessions, s.date) AS peer_group_sessions,
        arg_max(s.work_status, s.date) AS work_status,
        arg_max(s.accommodation, s.date) AS accommodation
    FROM social_support s
    WHERE s.date <= $as_of
    GROUP BY s.patient_id
)
SELECT
    m.patient_id,
    m.name,
    m.site,
    m.condition,
    m.primary_clinician_id,
    m.primary_clinician,
    m.primary_clinician_discipline AS discipline,
    m.status,
    m.start_date,
    m.discharged_on AS discharge_date,
    m.end_of_care,
    m.in_care,
    m.weeks_in_care,  -- the summary's: to the end of care, for care that has ended
    m.in_care AND date_diff('day', m.start_date, $as_of) / 7.0 >= 8 AS outcome_eligible,
    -- counts for the outcome shares: eligible, with a baseline and a current rating
    m.in_care AND date_diff('day', m.start_date, $as_of) / 7.0 >= 8 AND m.change_pct IS NOT NULL
        AS counts_for_outcome,
    m.baseline_nrs,
    m.current_nrs,
    m.change_points,
    m.change_pct,
    m.pain_response,
    m.in_care AND date_diff('day', m.start_date, $as_of) / 7.0 >= 8
        AND m.pain_response IN ('meaningful', 'substantial') AS meaningful_reduction,
    m.in_care AND date_diff('day', m.start_date, $as_of) / 7.0 >= 8
        AND m.pain_response = 'substantial' AS substantial_reduction,
    m.gas_t,
    coalesce(ps.attended, 0) AS sessions_attended,
    coalesce(ps.dna, 0) AS sessions_dna,
    coalesce(ps.cancelled_patient, 0) AS sessions_cancelled_patient,
    round(100.0 * ps.attended / nullif(ps.attended + ps.dna + ps.cancelled_patient, 0), 1)
        AS attendance_pct,
    pp.prescribed_min AS practice_prescribed_min,
    pp.completed_min AS practice_completed_min,
    round(100.0 * pp.completed_min / nullif(pp.prescribed_min, 0), 1) AS adherence_pct,
    rr.patient_id IS NOT NULL AS rated_last_14_days,
    coalesce(ob.open_barriers, 0) AS open_barriers,
    sl.sleep_quality_baseline,
    sl.sleep_quality_recent,
    round(sl.sleep_quality_recent - sl.sleep_quality_baseline, 1) AS sleep_quality_change,
    so.caregiver_involvement,
    so.peer_group_sessions,
    so.work_status,
    so.accommodation
FROM members m
LEFT JOIN period_sessions ps USING (patient_id)
LEFT JOIN period_practice pp USING (patient_id)
LEFT JOIN recent_rating rr USING (patient_id)
LEFT JOIN open_barriers ob USING (patient_id)
LEFT JOIN sleep sl USING (patient_id)
LEFT JOIN social so USING (patient_id)
ORDER BY m.patient_id
