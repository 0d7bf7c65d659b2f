-- One row per patient a search finds, for the patient pickers: id, name, alias, and whether they
-- are in care on the as-of date; in care first, then by id, at most $limit rows. A patient
-- matches when the term is in their id, or in what the picker shows of them: their name, or with
-- privacy mode on their alias instead (a name is never searched while names are hidden). The
-- term is matched as plain text, case-insensitively; '' matches everyone.
-- The alias is privacy.alias() in SQL: the initials of the name's words, then ' ·' and the id's
-- last four characters ('A.E. ·0007'; '?' for no initials).
-- params: $as_of, $term, $privacy_mode, $limit
WITH p AS (
    SELECT
        patient_id,
        name,
        coalesce(nullif(array_to_string(list_transform(
            regexp_extract_all(coalesce(name, ''), '(?:^|\s)(\pL)', 1), lambda x: upper(x) || '.'
        ), ''), ''), '?') || ' ·' || right(patient_id, 4) AS alias,
        start_date <= $as_of AND coalesce(discharge_date > $as_of, status IN ('active', 'on_hold'))
            AS in_care
    FROM patients
)
SELECT patient_id, name, alias, in_care
FROM p
WHERE contains(lower(patient_id), lower($term))
   OR contains(lower(CASE WHEN $privacy_mode THEN alias ELSE coalesce(name, '') END), lower($term))
ORDER BY in_care DESC, patient_id
LIMIT $limit
