-- Appointments (modules/booking, seed 004 预约系统). An appointment is a
-- citizen's booking of one slot of one service item. It is never deleted:
-- a cancelled one keeps its reason, a missed one becomes a no-show.
--
-- status: booked → checked_in (the queue turned it into a ticket, once)
--         booked → cancelled (by the citizen, inside the allowed window)
--         booked → no_show (not checked in by the slot's end plus the grace)
CREATE TYPE booking_status AS ENUM ('booked', 'checked_in', 'cancelled', 'no_show');

CREATE TABLE booking_appointments (
  tenant_id       uuid NOT NULL REFERENCES tenants (id),
  id              uuid NOT NULL DEFAULT gen_random_uuid(),
  item_id         uuid NOT NULL,
  hall_id         uuid NOT NULL,
  slot_start      timestamptz NOT NULL,
  slot_end        timestamptz NOT NULL CHECK (slot_end > slot_start),
  -- the citizen's Ory Kratos identity, and what they booked under
  citizen_id      uuid NOT NULL,
  citizen_name    text NOT NULL CHECK (length(citizen_name) BETWEEN 1 AND 100),
  citizen_phone   text NOT NULL DEFAULT '',
  status          booking_status NOT NULL DEFAULT 'booked',
  cancel_reason   text NOT NULL DEFAULT '' CHECK (length(cancel_reason) <= 500),
  cancelled_at    timestamptz,
  checked_in_at   timestamptz,
  idempotency_key text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, citizen_id, idempotency_key),
  FOREIGN KEY (tenant_id, item_id) REFERENCES catalog_items (tenant_id, id),
  FOREIGN KEY (tenant_id, hall_id) REFERENCES catalog_halls (tenant_id, id)
);
CREATE INDEX booking_appointments_slot ON booking_appointments (tenant_id, item_id, slot_start);
CREATE INDEX booking_appointments_citizen ON booking_appointments (tenant_id, citizen_id, slot_start);
ALTER TABLE booking_appointments ENABLE ROW LEVEL SECURITY;
ALTER TABLE booking_appointments FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON booking_appointments USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

-- Cancelled bookings are kept.
REVOKE DELETE ON booking_appointments FROM yamen_app;
