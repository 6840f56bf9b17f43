-- Which tenants a Kratos staff identity is active staff of, in one query:
-- the start page and GET /v1/me used to ask every tenant in turn, each
-- behind its own row level security. staff_identities is a cross-tenant
-- index (like tenants itself), kept by a trigger on members. yamen_app
-- cannot read it: only identity_tenants(identity) answers, with the tenant
-- ids of the identity given, which the caller proved with its session. The
-- members themselves are still read per tenant, under RLS.
CREATE TABLE staff_identities (
  identity uuid NOT NULL,
  tenant   uuid NOT NULL REFERENCES tenants (id),
  member   uuid NOT NULL,
  PRIMARY KEY (identity, tenant)
);
REVOKE ALL ON staff_identities FROM yamen_app;

CREATE FUNCTION staff_identities_sync() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = yamen, pg_temp
AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    DELETE FROM staff_identities WHERE tenant = OLD.tenant_id AND member = OLD.id;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.identity_id IS NOT NULL AND NEW.status = 'active' THEN
    INSERT INTO staff_identities (identity, tenant, member) VALUES (NEW.identity_id, NEW.tenant_id, NEW.id)
    ON CONFLICT (identity, tenant) DO UPDATE SET member = EXCLUDED.member;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER members_staff_identities AFTER INSERT OR UPDATE OF identity_id, status OR DELETE ON members
  FOR EACH ROW EXECUTE FUNCTION staff_identities_sync();

-- The owner reads every tenant's members once, to fill the index.
ALTER TABLE members NO FORCE ROW LEVEL SECURITY;
INSERT INTO staff_identities (identity, tenant, member)
  SELECT identity_id, tenant_id, id FROM members WHERE identity_id IS NOT NULL AND status = 'active'
  ON CONFLICT DO NOTHING;
ALTER TABLE members FORCE ROW LEVEL SECURITY;

CREATE FUNCTION identity_tenants(identity uuid) RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = yamen, pg_temp
AS $$ SELECT s.tenant FROM staff_identities s WHERE s.identity = identity_tenants.identity $$;

REVOKE ALL ON FUNCTION identity_tenants(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION staff_identities_sync() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION identity_tenants(uuid) TO yamen_app;
