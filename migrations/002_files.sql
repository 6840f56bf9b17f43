-- Files: the metadata of every attachment kept in S3 (modules/files).
--
-- pending   registered, an upload URL handed out; not usable yet
-- ready     uploaded and checked: size, sniffed type and SHA-256 match the
--           registration and the purpose's limits
-- rejected  uploaded but failed the check; its object is removed
-- deleted   deleted by a user; its object is kept for the purpose's
--           retention period, then removed
-- expired   registered but never completed in time; any object is removed
--
-- purge_at is when the object is due for removal (NULL: keep it); purged_at
-- says it was removed. The sweep (files.Module.Sweep) and the files:purge
-- outbox task remove due objects, idempotently.
CREATE TYPE file_status AS ENUM ('pending', 'ready', 'rejected', 'deleted', 'expired');

CREATE TABLE files (
  tenant_id     uuid NOT NULL REFERENCES tenants (id),
  id            uuid NOT NULL DEFAULT gen_random_uuid(),
  purpose       text NOT NULL,
  -- the subject that registered the upload (app.subject_id)
  owner         text NOT NULL,
  -- the name offered on download; objects are stored under object_key
  name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
  declared_type text NOT NULL,
  sniffed_type  text NOT NULL DEFAULT '',
  size          bigint NOT NULL CHECK (size > 0),
  sha256        bytea NOT NULL CHECK (length(sha256) = 32),
  object_key    text NOT NULL,
  status        file_status NOT NULL DEFAULT 'pending',
  -- why the check refused it: [{"location": …, "message": …}]
  problems      jsonb NOT NULL DEFAULT '[]',
  created_at    timestamptz NOT NULL DEFAULT now(),
  checked_at    timestamptz,
  deleted_at    timestamptz,
  deleted_by    text,
  purge_at      timestamptz,
  purged_at     timestamptz,
  PRIMARY KEY (tenant_id, id)
);
-- What the sweep looks for: objects due for removal.
CREATE INDEX files_purge_due ON files (tenant_id, purge_at) WHERE purged_at IS NULL AND purge_at IS NOT NULL;

ALTER TABLE files ENABLE ROW LEVEL SECURITY;
ALTER TABLE files FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON files USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

-- Metadata is never deleted by the service: a file's row outlives its object.
REVOKE DELETE ON files FROM yamen_app;
