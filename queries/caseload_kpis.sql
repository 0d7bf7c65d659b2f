-- One row: the caseload's KPIs for the period $start .. $as_of under the filters, each share with
-- its numerator and its n (the denominator): active patients on the as-of date, referrals started,
-- discharges and drop-outs in the period, sessions delivered, attendance (attended / (attended +
-- DNA + patient cancellations)), among patients in care >= 8 weeks with a baseline and a current
-- rating: meaningful (>= 30% or >= 2 points) and substantial (>= 50%) pain reduction and the
-- median change; GAS T >= 50 at the latest review; home-practice adherence; data completeness
-- (active patients with a pain rating in the last 14 days).
-- params: as caseload_patients.sql
WITH cp AS (SELECT * FROM {{ caseload_patients }} c),
outcome AS (
    SELECT * FROM cp WHERE counts_for_outcome
)
SELECT
    (SELECT count(*) FROM cp WHERE in_care) AS active_patients,
    (SELECT count(*) FROM cp WHERE start_date BETWEEN $start AND $as_of) AS referrals_started,
    (SELECT count(*) FROM cp WHERE status = 'discharged' AND end_of_care BETWEEN $start AND $as_of)
        AS discharges,
    (SELECT count(*) FROM cp WHERE status = 'dropped_out' AND end_of_care BETWEEN $start AND $as_of)
        AS dropouts,
    (SELECT sum(sessions_attended) FROM cp) AS sessions_delivered,
    (SELECT sum(sessions_attended) FROM cp) AS attendance_num,
    (SELECT sum(sessions_attended + sessions_dna + sessions_cancelled_patient) FROM cp) AS attendance_n,
    (SELECT count(*) FROM cp WHERE outcome_eligible) AS outcome_eligible,
    (SELECT count(*) FILTER (WHERE meaningful_reduction) FROM outcome)
        AS meaningful_num,
    (SELECT count(*) FILTER (WHERE substantial_reduction) FROM outcome) AS substantial_num,
    (SELECT count(*) FROM outcome) AS outcome_n,
    (SELECT round(median(change_pct), 1) FROM outcome) AS median_change_pct,
    (SELECT round(median(change_points), 1) FROM outcome) AS median_change_points,
    (SELECT count(*) FILTER (WHERE gas_t >= 50) FROM cp WHERE in_care AND gas_t IS NOT NULL)
        AS gas_met_num,
    (SELECT count(*) FROM cp WHERE in_care AND gas_t IS NOT NULL) AS gas_n,
    (SELECT sum(practice_completed_min) FROM cp) AS adherence_num,
    (SELECT sum(practice_prescribed_min) FROM cp) AS adherence_den,
    (SELECT count(*) FROM cp WHERE practice_prescribed_min > 0) AS adherence_n,
    (SELECT count(*) FILTER (WHERE rated_last_14_days) FROM cp WHERE in_care) AS completeness_num,
    (SELECT count(*) FROM cp WHERE in_care) AS completeness_n
