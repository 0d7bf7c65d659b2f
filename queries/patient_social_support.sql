-- One row per social-support record for one patient in the period: caregiver involvement, peer-group
-- sessions in the past 4 weeks, work status, workplace accommodation, MSPSS and caregiver burden
-- (ZBI-12), each of these two with the reference band it falls in (from min to max, both included;
-- NULL when it falls in none).
-- params: $patient_id, $start, $as_of
WITH bands AS (
    SELECT code, from_json(bands, '[{"min": "DOUBLE", "max": "DOUBLE", "label": "VARCHAR"}]') AS bands
    FROM instruments
    WHERE code IN ('MSPSS', 'ZBI12')
)
SELECT date, caregiver_involvement, peer_group_sessions, work_status, accommodation, mspss,
    list_filter((SELECT bands FROM bands WHERE code = 'MSPSS'),
        lambda b: (b.min IS NULL OR mspss >= b.min) AND (b.max IS NULL OR mspss <= b.max))[1].label
        AS mspss_band,
    caregiver_burden_zbi12,
    list_filter((SELECT bands FROM bands WHERE code = 'ZBI12'),
        lambda b: (b.min IS NULL OR caregiver_burden_zbi12 >= b.min)
            AND (b.max IS NULL OR caregiver_burden_zbi12 <= b.max))[1].label AS zbi12_band
FROM social_support
WHERE patient_id = $patient_id AND date BETWEEN $start AND $as_of
ORDER BY date
