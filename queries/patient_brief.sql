-- One row for one patient on the as-of date, for the meeting's presenter view: sleep over the last
-- 14 days against the 14 days before (mean quality, mean total sleep, nights), the latest social
-- support record (caregiver involvement, peer-group sessions, work, accommodation, MSPSS with the
-- reference band it falls in (from min to max, both included; NULL in none), ZBI-12), open
-- barriers, and milestones (achieved, next due, and whether that one is overdue).
-- Sleep quality (a decimal) is averaged as DECIMAL, exactly: its mean, and the 0.1 it is rounded
-- to, do not depend on the order DuckDB adds the nights in (as a double they did, at x.x5).
-- params: $patient_id, $as_of
WITH
sleep AS (
    SELECT
        round(avg(CAST(quality AS DECIMAL(18, 6))) FILTER (WHERE date BETWEEN $as_of - 13 AND $as_of), 1) AS sleep_quality_14d,
        round(avg(CAST(quality AS DECIMAL(18, 6))) FILTER (WHERE date BETWEEN $as_of - 27 AND $as_of - 14), 1)
            AS sleep_quality_prev_14d,
        round(avg(total_sleep_min) FILTER (WHERE date BETWEEN $as_of - 13 AND $as_of))
            AS sleep_min_14d,
        round(avg(total_sleep_min) FILTER (WHERE date BETWEEN $as_of - 27 AND $as_of - 14))
            AS sleep_min_prev_14d,
        count(*) FILTER (WHERE date BETWEEN $as_of - 13 AND $as_of) AS sleep_nights_14d
    FROM sleep_diary
    WHERE patient_id = $patient_id AND date BETWEEN $as_of - 27 AND $as_of
),
social AS (
    SELECT date AS social_date, caregiver_involvement, peer_group_sessions, work_status,
        accommodation, mspss, caregiver_burden_zbi12
    FROM social_support
    WHERE patient_id = $patient_id AND date <= $as_of
    ORDER BY date DESC
    LIMIT 1
),
mspss_bands AS (
    SELECT from_json(bands, '[{"min": "DOUBLE", "max": "DOUBLE", "label": "VARCHAR"}]') AS bands
    FROM instruments
    WHERE code = 'MSPSS'
),
barriers_open AS (
    SELECT count(*) AS open_barriers, string_agg(DISTINCT kind, ', ' ORDER BY kind) AS open_barrier_kinds
    FROM barriers
    WHERE patient_id = $patient_id AND opened <= $as_of AND (closed IS NULL OR closed > $as_of)
),
milestone_status AS (
    SELECT
        count(*) AS milestones,
        count(*) FILTER (WHERE achieved_date <= $as_of) AS milestones_achieved,
        arg_max(description, achieved_date) FILTER (WHERE achieved_date <= $as_of)
            AS last_milestone,
        max(achieved_date) FILTER (WHERE achieved_date <= $as_of) AS last_milestone_date,
        arg_min(description, due_date) FILTER (WHERE achieved_date IS NULL OR achieved_date > $as_of)
            AS next_milestone,
        min(due_date) FILTER (WHERE achieved_date IS NULL OR achieved_date > $as_of)
            AS next_milestone_due
    FROM milestones
    WHERE patient_id = $patient_id
)
SELECT
    sleep.*,
    social.*,
    list_filter((SELECT bands FROM mspss_bands), lambda b: (b.min IS NULL OR social.mspss >= b.min)
        AND (b.max IS NULL OR social.mspss <= b.max))[1].label AS mspss_band,
    barriers_open.*,
    milestone_status.*,
    -- overdue as patient_milestones.sql has it: its due date passed, not achieved
    coalesce(milestone_status.next_milestone_due < $as_of, false) AS next_milestone_overdue
FROM sleep
CROSS JOIN barriers_open
CROSS JOIN milestone_status
LEFT JOIN social ON true
