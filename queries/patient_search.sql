-- One row per patient a search finds, for the patient pickers: id, name, and whether they are in
-- care on the as-of date; in care first, then by id, at most $limit rows. A patient matches when
-- the term is in their id, or in what the picker shows of them: their name, or with privacy mode
-- on their alias instead (a name is never searched while names are hidden). The term is matched
-- as plain text, case-insensitively; '' matches everyone.
-- The alias is privacy.alias() in SQL: the initials of the name's words, then ' ·' and the id's
-- last four characters ('A.E. ·0007'; '?' for no initials).
-- params: $as_of, $term, $privacy_mode, $limit
SELECT
    patient_id,
    p.name,
    p.start_date <= $as_of AND (e.end_of_care IS NULL OR e.end_of_care > $as_of) AS in_care
FROM patients p
LEFT JOIN care_ends e USING (patient_id)
WHERE $term = ''
   OR contains(lower(patient_id), lower($term))
   OR contains(lower(CASE WHEN $privacy_mode
        THEN coalesce(nullif(array_to_string(list_transform(
                regexp_extract_all(name, '(?:^|\s)(\pL)', 1), lambda x: upper(x) || '.'
            ), ''), ''), '?') || ' ·' || right(patient_id, 4)
        ELSE name END), lower($term))
ORDER BY in_care DESC, patient_id
LIMIT $limit
