-- Booking rules, places taken, and discipline (modules/booking, seed 004
-- 预约规则管理, 违约规则, 黑白名单), on top of the appointments of 008.

-- A citizen holds one place per slot of an item: a second booking of the
-- same slot is refused, while the first is booked or checked in.
CREATE UNIQUE INDEX booking_appointments_one_per_slot ON booking_appointments (tenant_id, citizen_id, item_id, slot_start)
  WHERE status IN ('booked', 'checked_in');
-- The no-show sweep looks for booked appointments whose slot has ended.
CREATE INDEX booking_appointments_open ON booking_appointments (tenant_id, slot_end) WHERE status = 'booked';
-- When the reminder (办事提醒) went out; the reminder sweep looks for booked
-- appointments not yet reminded whose slot is near.
ALTER TABLE booking_appointments ADD COLUMN reminded_at timestamptz;
CREATE INDEX booking_appointments_unreminded ON booking_appointments (tenant_id, slot_start) WHERE status = 'booked' AND reminded_at IS NULL;

-- Booking rules (seed 004 预约规则管理) of a department (item_id NULL) or
-- of one of its items. A rule gives only what differs: a NULL column takes
-- the department's rule, then the tenant's booking settings. An item's
-- rule overrides its department's.
CREATE TABLE booking_rules (
  tenant_id             uuid NOT NULL REFERENCES tenants (id),
  id                    uuid NOT NULL DEFAULT gen_random_uuid(),
  department_id         uuid NOT NULL,
  item_id               uuid,
  slot_minutes          integer CHECK (slot_minutes BETWEEN 5 AND 240),
  capacity              integer CHECK (capacity BETWEEN 1 AND 10000),
  days_ahead            integer CHECK (days_ahead BETWEEN 1 AND 90),
  min_notice_minutes    integer CHECK (min_notice_minutes BETWEEN 0 AND 10080),
  daily_quota           integer CHECK (daily_quota BETWEEN 0 AND 1000000),
  cancel_minutes_before integer CHECK (cancel_minutes_before BETWEEN 0 AND 2880),
  working_days_only     boolean,
  -- the real-name level an item that requires real names asks for
  real_name_level       text CHECK (real_name_level IN ('real_name', 'real_person', 'in_person')),
  updated_by            text NOT NULL,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, department_id) REFERENCES catalog_departments (tenant_id, id),
  FOREIGN KEY (tenant_id, item_id) REFERENCES catalog_items (tenant_id, id)
);
CREATE UNIQUE INDEX booking_rules_department ON booking_rules (tenant_id, department_id) WHERE item_id IS NULL;
CREATE UNIQUE INDEX booking_rules_item ON booking_rules (tenant_id, item_id) WHERE item_id IS NOT NULL;
ALTER TABLE booking_rules ENABLE ROW LEVEL SECURITY;
ALTER TABLE booking_rules FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON booking_rules USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

-- Places taken per slot of an item and per day of an item. A booking takes
-- a place with one conditional upsert (booked < capacity), whose row lock
-- orders concurrent bookings of the same slot: a slot is never oversold.
CREATE TABLE booking_slot_counts (
  tenant_id  uuid NOT NULL REFERENCES tenants (id),
  item_id    uuid NOT NULL,
  slot_start timestamptz NOT NULL,
  booked     integer NOT NULL CHECK (booked >= 0),
  PRIMARY KEY (tenant_id, item_id, slot_start),
  FOREIGN KEY (tenant_id, item_id) REFERENCES catalog_items (tenant_id, id)
);
ALTER TABLE booking_slot_counts ENABLE ROW LEVEL SECURITY;
ALTER TABLE booking_slot_counts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON booking_slot_counts USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

CREATE TABLE booking_day_counts (
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  item_id   uuid NOT NULL,
  day       date NOT NULL,
  booked    integer NOT NULL CHECK (booked >= 0),
  PRIMARY KEY (tenant_id, item_id, day),
  FOREIGN KEY (tenant_id, item_id) REFERENCES catalog_items (tenant_id, id)
);
ALTER TABLE booking_day_counts ENABLE ROW LEVEL SECURITY;
ALTER TABLE booking_day_counts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON booking_day_counts USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

-- 黑白名单 (seed 004): a whitelisted citizen is never barred, a blacklisted
-- one is always barred until taken off the list.
CREATE TYPE booking_list AS ENUM ('white', 'black');
CREATE TABLE booking_list_entries (
  tenant_id  uuid NOT NULL REFERENCES tenants (id),
  citizen_id uuid NOT NULL,
  list       booking_list NOT NULL,
  note       text NOT NULL DEFAULT '' CHECK (length(note) <= 500),
  added_by   text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, citizen_id)
);
ALTER TABLE booking_list_entries ENABLE ROW LEVEL SECURITY;
ALTER TABLE booking_list_entries FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON booking_list_entries USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

-- 违约 (seed 004): a no-show. bar_id is the bar it led to: a violation
-- counts towards one bar only. voided when an appeal was upheld.
CREATE TABLE booking_violations (
  tenant_id      uuid NOT NULL REFERENCES tenants (id),
  id             uuid NOT NULL DEFAULT gen_random_uuid(),
  citizen_id     uuid NOT NULL,
  appointment_id uuid NOT NULL,
  occurred_at    timestamptz NOT NULL DEFAULT now(),
  bar_id         uuid,
  voided         boolean NOT NULL DEFAULT false,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, appointment_id),
  FOREIGN KEY (tenant_id, appointment_id) REFERENCES booking_appointments (tenant_id, id)
);
CREATE INDEX booking_violations_citizen ON booking_violations (tenant_id, citizen_id, occurred_at);
ALTER TABLE booking_violations ENABLE ROW LEVEL SECURITY;
ALTER TABLE booking_violations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON booking_violations USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

-- 违约惩戒: the citizen cannot book until ends_at, unless lifted (an
-- upheld appeal).
CREATE TABLE booking_bars (
  tenant_id   uuid NOT NULL REFERENCES tenants (id),
  id          uuid NOT NULL DEFAULT gen_random_uuid(),
  citizen_id  uuid NOT NULL,
  reason      text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
  starts_at   timestamptz NOT NULL DEFAULT now(),
  ends_at     timestamptz NOT NULL,
  lifted_at   timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX booking_bars_citizen ON booking_bars (tenant_id, citizen_id, ends_at);
ALTER TABLE booking_bars ENABLE ROW LEVEL SECURITY;
ALTER TABLE booking_bars FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON booking_bars USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

-- A citizen's appeal against a bar; staff uphold it (the bar is lifted and
-- its violations voided) or reject it.
CREATE TYPE booking_appeal_status AS ENUM ('pending', 'upheld', 'rejected');
CREATE TABLE booking_appeals (
  tenant_id   uuid NOT NULL REFERENCES tenants (id),
  id          uuid NOT NULL DEFAULT gen_random_uuid(),
  bar_id      uuid NOT NULL,
  citizen_id  uuid NOT NULL,
  reason      text NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
  status      booking_appeal_status NOT NULL DEFAULT 'pending',
  decision    text NOT NULL DEFAULT '' CHECK (length(decision) <= 1000),
  decided_by  text,
  decided_at  timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, bar_id) REFERENCES booking_bars (tenant_id, id)
);
-- One pending appeal per bar.
CREATE UNIQUE INDEX booking_appeals_pending ON booking_appeals (tenant_id, bar_id) WHERE status = 'pending';
ALTER TABLE booking_appeals ENABLE ROW LEVEL SECURITY;
ALTER TABLE booking_appeals FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON booking_appeals USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

-- Violations, bars and appeals are the record of a penalty: kept.
REVOKE DELETE ON booking_violations, booking_bars, booking_appeals FROM yamen_app;
