-- One row per flag that fires for a patient on the as-of date: the rule's code, name, level and
-- wording, the values that fired it (evidence, JSON), a reason in words, and the date it refers to.
-- Every flag rule of shared/MEASURES.md, computed for any set of patients in one pass; every
-- threshold is read from the flag_rules reference table. Means are rounded to 0.1 and percent
-- changes to 0.1% before they are compared, so what the screen shows is what was compared.
-- Windows: "last N days" = as_of - (N - 1) .. as_of; "the N days before" = the N days just before.
-- Only patients in care on the as-of date are flagged: care started by then and not ended by
-- then (care_ends: the discharge date, else the last contact of a discharge or drop-out).
-- Sleep quality (a decimal) is averaged as DECIMAL, exactly: its mean, and the 0.1 it is rounded
-- to, do not depend on the order DuckDB adds the nights in (as a double they did, at x.x5).
-- params: $as_of, $patient_ids (a list of patient ids, or NULL for every patient)
WITH
prm AS (
    SELECT
        max(CASE WHEN code = 'safety' THEN CAST(params ->> 'item9_above' AS INTEGER) END) AS item9_above,
        max(CASE WHEN code = 'pain_flare' THEN CAST(params ->> 'recent_days' AS INTEGER) END) AS flare_recent,
        max(CASE WHEN code = 'pain_flare' THEN CAST(params ->> 'previous_days' AS INTEGER) END) AS flare_previous,
        max(CASE WHEN code = 'pain_flare' THEN CAST(params ->> 'rise_points' AS DOUBLE) END) AS flare_points,
        max(CASE WHEN code = 'pain_flare' THEN CAST(params ->> 'rise_pct' AS DOUBLE) END) AS flare_pct,
        max(CASE WHEN code = 'no_progress' THEN CAST(params ->> 'min_weeks' AS DOUBLE) END) AS np_weeks,
        max(CASE WHEN code = 'no_progress' THEN CAST(params ->> 'drop_pct' AS DOUBLE) END) AS np_pct,
        max(CASE WHEN code = 'no_progress' THEN CAST(params ->> 'drop_points' AS DOUBLE) END) AS np_points,
        max(CASE WHEN code = 'mood' THEN CAST(params ->> 'phq9_at_least' AS DOUBLE) END) AS phq9_at_least,
        max(CASE WHEN code = 'mood' THEN CAST(params ->> 'phq9_rise' AS DOUBLE) END) AS phq9_rise,
        max(CASE WHEN code = 'mood' THEN CAST(params ->> 'gad7_at_least' AS DOUBLE) END) AS gad7_at_least,
        max(CASE WHEN code = 'catastrophizing' THEN CAST(params ->> 'pcs_at_least' AS DOUBLE) END) AS pcs_at_least,
        max(CASE WHEN code = 'low_self_efficacy' THEN CAST(params ->> 'pseq_below' AS DOUBLE) END) AS pseq_below,
        max(CASE WHEN code = 'sleep_decline' THEN CAST(params ->> 'window_days' AS INTEGER) END) AS sleep_days,
        max(CASE WHEN code = 'sleep_decline' THEN CAST(params ->> 'quality_drop' AS DOUBLE) END) AS sleep_quality_drop,
        max(CASE WHEN code = 'sleep_decline' THEN CAST(params ->> 'sleep_drop_min' AS DOUBLE) END) AS sleep_drop_min,
        max(CASE WHEN code = 'sleep_decline' THEN CAST(params ->> 'isi_at_least' AS DOUBLE) END) AS isi_at_least,
        max(CASE WHEN code = 'desensitization_setback' THEN CAST(params ->> 'window_days' AS INTEGER) END) AS desens_days,
        max(CASE WHEN code = 'desensitization_setback' THEN CAST(params ->> 'level_drop' AS INTEGER) END) AS desens_level_drop,
        max(CASE WHEN code = 'desensitization_setback' THEN CAST(params ->> 'area_rise_pct' AS DOUBLE) END) AS area_rise_pct,
        max(CASE WHEN code = 'missed_sessions' THEN CAST(params ->> 'window_days' AS INTEGER) END) AS dna_days,
        max(CASE WHEN code = 'missed_sessions' THEN CAST(params ->> 'dna_at_least' AS INTEGER) END) AS dna_at_least,
        max(CASE WHEN code = 'low_home_practice' THEN CAST(params ->> 'window_days' AS INTEGER) END) AS hp_days,
        max(CASE WHEN code = 'low_home_practice' THEN CAST(params ->> 'adherence_below_pct' AS DOUBLE) END) AS hp_below_pct,
        max(CASE WHEN code = 'stalled_goals' THEN CAST(params ->> 'days_over' AS INTEGER) END) AS goals_days_over,
        max(CASE WHEN code = 'stalled_goals' THEN CAST(params ->> 'gas_t_below' AS DOUBLE) END) AS gas_t_below,
        max(CASE WHEN code = 'caregiver_strain' THEN CAST(params ->> 'zbi12_above' AS DOUBLE) END) AS zbi_above,
        max(CASE WHEN code = 'medication_change' THEN CAST(params ->> 'window_days' AS INTEGER) END) AS med_days,
        max(CASE WHEN code = 'medication_change' THEN CAST(params ->> 'ome_at_least' AS DOUBLE) END) AS ome_at_least,
        max(CASE WHEN code = 'stale_data' THEN CAST(params ->> 'window_days' AS INTEGER) END) AS stale_days
    FROM flag_rules
),
cohort AS (
    SELECT patient_id, p.start_date, p.status
    FROM patients p
    LEFT JOIN care_ends e USING (patient_id)
    WHERE p.start_date <= $as_of AND (e.end_of_care IS NULL OR e.end_of_care > $as_of)
      AND ($patient_ids IS NULL OR list_contains(CAST($patient_ids AS VARCHAR[]), patient_id))
),
-- Baseline, current and flare-window pain of each patient (patient_pain.sql, from pain_daily).
pain AS (
    SELECT
        c.patient_id,
        date_diff('day', c.start_date, $as_of) / 7.0 AS weeks_in_care,
        d.baseline_nrs, d.current_nrs, d.flare_recent_nrs, d.flare_previous_nrs, d.last_pain_day
    FROM cohort c
    LEFT JOIN {{ patient_pain }} d USING (patient_id)
),
-- Each questionnaire's latest score and the one before it, and PHQ-9's latest item 9 (one
-- aggregate pass, no sort).
latest AS (
    SELECT a.patient_id, a.instrument, max(a.date) AS date,
        arg_max(a.total, a.date) AS total,  -- total is required
        arg_max(a.total, a.date, 2)[2] AS previous_total,
        arg_max(a.item9, a.date) FILTER (WHERE a.item9 IS NOT NULL) AS item9,
        max(a.date) FILTER (WHERE a.item9 IS NOT NULL) AS item9_date
    FROM assessments a
    WHERE ($patient_ids IS NULL OR list_contains(CAST($patient_ids AS VARCHAR[]), a.patient_id))
      AND a.date <= $as_of
      AND a.instrument IN ('PHQ9', 'GAD7', 'PCS', 'PSEQ', 'ISI', 'ZBI12')
    GROUP BY a.patient_id, a.instrument
),

f_safety AS (
    SELECT patient_id, 'safety' AS flag, item9_date AS flag_date,
        json_object('instrument', 'PHQ9', 'item9', item9, 'date', item9_date) AS evidence,
        printf('PHQ-9 item 9 = %d on %s (above %d)', item9, strftime(item9_date, '%d %b %Y'), prm.item9_above) AS reason
    FROM latest CROSS JOIN prm
    WHERE instrument = 'PHQ9' AND item9 > prm.item9_above
),
f_pain_flare AS (
    SELECT patient_id, 'pain_flare', $as_of,
        json_object('recent_mean', flare_recent_nrs, 'previous_mean', flare_previous_nrs,
                    'rise_points', rise_points, 'rise_pct', rise_pct),
        printf('%d-day mean %.1f vs %.1f over the previous %d days (%+.1f points, %+.0f%%)',
               prm.flare_recent, flare_recent_nrs, flare_previous_nrs, prm.flare_previous,
               rise_points, coalesce(rise_pct, 0))
    FROM (
        SELECT *, round(flare_recent_nrs - flare_previous_nrs, 1) AS rise_points,
            round(100 * (flare_recent_nrs - flare_previous_nrs) / nullif(flare_previous_nrs, 0), 1) AS rise_pct
        FROM pain
    ) CROSS JOIN prm
    WHERE rise_points >= prm.flare_points OR rise_pct >= prm.flare_pct
),
f_no_progress AS (
    SELECT patient_id, 'no_progress', $as_of,
        json_object('weeks_in_care', round(weeks_in_care, 1), 'baseline_nrs', baseline_nrs,
                    'current_nrs', current_nrs, 'change_points', change_points, 'change_pct', change_pct),
        printf('%.1f weeks in care; NRS %.1f vs baseline %.1f (%+.1f points, %+.0f%%; meaningful is -%g points or -%g%%)',
               weeks_in_care, current_nrs, baseline_nrs, change_points, coalesce(change_pct, 0),
               prm.np_points, prm.np_pct)
    FROM (
        SELECT *, round(current_nrs - baseline_nrs, 1) AS change_points,
            round(100 * (current_nrs - baseline_nrs) / nullif(baseline_nrs, 0), 1) AS change_pct
        FROM pain
    ) CROSS JOIN prm
    WHERE weeks_in_care >= prm.np_weeks
      AND current_nrs IS NOT NULL
      AND NOT (change_points <= -prm.np_points OR coalesce(change_pct <= -prm.np_pct, false))
),
f_mood AS (
    SELECT patient_id, 'mood', max(date),
        -- {"PHQ9": {...}, "GAD7": {...}}: the instruments that fired, in the order of the words
        CAST('{' || string_agg(to_json(instrument) || ':'
            || json_object('total', total, 'previous', previous_total, 'date', date), ',' ORDER BY instrument DESC)
            || '}' AS JSON),
        string_agg(
            CASE instrument
                WHEN 'PHQ9' THEN printf('PHQ-9 %g on %s', total, strftime(date, '%d %b %Y'))
                    || CASE WHEN previous_total IS NOT NULL THEN printf(' (previous %g)', previous_total) ELSE '' END
                ELSE printf('GAD-7 %g on %s', total, strftime(date, '%d %b %Y'))
            END, '; ' ORDER BY instrument DESC)
    FROM latest CROSS JOIN prm
    WHERE (instrument = 'PHQ9' AND (total >= prm.phq9_at_least OR total - previous_total >= prm.phq9_rise))
       OR (instrument = 'GAD7' AND total >= prm.gad7_at_least)
    GROUP BY patient_id
),
f_catastrophizing AS (
    SELECT patient_id, 'catastrophizing', date,
        json_object('instrument', 'PCS', 'total', total, 'date', date),
        printf('PCS %g on %s (>= %g)', total, strftime(date, '%d %b %Y'), prm.pcs_at_least)
    FROM latest CROSS JOIN prm
    WHERE instrument = 'PCS' AND total >= prm.pcs_at_least
),
f_low_self_efficacy AS (
    SELECT patient_id, 'low_self_efficacy', date,
        json_object('instrument', 'PSEQ', 'total', total, 'date', date),
        printf('PSEQ %g on %s (below %g)', total, strftime(date, '%d %b %Y'), prm.pseq_below)
    FROM latest CROSS JOIN prm
    WHERE instrument = 'PSEQ' AND total < prm.pseq_below
),
sleep_windows AS (
    SELECT s.patient_id,
        round(avg(CAST(s.quality AS DECIMAL(18, 6))) FILTER (WHERE s.date > $as_of - prm.sleep_days), 1) AS recent_quality,
        round(avg(CAST(s.quality AS DECIMAL(18, 6))) FILTER (WHERE s.date <= $as_of - prm.sleep_days), 1) AS previous_quality,
        round(avg(s.total_sleep_min) FILTER (WHERE s.date > $as_of - prm.sleep_days)) AS recent_sleep,
        round(avg(s.total_sleep_min) FILTER (WHERE s.date <= $as_of - prm.sleep_days)) AS previous_sleep
    FROM sleep_diary s
    CROSS JOIN prm
    WHERE ($patient_ids IS NULL OR list_contains(CAST($patient_ids AS VARCHAR[]), s.patient_id))
      AND s.date BETWEEN $as_of - (2 * prm.sleep_days - 1) AND $as_of
    GROUP BY s.patient_id
),
sleep_parts AS (  -- k: the order the parts are told in
    SELECT patient_id, 1 AS k, $as_of AS date,
        printf('%d-day mean sleep quality %.1f vs %.1f the %d days before',
               prm.sleep_days, recent_quality, previous_quality, prm.sleep_days) AS part,
        json_object('recent_quality', recent_quality, 'previous_quality', previous_quality) AS evidence
    FROM sleep_windows CROSS JOIN prm
    WHERE round(previous_quality - recent_quality, 1) >= prm.sleep_quality_drop
    UNION ALL
    SELECT patient_id, 2, $as_of,
        printf('%d-day mean total sleep %d min vs %d min the %d days before',
               prm.sleep_days, CAST(recent_sleep AS INTEGER), CAST(previous_sleep AS INTEGER), prm.sleep_days),
        json_object('recent_sleep_min', recent_sleep, 'previous_sleep_min', previous_sleep)
    FROM sleep_windows CROSS JOIN prm
    WHERE previous_sleep - recent_sleep >= prm.sleep_drop_min
    UNION ALL
    SELECT patient_id, 3, date,
        printf('ISI %g on %s (>= %g)', total, strftime(date, '%d %b %Y'), prm.isi_at_least),
        json_object('ISI', total, 'isi_date', date)
    FROM latest CROSS JOIN prm
    WHERE instrument = 'ISI' AND total >= prm.isi_at_least
),
f_sleep_decline AS (
    SELECT patient_id, 'sleep_decline', max(date),
        to_json(list(evidence ORDER BY k)), string_agg(part, '; ' ORDER BY k)
    FROM sleep_parts GROUP BY patient_id
),
desens_levels AS (
    SELECT d.patient_id, d.modality,
        max(d.level) FILTER (WHERE d.date > $as_of - prm.desens_days) AS recent_level,
        max(d.level) FILTER (WHERE d.date <= $as_of - prm.desens_days) AS previous_level
    FROM desensitization d
    CROSS JOIN prm
    WHERE ($patient_ids IS NULL OR list_contains(CAST($patient_ids AS VARCHAR[]), d.patient_id))
      AND coalesce(d.tolerated, false)
      AND d.date BETWEEN $as_of - (2 * prm.desens_days - 1) AND $as_of
    GROUP BY ALL
),
allodynia AS (  -- the latest measured area and the one before it
    SELECT patient_id, max(date) AS date, arg_max(area, date) AS area,
        arg_max(area, date, 2)[2] AS previous_area, arg_max(date, date, 2)[2] AS previous_date
    FROM (
        SELECT d.patient_id, d.date, max(d.allodynia_area_cm2) AS area
        FROM desensitization d
        WHERE ($patient_ids IS NULL OR list_contains(CAST($patient_ids AS VARCHAR[]), d.patient_id))
          AND d.allodynia_area_cm2 IS NOT NULL AND d.date <= $as_of
        GROUP BY ALL
    )
    GROUP BY patient_id
),
desens_parts AS (
    SELECT patient_id, $as_of AS date,
        printf('%s: highest tolerated level %d in the last %d days vs %d the %d days before',
               replace(modality, '_', ' '), recent_level, prm.desens_days, previous_level, prm.desens_days) AS part,
        json_object('modality', modality, 'recent_level', recent_level, 'previous_level', previous_level) AS evidence
    FROM desens_levels CROSS JOIN prm
    WHERE previous_level - recent_level >= prm.desens_level_drop
    UNION ALL
    SELECT patient_id, date,
        printf('allodynia area %.0f cm² on %s vs %.0f cm² on %s (%+.0f%%)', area, strftime(date, '%d %b %Y'),
               previous_area, strftime(previous_date, '%d %b %Y'), rise_pct),
        json_object('area_cm2', area, 'previous_area_cm2', previous_area, 'rise_pct', rise_pct)
    FROM (
        SELECT *, round(100 * (area - previous_area) / nullif(previous_area, 0), 1) AS rise_pct
        FROM allodynia
    ) CROSS JOIN prm
    WHERE rise_pct >= prm.area_rise_pct
),
f_desensitization_setback AS (
    SELECT patient_id, 'desensitization_setback', max(date),
        to_json(list(evidence ORDER BY part)), string_agg(part, '; ' ORDER BY part)
    FROM desens_parts GROUP BY patient_id
),
f_missed_sessions AS (
    SELECT s.patient_id, 'missed_sessions', max(CAST(s.ts AS DATE)),
        json_object('dna', count(*), 'window_days', any_value(prm.dna_days),
                    'dates', list(strftime(CAST(s.ts AS DATE), '%Y-%m-%d') ORDER BY s.ts)),
        printf('%d sessions not attended (DNA) in the last %d days: %s', count(*), any_value(prm.dna_days),
               string_agg(strftime(CAST(s.ts AS DATE), '%d %b'), ', ' ORDER BY s.ts))
    FROM sessions s
    CROSS JOIN prm
    WHERE ($patient_ids IS NULL OR list_contains(CAST($patient_ids AS VARCHAR[]), s.patient_id))
      AND s.status = 'dna' AND CAST(s.ts AS DATE) BETWEEN $as_of - (prm.dna_days - 1) AND $as_of
    GROUP BY s.patient_id
    HAVING count(*) >= any_value(prm.dna_at_least)
),
f_low_home_practice AS (
    SELECT patient_id, 'low_home_practice', $as_of,
        json_object('completed_min', completed, 'prescribed_min', prescribed, 'adherence_pct', adherence_pct),
        printf('%d of %d prescribed minutes done in the last %d days (%.0f%%, below %g%%)',
               completed, prescribed, prm.hp_days, adherence_pct, prm.hp_below_pct)
    FROM (
        SELECT h.patient_id, CAST(sum(coalesce(h.completed_min, 0)) AS INTEGER) AS completed,
            CAST(sum(h.prescribed_min) AS INTEGER) AS prescribed,
            round(100.0 * sum(coalesce(h.completed_min, 0)) / sum(h.prescribed_min), 1) AS adherence_pct
        FROM practice_daily h
        CROSS JOIN prm
        WHERE ($patient_ids IS NULL OR list_contains(CAST($patient_ids AS VARCHAR[]), h.patient_id))
          AND h.day BETWEEN $as_of - (prm.hp_days - 1) AND $as_of
        GROUP BY h.patient_id
    ) CROSS JOIN prm
    WHERE adherence_pct < prm.hp_below_pct
),
-- GAS T-score at the latest review date: over the goals reviewed by then, each at its latest
-- attainment; weight = importance * difficulty, each taken as 1 when not given (MEASURES.md).
-- "By the latest review on or before the as-of date" is "on or before the as-of date".
gas_points AS (
    SELECT g.patient_id, g.goal_id, max(x.date) AS reviewed, arg_max(x.attainment, x.date) AS attainment,
        coalesce(any_value(g.importance), 1) * coalesce(any_value(g.difficulty), 1) AS w
    FROM goals g
    JOIN goal_reviews x ON x.goal_id = g.goal_id
    WHERE ($patient_ids IS NULL OR list_contains(CAST($patient_ids AS VARCHAR[]), g.patient_id))
      AND x.date <= $as_of
    GROUP BY g.patient_id, g.goal_id
),
gas_latest AS (
    SELECT patient_id, max(reviewed) AS review_date,
        round(50 + 10 * sum(w * attainment) / nullif(sqrt(0.7 * sum(w * w) + 0.3 * sum(w) * sum(w)), 0), 1) AS gas_t
    FROM gas_points GROUP BY patient_id
),
goal_activity AS (
    SELECT g.patient_id, min(g.set_date) AS first_set, any_value(gl.review_date) AS last_review,
        any_value(ms.last_achieved) AS last_achieved
    FROM goals g
    LEFT JOIN gas_latest gl USING (patient_id)
    LEFT JOIN (SELECT m.patient_id, max(m.achieved_date) AS last_achieved FROM milestones m
               WHERE ($patient_ids IS NULL OR list_contains(CAST($patient_ids AS VARCHAR[]), m.patient_id))
                 AND m.achieved_date <= $as_of GROUP BY m.patient_id) ms USING (patient_id)
    WHERE ($patient_ids IS NULL OR list_contains(CAST($patient_ids AS VARCHAR[]), g.patient_id))
      AND g.set_date <= $as_of
    GROUP BY g.patient_id
),
goal_parts AS (  -- k: the order the parts are told in
    SELECT patient_id, 1 AS k, greatest(first_set, last_review, last_achieved) AS date,
        printf('no goal review and no milestone achieved for %d days (since %s)',
               date_diff('day', greatest(first_set, last_review, last_achieved), $as_of),
               strftime(greatest(first_set, last_review, last_achieved), '%d %b %Y')) AS part,
        json_object('last_review', last_review, 'last_milestone_achieved', last_achieved,
                    'days', date_diff('day', greatest(first_set, last_review, last_achieved), $as_of)) AS evidence
    FROM goal_activity CROSS JOIN prm
    WHERE date_diff('day', greatest(first_set, last_review, last_achieved), $as_of) > prm.goals_days_over
    UNION ALL
    SELECT patient_id, 2, review_date,
        printf('GAS T-score %.1f at the review of %s (below %g)', gas_t, strftime(review_date, '%d %b %Y'), prm.gas_t_below),
        json_object('gas_t', gas_t, 'review_date', review_date)
    FROM gas_latest CROSS JOIN prm
    WHERE gas_t < prm.gas_t_below
),
f_stalled_goals AS (
    SELECT patient_id, 'stalled_goals', max(date), to_json(list(evidence ORDER BY k)),
        string_agg(part, '; ' ORDER BY k)
    FROM goal_parts GROUP BY patient_id
),
zbi AS (  -- the latest caregiver burden score, from a questionnaire or the social-support record
    SELECT patient_id, arg_max(total, date) AS total, max(date) AS date
    FROM (
        SELECT patient_id, date, total FROM latest WHERE instrument = 'ZBI12'
        UNION ALL
        SELECT s.patient_id, s.date, s.caregiver_burden_zbi12
        FROM social_support s
        WHERE ($patient_ids IS NULL OR list_contains(CAST($patient_ids AS VARCHAR[]), s.patient_id))
          AND s.caregiver_burden_zbi12 IS NOT NULL AND s.date <= $as_of
    )
    GROUP BY patient_id
),
caregiver_parts AS (
    SELECT patient_id, date, printf('ZBI-12 %g on %s (above %g)', total, strftime(date, '%d %b %Y'), prm.zbi_above) AS part,
        json_object('ZBI12', total, 'date', date) AS evidence
    FROM zbi CROSS JOIN prm WHERE total > prm.zbi_above
    UNION ALL
    SELECT b.patient_id, b.opened, printf('open caregiver burnout barrier since %s', strftime(b.opened, '%d %b %Y')),
        json_object('barrier_id', b.barrier_id, 'opened', b.opened)
    FROM barriers b
    WHERE ($patient_ids IS NULL OR list_contains(CAST($patient_ids AS VARCHAR[]), b.patient_id))
      AND b.kind = 'caregiver_burnout' AND b.opened <= $as_of AND (b.closed IS NULL OR b.closed > $as_of)
),
f_caregiver_strain AS (
    SELECT patient_id, 'caregiver_strain', max(date), to_json(list(evidence ORDER BY part DESC)),
        string_agg(part, '; ' ORDER BY part DESC)
    FROM caregiver_parts GROUP BY patient_id
),
-- A medication change is a dose period that began with start / increase / decrease / stop, or a
-- stop date with no period of the same drug following it.
med_changes AS (
    SELECT m.patient_id, m.drug, m.start_date AS date, coalesce(m.change, 'start') AS change
    FROM medications m
    WHERE ($patient_ids IS NULL OR list_contains(CAST($patient_ids AS VARCHAR[]), m.patient_id))
      AND coalesce(m.change, 'start') IN ('start', 'increase', 'decrease', 'stop')
    UNION ALL
    SELECT m.patient_id, m.drug, m.stop_date, 'stop'
    FROM medications m
    WHERE ($patient_ids IS NULL OR list_contains(CAST($patient_ids AS VARCHAR[]), m.patient_id))
      AND m.stop_date IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM medications n
                      WHERE n.patient_id = m.patient_id AND n.drug = m.drug
                        AND n.start_date BETWEEN m.stop_date AND m.stop_date + 1
                        AND n.start_date > m.start_date)
),
ome AS (
    SELECT m.patient_id, sum(m.ome_mg_day) AS ome_mg_day, string_agg(m.drug, ', ' ORDER BY m.drug) AS drugs
    FROM medications m
    WHERE ($patient_ids IS NULL OR list_contains(CAST($patient_ids AS VARCHAR[]), m.patient_id))
      AND m.drug_class = 'opioid' AND m.start_date <= $as_of AND (m.stop_date IS NULL OR m.stop_date >= $as_of)
    GROUP BY m.patient_id
),
med_parts AS (
    SELECT patient_id, date, printf('%s %s on %s', drug, change, strftime(date, '%d %b')) AS part,
        json_object('drug', drug, 'change', change, 'date', date) AS evidence
    FROM med_changes CROSS JOIN prm
    WHERE date BETWEEN $as_of - (prm.med_days - 1) AND $as_of
    UNION ALL
    SELECT patient_id, $as_of, printf('opioids %g mg/day OME (%s; >= %g)', ome_mg_day, drugs, prm.ome_at_least),
        json_object('ome_mg_day', ome_mg_day, 'drugs', drugs)
    FROM ome CROSS JOIN prm WHERE ome_mg_day >= prm.ome_at_least
),
f_medication_change AS (
    SELECT patient_id, 'medication_change', max(date), to_json(list(evidence ORDER BY date, part)),
        string_agg(part, '; ' ORDER BY date, part)
    FROM med_parts GROUP BY patient_id
),
f_stale_data AS (
    SELECT c.patient_id, 'stale_data', greatest(p.last_pain_day, ls.last_session),
        json_object('last_pain_rating', p.last_pain_day, 'last_session', ls.last_session),
        printf('no pain rating or session in the last %d days (last pain rating %s, last session %s)',
               prm.stale_days, coalesce(strftime(p.last_pain_day, '%d %b %Y'), 'never'),
               coalesce(strftime(ls.last_session, '%d %b %Y'), 'never'))
    FROM cohort c
    CROSS JOIN prm
    JOIN pain p USING (patient_id)
    LEFT JOIN (
        SELECT s.patient_id, max(CAST(s.ts AS DATE)) AS last_session
        FROM sessions s
        WHERE ($patient_ids IS NULL OR list_contains(CAST($patient_ids AS VARCHAR[]), s.patient_id))
          AND CAST(s.ts AS DATE) <= $as_of
        GROUP BY s.patient_id
    ) ls USING (patient_id)
    WHERE c.status <> 'on_hold'
      AND coalesce(greatest(p.last_pain_day, ls.last_session), DATE '1900-01-01') <= $as_of - prm.stale_days
),
fired AS (
    SELECT * FROM f_safety
    UNION ALL SELECT * FROM f_pain_flare
    UNION ALL SELECT * FROM f_no_progress
    UNION ALL SELECT * FROM f_mood
    UNION ALL SELECT * FROM f_catastrophizing
    UNION ALL SELECT * FROM f_low_self_efficacy
    UNION ALL SELECT * FROM f_sleep_decline
    UNION ALL SELECT * FROM f_desensitization_setback
    UNION ALL SELECT * FROM f_missed_sessions
    UNION ALL SELECT * FROM f_low_home_practice
    UNION ALL SELECT * FROM f_stalled_goals
    UNION ALL SELECT * FROM f_caregiver_strain
    UNION ALL SELECT * FROM f_medication_change
    UNION ALL SELECT * FROM f_stale_data
)
SELECT
    f.patient_id,
    f.flag,
    r.name,
    r.level,
    r.rule,
    f.reason,
    CAST(f.evidence AS VARCHAR) AS evidence,
    f.flag_date,
    r.source
FROM fired f
JOIN flag_rules r ON r.code = f.flag
SEMI JOIN cohort c ON c.patient_id = f.patient_id  -- in care; each table was narrowed to the ids
ORDER BY f.patient_id, CASE r.level WHEN 'urgent' THEN 0 WHEN 'review' THEN 1 ELSE 2 END, r.name
