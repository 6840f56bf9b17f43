-- The audit log becomes a chain per tenant (seed 002, 服务器设备日志/访问控制
-- 信息完整性: HMAC-SM3 integrity of logs and access-control records).
--
-- Every record carries seq (1, 2, 3 … within its tenant, no gaps), prev_mac
-- (the mac of record seq - 1, empty for seq 1) and mac: HMAC-SM3 under the
-- key YAMEN_AUDIT_KEY over the record's content and prev_mac. The service
-- computes the mac (PostgreSQL has no SM3, and the key never reaches the
-- database); tenants.Audit describes the content, tenants.VerifyAudit walks
-- the chain.
--
-- audit_heads holds each tenant's last seq and mac. tenants.Audit locks the
-- tenant's head row (FOR UPDATE) before it writes a record and moves the head
-- in the same statement as the insert, so two transactions auditing at once
-- in one tenant queue up instead of forking the chain; UNIQUE (tenant_id,
-- seq) makes a fork impossible even if that locking were ever bypassed.
--
-- Records written before this migration cannot be sealed by SQL. They keep
-- their place as the chain's genesis: numbered 1..n in id order with empty
-- prev_mac and mac ("unsealed"), and the tenant's head starts at seq n with
-- an empty mac, so the first sealed record is n + 1 and links to ''. The
-- verifier accepts unsealed records only as a prefix of the chain and
-- reports how many there are; the CHECK below (NOT VALID: old rows are not
-- checked, every new or changed row is) lets no unsealed record in later.

ALTER TABLE audit_log
  ADD COLUMN seq bigint,
  ADD COLUMN prev_mac bytea,
  ADD COLUMN mac bytea;

-- FORCE ROW LEVEL SECURITY binds the owner too: lift it for the numbering of
-- the old rows (the migration is one transaction; nobody sees the gap).
ALTER TABLE audit_log NO FORCE ROW LEVEL SECURITY;
UPDATE audit_log a SET seq = n.seq, prev_mac = '', mac = ''
FROM (SELECT tenant_id, id, row_number() OVER (PARTITION BY tenant_id ORDER BY id) AS seq FROM audit_log) n
WHERE a.tenant_id = n.tenant_id AND a.id = n.id;

ALTER TABLE audit_log
  ALTER COLUMN seq SET NOT NULL,
  ALTER COLUMN prev_mac SET NOT NULL,
  ALTER COLUMN mac SET NOT NULL,
  ADD CONSTRAINT audit_log_seq_positive CHECK (seq > 0),
  ADD CONSTRAINT audit_log_prev_mac_length CHECK (length(prev_mac) IN (0, 32)),
  ADD CONSTRAINT audit_log_seq_unique UNIQUE (tenant_id, seq);
ALTER TABLE audit_log ADD CONSTRAINT audit_log_sealed CHECK (length(mac) = 32) NOT VALID;

CREATE TABLE audit_heads (
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  seq       bigint NOT NULL CHECK (seq >= 0),
  mac       bytea NOT NULL CHECK (length(mac) IN (0, 32)),
  PRIMARY KEY (tenant_id)
);

INSERT INTO audit_heads (tenant_id, seq, mac)
SELECT tenant_id, max(seq), '' FROM audit_log GROUP BY tenant_id;

ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
ALTER TABLE audit_heads ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_heads FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_heads
  USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

-- The service moves heads forward; it never removes one.
REVOKE DELETE, TRUNCATE ON audit_heads FROM yamen_app;
