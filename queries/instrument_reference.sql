-- One row: the reference row of one instrument (range, direction, bands, meaningful change, source).
-- params: $code
SELECT code, name, domain, range_min, range_max, direction, unit, bands, meaningful_change,
    meaningful_change_pct, substantial_change_pct, meaningful_change_text, loinc, source
FROM instruments
WHERE code = $code
