-- One row for the MDT meeting with this id (none when it has not been opened yet): its day,
-- attendees (ids and names with discipline), planned minutes per patient, created and started.
-- params: $meeting_id
SELECT
    m.meeting_id,
    m.meeting_date,
    coalesce(m.attendees, []) AS attendees,
    coalesce(list(c.name || ' (' || c.discipline || ')' ORDER BY c.name)
        FILTER (WHERE c.name IS NOT NULL), []) AS attendee_names,
    m.minutes_per_patient,
    m.created_at,
    m.started_at
FROM review_meetings m
LEFT JOIN clinicians c ON list_contains(m.attendees, c.clinician_id)
WHERE m.meeting_id = $meeting_id
GROUP BY ALL
