-- One row per patient on the MDT meeting's agenda for the as-of date, in agenda order.
-- On it: patients in care whose review is due (the next review date, last review + the patient's
-- review interval, is on or before the as-of date), patients in care with an urgent- or
-- review-level flag (every rule of patient_flags.sql), patients added by hand to this meeting, and
-- anyone the meeting has already recorded something for.
-- Order (MEASURES.md): urgent first, then the number of review-level flags, then days overdue
-- against the review interval (most overdue first), then id. Once the meeting has started its
-- order is fixed (the 'agenda' rows written at the start), so marking a patient reviewed or a new
-- import never reshuffles the room's list; patients who join later follow in the same order.
-- Each row: who, how many flags of each level, pain now vs baseline, review timing, why on the
-- agenda, open and overdue actions from every meeting to date, and what this meeting did
-- (reviewed, minutes spent). It counts each patient's flags (patient_flags.sql); the flags
-- themselves are patient_flag_lists.sql's, asked for the patients a page shows or a document
-- lists: a network's agenda runs to thousands of rows, and their flag lists were half of its
-- cost (and, on a day the store does not keep, 30 ms of the agenda page's 350 at 20,000).
-- params: $as_of, $meeting_id, $patient_ids (NULL: the whole caseload; passed to the flags and
-- the summary this builds on)
WITH
flag_lists AS (  -- each patient's flags counted by level
    SELECT patient_id,
        count(*) FILTER (WHERE level = 'urgent') AS urgent_flags,
        count(*) FILTER (WHERE level = 'review') AS review_flags,
        count(*) FILTER (WHERE level = 'info') AS info_flags
    FROM {{ patient_flags }} pf
    GROUP BY patient_id
),
summary AS (SELECT * FROM {{ patient_summary }} ps),
this_meeting AS (
    SELECT patient_id,
        min(position) FILTER (WHERE kind = 'agenda') AS fixed_position,
        bool_or(kind = 'added') AS added_by_hand,
        first(reason ORDER BY created_at) FILTER (WHERE kind = 'added') AS added_reason,
        max(created_at) FILTER (WHERE kind = 'reviewed') AS reviewed_at,
        coalesce(sum(seconds) FILTER (WHERE kind = 'discussed'), 0) AS seconds_discussed,
        count(*) FILTER (WHERE kind = 'note') AS notes,
        count(*) FILTER (WHERE kind = 'action') AS actions_agreed
    FROM review_items
    WHERE meeting_id = $meeting_id
    GROUP BY patient_id
),
actions AS (
    SELECT i.patient_id,
        count(*) FILTER (WHERE i.status = 'open') AS open_actions,
        count(*) FILTER (WHERE i.status = 'open' AND i.due_date < $as_of) AS overdue_actions
    FROM review_items i
    JOIN review_meetings m USING (meeting_id)
    WHERE i.kind = 'action' AND m.meeting_date <= $as_of
    GROUP BY i.patient_id
),
candidates AS (
    SELECT
        s.patient_id,
        s.name,
        s.primary_clinician_id,
        s.primary_clinician,
        s.primary_clinician_discipline,
        s.site,
        s.condition,
        s.in_care,
        s.baseline_nrs,
        s.current_nrs,
        s.change_points,
        s.change_pct,
        s.pain_response,
        s.last_review,
        s.last_review_kind,
        s.review_interval_days,
        s.days_since_review,
        s.days_overdue,
        s.in_care AND s.days_overdue >= 0 AS review_due,
        coalesce(f.urgent_flags, 0) AS urgent_flags,
        coalesce(f.review_flags, 0) AS review_flags,
        coalesce(f.info_flags, 0) AS info_flags,
        coalesce(t.added_by_hand, false) AS added_by_hand,
        t.added_reason,
        t.fixed_position,
        t.reviewed_at,
        coalesce(t.seconds_discussed, 0) AS seconds_discussed,
        coalesce(t.notes, 0) AS notes,
        coalesce(t.actions_agreed, 0) AS actions_agreed,
        coalesce(a.open_actions, 0) AS open_actions,
        coalesce(a.overdue_actions, 0) AS overdue_actions
    FROM summary s
    LEFT JOIN flag_lists f USING (patient_id)
    LEFT JOIN this_meeting t USING (patient_id)
    LEFT JOIN actions a USING (patient_id)
    WHERE t.patient_id IS NOT NULL
       OR (s.in_care AND (s.days_overdue >= 0 OR f.urgent_flags > 0 OR f.review_flags > 0))
)
SELECT
    row_number() OVER agenda_order AS position,
    *,
    list_filter([
        CASE WHEN urgent_flags > 0 THEN 'urgent flag' END,
        CASE WHEN review_flags > 0
            THEN review_flags || ' review flag' || CASE WHEN review_flags > 1 THEN 's' ELSE '' END END,
        CASE WHEN review_due THEN 'review due' END,
        CASE WHEN added_by_hand THEN 'added by hand' END
    ], lambda x: x IS NOT NULL) AS on_agenda_because
FROM candidates
WINDOW agenda_order AS (
    ORDER BY fixed_position IS NULL, fixed_position, urgent_flags > 0 DESC, review_flags DESC,
        days_overdue DESC NULLS LAST, patient_id
)
ORDER BY position
