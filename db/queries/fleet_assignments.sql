-- fleet: everyday questions about drivers, loads and assignments (psql -f, or paste into a client).

-- Who is on which load right now (served by the partial unique index assignments_one_active_per_driver).
SELECT d.name AS driver, d.license_number, l.origin, l.destination, l.cargo_type, a.assigned_at
FROM fleet.driver_load_assignments a
JOIN fleet.drivers d ON d.id = a.driver_id
JOIN fleet.loads l ON l.id = a.load_id
WHERE a.status = 'ASSIGNED'
ORDER BY a.assigned_at;

-- Open loads waiting for a driver, oldest first (index loads_status_created_at_idx).
SELECT id, origin, destination, cargo_type, created_at
FROM fleet.loads
WHERE status = 'OPEN'
ORDER BY created_at, id;

-- The lifecycle of one load, as fleet-api recorded it in the same transactions as the changes.
-- \set load_id '00000000-0000-0000-0000-000000000000'
SELECT type, payload, created_at
FROM fleet.load_events
WHERE load_id = :'load_id'
ORDER BY created_at, id;

-- Events the relay has not published yet (a growing number: the relay or the bus is down).
SELECT type, count(*) AS pending, min(created_at) AS oldest, max(attempts) AS most_attempts
FROM fleet.job_outbox
WHERE published_at IS NULL
GROUP BY type;

-- Completed loads per driver in the last 30 days.
SELECT d.name AS driver, count(*) AS completed
FROM fleet.driver_load_assignments a
JOIN fleet.drivers d ON d.id = a.driver_id
WHERE a.status = 'COMPLETED' AND a.completed_at > now() - interval '30 days'
GROUP BY d.name
ORDER BY completed DESC;
