-- One row per applied import batch, newest first: when, how many rows, how many files, from
-- where (the folder or file's own name, and its whole path), and which files (their names,
-- comma-separated) under which batch id.
-- params: $limit
SELECT
    finished_at,
    rows_accepted,
    rows_rejected,
    len(string_split(files, ', ')) AS file_count,
    regexp_replace(source, '^.*/', '') AS source_name,
    via,
    source,
    files,
    batch_id
FROM import_batches
ORDER BY finished_at DESC
LIMIT $limit
