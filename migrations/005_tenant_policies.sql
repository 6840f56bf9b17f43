-- A tenant's own rego (package yamen.tenant.<slug>), every version kept so an
-- admin can roll back to any of them; at most one is active.
CREATE TABLE tenant_policies (
  tenant_id   uuid NOT NULL REFERENCES tenants (id),
  version     integer NOT NULL CHECK (version > 0),
  source      text NOT NULL,
  sha256      bytea NOT NULL,
  report      jsonb NOT NULL DEFAULT '{}',
  active      boolean NOT NULL DEFAULT false,
  uploaded_by text NOT NULL DEFAULT '',
  uploaded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, version)
);
CREATE UNIQUE INDEX tenant_policies_one_active ON tenant_policies (tenant_id) WHERE active;

ALTER TABLE tenant_policies ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_policies FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_policies
  USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());
