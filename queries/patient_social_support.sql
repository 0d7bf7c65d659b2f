-- One row per social-support record for one patient in the period: caregiver involvement, peer-group
-- sessions in the past 4 weeks, work status, workplace accommodation, MSPSS and caregiver burden
-- (ZBI-12), each of these two with the reference band it falls in (from min to max, both included;
-- NULL when it falls in none).
-- params: $patient_id, $start, $as_of
WITH bands AS (
    SELECT
        from_json(any_value(bands) FILTER (WHERE code = 'MSPSS'),
            '[{"min": "DOUBLE", "max": "DOUBLE", "label": "VARCHAR"}]') AS mspss,
        from_json(any_value(bands) FILTER (WHERE code = 'ZBI12'),
            '[{"min": "DOUBLE", "max": "DOUBLE", "label": "VARCHAR"}]') AS zbi12
    FROM instruments
    WHERE code IN ('MSPSS', 'ZBI12')
)
SELECT s.date, s.caregiver_involvement, s.peer_group_sessions, s.work_status, s.accommodation,
    s.mspss,
    list_filter(b.mspss, lambda x: (x.min IS NULL OR s.mspss >= x.min)
            AND (x.max IS NULL OR s.mspss <= x.max))[1].label AS mspss_band,
    s.caregiver_burden_zbi12,
    list_filter(b.zbi12, lambda x: (x.min IS NULL OR s.caregiver_burden_zbi12 >= x.min)
            AND (x.max IS NULL OR s.caregiver_burden_zbi12 <= x.max))[1].label AS zbi12_band
FROM social_support s
CROSS JOIN bands b
WHERE s.patient_id = $patient_id AND s.date BETWEEN $start AND $as_of
ORDER BY s.date
