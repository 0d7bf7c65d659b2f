-- One row per calendar month of the 12 to the as-of date (the last one cut at the as-of date),
-- under the filters: patients in care at the month's end, care episodes started in the month, and
-- discharges and drop-outs in the month (the end of care: care_ends).
-- params: $as_of, $sites, $clinicians, $conditions (lists, or NULL for all)
WITH
months AS (
    SELECT CAST(m AS DATE) AS month_start,
        least(CAST(m + INTERVAL 1 MONTH AS DATE) - 1, $as_of) AS month_end
    FROM generate_series(date_trunc('month', $as_of - INTERVAL 11 MONTH),
                         date_trunc('month', CAST($as_of AS TIMESTAMP)), INTERVAL 1 MONTH) t(m)
),
cohort AS (  -- with the end of care (care_ends)
    SELECT p.*, e.end_of_care
    FROM patients p LEFT JOIN care_ends e USING (patient_id)
    WHERE ($sites IS NULL OR list_contains(CAST($sites AS VARCHAR[]), site))
      AND ($clinicians IS NULL OR list_contains(CAST($clinicians AS VARCHAR[]), primary_clinician_id))
      AND ($conditions IS NULL OR list_contains(CAST($conditions AS VARCHAR[]), condition))
)
SELECT
    m.month_start,
    count(c.patient_id) FILTER (
        WHERE c.start_date <= m.month_end
          AND (c.end_of_care IS NULL OR c.end_of_care > m.month_end)
    ) AS active,
    count(c.patient_id) FILTER (WHERE c.start_date BETWEEN m.month_start AND m.month_end) AS started,
    count(c.patient_id) FILTER (
        WHERE c.status = 'discharged' AND c.end_of_care BETWEEN m.month_start AND m.month_end
    ) AS discharged,
    count(c.patient_id) FILTER (
        WHERE c.status = 'dropped_out' AND c.end_of_care BETWEEN m.month_start AND m.month_end
    ) AS dropped_out
FROM months m
LEFT JOIN cohort c ON c.start_date <= m.month_end
GROUP BY m.month_start
ORDER BY m.month_start
