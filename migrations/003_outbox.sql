-- What the worker needs of the database (worker/): the outbox relay and the
-- schedules.
--
-- The relay reads the outbox as yamen_app, under row level security, so it
-- can only look tenant by tenant: a NOTIFY naming the tenant tells it where
-- to look, and a periodic sweep over the tenants catches what a lost
-- notification would miss. The schedules (one per enabled tenant and module
-- schedule) are re-read for a tenant when a NOTIFY says its modules changed.

-- The queue a task goes to; '' means the one its type declares.
ALTER TABLE outbox ADD COLUMN queue text NOT NULL DEFAULT ''
  CHECK (queue IN ('', 'critical', 'default', 'low'));

-- The relay's two questions of a tenant: which rows are due, oldest first,
-- and when the next one falls due.
DROP INDEX outbox_due;
CREATE INDEX outbox_due ON outbox (tenant_id, run_at) WHERE enqueued_at IS NULL;

-- A NOTIFY is delivered when the transaction commits, never when it rolls
-- back, and identical ones of a transaction arrive once: one per tenant
-- however many rows the transaction wrote.
CREATE FUNCTION outbox_notify() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  PERFORM pg_notify('yamen_outbox', tenant_id::text) FROM (SELECT DISTINCT tenant_id FROM inserted) AS t;
  RETURN NULL;
END $$;

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
  REFERENCING NEW TABLE AS inserted
  FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

-- A module enabled, disabled or reconfigured, or a tenant suspended or
-- activated: the schedules of that tenant are read again.
CREATE FUNCTION tenant_modules_notify() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  PERFORM pg_notify('yamen_modules', coalesce(NEW.tenant_id, OLD.tenant_id)::text);
  RETURN NULL;
END $$;

CREATE TRIGGER tenant_modules_notify AFTER INSERT OR UPDATE OR DELETE ON tenant_modules
  FOR EACH ROW EXECUTE FUNCTION tenant_modules_notify();

CREATE FUNCTION tenants_notify() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  PERFORM pg_notify('yamen_modules', NEW.id::text);
  RETURN NULL;
END $$;

CREATE TRIGGER tenants_notify AFTER UPDATE OF status ON tenants
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION tenants_notify();
