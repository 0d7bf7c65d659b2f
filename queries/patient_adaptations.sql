-- One row per environmental adaptation recommended for one patient by the as-of date: setting, kind,
-- description, recommended and in-place dates, effect. `note` is free text (hidden in privacy mode).
-- params: $patient_id, $as_of
SELECT setting, kind, description, recommended_date,
    CASE WHEN in_place_date <= $as_of THEN in_place_date END AS in_place_date, effect, note
FROM adaptations
WHERE patient_id = $patient_id AND recommended_date <= $as_of
ORDER BY setting, recommended_date
