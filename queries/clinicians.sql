-- One row per clinician: id, name, discipline, site and role, by name (owners and attendees).
-- params: none
SELECT clinician_id, name, discipline, site, role
FROM clinicians
ORDER BY name, clinician_id
