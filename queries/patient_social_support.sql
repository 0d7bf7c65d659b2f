-- One row per social-support record for one patient in the period: caregiver involvement, peer-group
-- sessions in the past 4 weeks, work status, workplace accommodation, MSPSS, caregiver burden (ZBI-12).
-- params: $patient_id, $start, $as_of
SELECT date, caregiver_involvement, peer_group_sessions, work_status, accommodation, mspss,
    caregiver_burden_zbi12
FROM social_support
WHERE patient_id = $patient_id AND date BETWEEN $start AND $as_of
ORDER BY date
