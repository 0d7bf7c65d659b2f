-- One row per store table: its name, its group, and how many rows it holds.
-- params: none
SELECT 'clinicians' AS table_name, 'Reference data' AS table_group, count(*) AS row_count FROM clinicians
UNION ALL SELECT 'patients', 'Reference data', count(*) FROM patients
UNION ALL SELECT 'sessions', 'Session logs', count(*) FROM sessions
UNION ALL SELECT 'pain_ratings', 'Session logs', count(*) FROM pain_ratings
UNION ALL SELECT 'assessments', 'Session logs', count(*) FROM assessments
UNION ALL SELECT 'desensitization', 'Session logs', count(*) FROM desensitization
UNION ALL SELECT 'functional_tasks', 'Session logs', count(*) FROM functional_tasks
UNION ALL SELECT 'objective_measures', 'Session logs', count(*) FROM objective_measures
UNION ALL SELECT 'sleep_diary', 'Session logs', count(*) FROM sleep_diary
UNION ALL SELECT 'home_practice', 'Session logs', count(*) FROM home_practice
UNION ALL SELECT 'medications', 'Session logs', count(*) FROM medications
UNION ALL SELECT 'goals', 'Session logs', count(*) FROM goals
UNION ALL SELECT 'goal_reviews', 'Session logs', count(*) FROM goal_reviews
UNION ALL SELECT 'milestones', 'Session logs', count(*) FROM milestones
UNION ALL SELECT 'social_support', 'Session logs', count(*) FROM social_support
UNION ALL SELECT 'barriers', 'Session logs', count(*) FROM barriers
UNION ALL SELECT 'adaptations', 'Session logs', count(*) FROM adaptations
UNION ALL SELECT 'education', 'Session logs', count(*) FROM education
UNION ALL SELECT 'events', 'Session logs', count(*) FROM events
UNION ALL SELECT 'conditions', 'Session logs', count(*) FROM conditions
UNION ALL SELECT 'instruments', 'Written by the app', count(*) FROM instruments
UNION ALL SELECT 'flag_rules', 'Written by the app', count(*) FROM flag_rules
UNION ALL SELECT 'import_batches', 'Written by the app', count(*) FROM import_batches
UNION ALL SELECT 'audit_log', 'Written by the app', count(*) FROM audit_log
UNION ALL SELECT 'review_meetings', 'Written by the app', count(*) FROM review_meetings
UNION ALL SELECT 'review_items', 'Written by the app', count(*) FROM review_items
UNION ALL SELECT 'pain_daily', 'Kept by the store', count(*) FROM pain_daily
UNION ALL SELECT 'practice_daily', 'Kept by the store', count(*) FROM practice_daily
UNION ALL SELECT 'care_ends', 'Kept by the store', count(*) FROM care_ends
