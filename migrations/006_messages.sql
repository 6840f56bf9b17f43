-- The message centre (modules/messages, seed 001 1.2): templates, the
-- messages sent and one delivery per (recipient, channel).
--
-- A delivery moves created → sending → delivered, or to temporary_failure
-- (the messages:deliver task retries it with backoff) and finally to
-- permanent_failure with the reason (a 4xx from the provider, not on the
-- whitelist, or still failing after the last retry).
CREATE TYPE message_channel AS ENUM ('in_app', 'sms', 'email', 'dingtalk', 'police_phone', 'webhook');
CREATE TYPE message_delivery_status AS ENUM ('created', 'sending', 'delivered', 'temporary_failure', 'permanent_failure');
CREATE TYPE message_recipient_kind AS ENUM ('member', 'citizen');

CREATE TABLE message_templates (
  tenant_id  uuid NOT NULL REFERENCES tenants (id),
  id         uuid NOT NULL DEFAULT gen_random_uuid(),
  -- the message type other modules send by and statistics group by
  code       text NOT NULL CHECK (code ~ '^[a-z][a-z0-9_.-]{0,62}$'),
  name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  -- zh-CN text with named variables: 您好，{name}
  body       text NOT NULL CHECK (length(body) BETWEEN 1 AND 4000),
  variables  text[] NOT NULL DEFAULT '{}',
  channels   message_channel[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  updated_by text NOT NULL DEFAULT '',
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, code)
);

ALTER TABLE message_templates ENABLE ROW LEVEL SECURITY;
ALTER TABLE message_templates FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON message_templates USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

CREATE TABLE messages (
  tenant_id       uuid NOT NULL REFERENCES tenants (id),
  id              uuid NOT NULL DEFAULT gen_random_uuid(),
  -- the template code, 'direct' for free text or 'announcement' (系统公告):
  -- the message type
  kind            text NOT NULL,
  -- an announcement's title; '' for other messages
  title           text NOT NULL DEFAULT '' CHECK (length(title) <= 200),
  template_id     uuid,
  body            text NOT NULL CHECK (length(body) BETWEEN 1 AND 4000),
  channels        message_channel[] NOT NULL,
  -- the sending org (推送单位), for the statistics by org
  sender_org_id   uuid,
  -- the subject that sent it (app.subject_id)
  sent_by         text NOT NULL,
  idempotency_key text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, idempotency_key),
  FOREIGN KEY (tenant_id, template_id) REFERENCES message_templates (tenant_id, id),
  FOREIGN KEY (tenant_id, sender_org_id) REFERENCES orgs (tenant_id, id)
);
CREATE INDEX messages_created ON messages (tenant_id, created_at);

ALTER TABLE messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE messages FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON messages USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

CREATE TABLE message_deliveries (
  tenant_id       uuid NOT NULL REFERENCES tenants (id),
  id              uuid NOT NULL DEFAULT gen_random_uuid(),
  message_id      uuid NOT NULL,
  recipient_kind  message_recipient_kind NOT NULL,
  recipient_id    uuid NOT NULL,
  -- copied when sent: the records show whom it went to, even after the
  -- member's details change
  recipient_name  text NOT NULL DEFAULT '',
  recipient_phone text NOT NULL DEFAULT '',
  recipient_email text NOT NULL DEFAULT '',
  channel         message_channel NOT NULL,
  status          message_delivery_status NOT NULL DEFAULT 'created',
  attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  last_error      text NOT NULL DEFAULT '',
  created_at      timestamptz NOT NULL DEFAULT now(),
  -- when the latest attempt started; the per-minute limits count these
  attempted_at    timestamptz,
  delivered_at    timestamptz,
  failed_at       timestamptz,
  -- in-app messages: when the recipient read it
  read_at         timestamptz,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, message_id, recipient_kind, recipient_id, channel),
  FOREIGN KEY (tenant_id, message_id) REFERENCES messages (tenant_id, id)
);
CREATE INDEX message_deliveries_message ON message_deliveries (tenant_id, message_id);
CREATE INDEX message_deliveries_phone ON message_deliveries (tenant_id, recipient_phone);
CREATE INDEX message_deliveries_name ON message_deliveries (tenant_id, recipient_name);
CREATE INDEX message_deliveries_rate ON message_deliveries (tenant_id, channel, attempted_at);

ALTER TABLE message_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE message_deliveries FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON message_deliveries USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

-- Records are kept: a message and its deliveries are never deleted by the service.
REVOKE DELETE ON messages, message_deliveries FROM yamen_app;
