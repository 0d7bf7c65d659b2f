-- One row per patient with at least one flag on the as-of date (patient_flags.sql), by patient:
-- how many flags of each level, and the flags as a JSON list, most urgent first, then by name.
-- params: $as_of, $patient_ids (a list of patient ids, or NULL for every patient)
WITH flags AS (SELECT * FROM {{ patient_flags }} pf)
SELECT patient_id,
    count(*) FILTER (WHERE level = 'urgent') AS urgent_flags,
    count(*) FILTER (WHERE level = 'review') AS review_flags,
    count(*) FILTER (WHERE level = 'info') AS info_flags,
    -- JSON text: one string per row is far cheaper to hand to Python than nested structs.
    -- Sorted per patient (rank, then name: most urgent first) after an unordered collect.
    CAST(to_json(list_sort(list({
        'rank': CASE level WHEN 'urgent' THEN 0 WHEN 'review' THEN 1 ELSE 2 END,
        'name': name, 'flag': flag, 'level': level, 'reason': reason, 'rule': rule,
        'evidence': evidence, 'flag_date': flag_date, 'source': source
    }))) AS VARCHAR) AS flag_list
FROM flags
GROUP BY patient_id
ORDER BY patient_id
