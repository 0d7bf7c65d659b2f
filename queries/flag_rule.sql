-- One row: a flag rule of the reference (shared/MEASURES.md), its level, words, numbers and source.
-- params: $code
SELECT code, name, level, rule, params, source
FROM flag_rules
WHERE code = $code
