-- A citizen's own tickets (modules/queue citizen.go: take one, list them,
-- follow one) are found by citizen, newest first.
CREATE INDEX queue_tickets_citizen ON queue_tickets (tenant_id, citizen_id, queued_at) WHERE citizen_id IS NOT NULL;
