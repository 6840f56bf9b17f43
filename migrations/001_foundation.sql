-- The foundation: the jurisdiction, its regions and calendar, tenants and what
-- every tenant has (modules, orgs, members, roles, keys, audit, outbox).
--
-- Runs as yamen_owner (see migrations.Migrate). Every table carrying tenant_id
-- has tenant_id leading its primary key, row level security enabled and forced,
-- and the tenant_isolation policy; foreign keys between tenant tables include
-- tenant_id. tenants/schema_test.go checks all of that for every table.

-- yamen_app reads and writes rows; it never owns, creates or alters anything.
ALTER DEFAULT PRIVILEGES IN SCHEMA yamen GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO yamen_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA yamen GRANT USAGE, SELECT ON SEQUENCES TO yamen_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA yamen GRANT EXECUTE ON FUNCTIONS TO yamen_app;

-- The tenant of the current transaction. NULLIF because a setting that was
-- set and then went out of scope reads as '' rather than NULL; either way the
-- comparison is NULL and the policy admits no row.
CREATE FUNCTION current_tenant() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid $$;

CREATE TYPE tenant_kind AS ENUM ('police_bureau', 'affairs_hall', 'credit_center', 'other');
CREATE TYPE tenant_status AS ENUM ('active', 'suspended');
CREATE TYPE org_kind AS ENUM (
  'bureau', 'branch', 'station', 'police_area',   -- 市局 → 分县局 → 派出所 → 警务区
  'center', 'department', 'window',               -- 政务服务中心 → 部门 → 窗口
  'office', 'team', 'other');
CREATE TYPE data_scope AS ENUM ('all', 'org_subtree', 'org', 'self', 'custom');
CREATE TYPE member_status AS ENUM ('active', 'inactive');
CREATE TYPE calendar_day_kind AS ENUM ('holiday', 'workday');

-- GB/T 2260 codes (6 digits: province, city, county) extended with the
-- 9-digit town/street and 12-digit community codes of the statistics office,
-- so statistics can go down the 新四级 levels.
CREATE TABLE regions (
  code        text PRIMARY KEY CHECK (code ~ '^[0-9]{6}([0-9]{3}([0-9]{3})?)?$'),
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  parent_code text REFERENCES regions (code),
  level       smallint NOT NULL CHECK (level BETWEEN 1 AND 5)
);
CREATE INDEX regions_parent ON regions (parent_code);

CREATE TABLE jurisdiction (
  singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  name        text NOT NULL,
  region_code text NOT NULL REFERENCES regions (code),
  time_zone   text NOT NULL DEFAULT 'Asia/Shanghai',
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Only the exceptions to Monday–Friday: public holidays, and the weekend days
-- that are working days (调休 make-up days).
CREATE TABLE calendar (
  day  date PRIMARY KEY,
  kind calendar_day_kind NOT NULL,
  name text NOT NULL DEFAULT ''
);

CREATE TABLE tenants (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z][a-z0-9-]{0,38}[a-z0-9]$' AND slug !~ '--'),
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  kind        tenant_kind NOT NULL,
  region_code text NOT NULL REFERENCES regions (code),
  status      tenant_status NOT NULL DEFAULT 'active',
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tenant_modules (
  tenant_id  uuid NOT NULL REFERENCES tenants (id),
  module     text NOT NULL,
  entitled   boolean NOT NULL DEFAULT false,
  enabled    boolean NOT NULL DEFAULT false,
  settings   jsonb NOT NULL DEFAULT '{}',
  updated_at timestamptz NOT NULL DEFAULT now(),
  updated_by text NOT NULL DEFAULT '',
  PRIMARY KEY (tenant_id, module),
  CHECK (entitled OR NOT enabled)
);

CREATE TABLE orgs (
  tenant_id   uuid NOT NULL REFERENCES tenants (id),
  id          uuid NOT NULL DEFAULT gen_random_uuid(),
  parent_id   uuid,
  -- one label per ancestor: the ancestor's id without dashes
  path        ltree NOT NULL,
  code        text NOT NULL,
  name        text NOT NULL,
  kind        org_kind NOT NULL DEFAULT 'other',
  region_code text REFERENCES regions (code),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, code),
  FOREIGN KEY (tenant_id, parent_id) REFERENCES orgs (tenant_id, id)
);
CREATE INDEX orgs_path ON orgs USING gist (path);
CREATE INDEX orgs_parent ON orgs (tenant_id, parent_id);

CREATE TABLE members (
  tenant_id   uuid NOT NULL REFERENCES tenants (id),
  id          uuid NOT NULL DEFAULT gen_random_uuid(),
  org_id      uuid NOT NULL,
  name        text NOT NULL,
  email       text,
  phone       text,
  badge_no    text,
  -- the Ory Kratos identity this member signs in as (linked by the tenant admin)
  identity_id uuid,
  -- an auxiliary (辅警) hangs under the officer who sponsors them
  sponsor_id  uuid,
  status      member_status NOT NULL DEFAULT 'active',
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, identity_id),
  FOREIGN KEY (tenant_id, org_id) REFERENCES orgs (tenant_id, id),
  FOREIGN KEY (tenant_id, sponsor_id) REFERENCES members (tenant_id, id),
  CHECK (sponsor_id IS DISTINCT FROM id)
);
CREATE INDEX members_org ON members (tenant_id, org_id);

CREATE TABLE roles (
  tenant_id     uuid NOT NULL REFERENCES tenants (id),
  id            uuid NOT NULL DEFAULT gen_random_uuid(),
  name          text NOT NULL,
  description   text NOT NULL DEFAULT '',
  permissions   text[] NOT NULL DEFAULT '{}',
  data_scope    data_scope NOT NULL DEFAULT 'self',
  scope_org_ids uuid[] NOT NULL DEFAULT '{}',
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, name),
  CHECK (data_scope = 'custom' OR cardinality(scope_org_ids) = 0)
);

CREATE TABLE member_roles (
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  member_id uuid NOT NULL,
  role_id   uuid NOT NULL,
  PRIMARY KEY (tenant_id, member_id, role_id),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, role_id) REFERENCES roles (tenant_id, id)
);
CREATE INDEX member_roles_role ON member_roles (tenant_id, role_id);

-- Keys of integrators and tenant admins. The secret is kept only as its
-- SHA-256: it is 256 random bits, so a slow hash would add nothing.
CREATE TABLE api_keys (
  tenant_id    uuid NOT NULL REFERENCES tenants (id),
  id           uuid NOT NULL DEFAULT gen_random_uuid(),
  name         text NOT NULL,
  secret_hash  bytea NOT NULL CHECK (length(secret_hash) = 32),
  scopes       text[] NOT NULL DEFAULT '{}',
  expires_at   timestamptz,
  last_used_at timestamptz,
  revoked_at   timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now(),
  created_by   text NOT NULL DEFAULT '',
  PRIMARY KEY (tenant_id, id)
);

-- Keys of platform admins: not in any tenant.
CREATE TABLE platform_keys (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name         text NOT NULL,
  secret_hash  bytea NOT NULL CHECK (length(secret_hash) = 32),
  expires_at   timestamptz,
  last_used_at timestamptz,
  revoked_at   timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE audit_log (
  tenant_id  uuid NOT NULL REFERENCES tenants (id),
  id         bigint GENERATED ALWAYS AS IDENTITY,
  at         timestamptz NOT NULL DEFAULT now(),
  subject    text NOT NULL,
  action     text NOT NULL,
  target     text NOT NULL DEFAULT '',
  details    jsonb NOT NULL DEFAULT '{}',
  request_id text NOT NULL DEFAULT '',
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX audit_log_at ON audit_log (tenant_id, at DESC);

-- Work to do after a transaction commits; the relay moves due rows to asynq
-- with the row id as the task id.
CREATE TABLE outbox (
  tenant_id   uuid NOT NULL REFERENCES tenants (id),
  id          uuid NOT NULL DEFAULT gen_random_uuid(),
  task_type   text NOT NULL,
  payload     jsonb NOT NULL DEFAULT '{}',
  run_at      timestamptz NOT NULL DEFAULT now(),
  dedupe_key  text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  enqueued_at timestamptz,
  attempts    integer NOT NULL DEFAULT 0,
  last_error  text NOT NULL DEFAULT '',
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, task_type, dedupe_key)
);
CREATE INDEX outbox_due ON outbox (run_at) WHERE enqueued_at IS NULL;

-- Isolation, the same for every tenant table.
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['tenant_modules', 'orgs', 'members', 'roles', 'member_roles',
                           'api_keys', 'audit_log', 'outbox'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant())', t);
  END LOOP;
END $$;

-- The audit trail is append-only for the service.
REVOKE UPDATE, DELETE ON audit_log FROM yamen_app;
