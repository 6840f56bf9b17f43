-- Uploads to the province are pushed in batches by a schedule
-- (modules/ratings push.go) rather than one outbox task per event: the
-- pending rows of rating_uploads, written in the transaction that records
-- the event, are the queue. due_at is when an event is next tried; a failure
-- moves it out by the backoff.
ALTER TABLE rating_uploads ADD COLUMN due_at timestamptz NOT NULL DEFAULT now();
DROP INDEX rating_uploads_pending;
CREATE INDEX rating_uploads_due ON rating_uploads (tenant_id, due_at) WHERE acknowledged_at IS NULL;
