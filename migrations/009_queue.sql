-- Tickets (modules/queue, seed 004 取号系统 and 呼叫系统). A ticket (号票) is
-- a citizen's place in the queue of one service item in one hall: taken on
-- site (walk_in, or priority for those served first) or by checking in an
-- appointment with its QR code (appointment).
--
-- status: waiting → called (a window called it; recalls count the calls
--         after the first) → finished (a case for ratings) or no_show.
--         A transfer to another item puts a called ticket back to waiting
--         in the new item's queue, with its number and its arrival time, so
--         it keeps its place: the citizen already waited once.
CREATE TYPE queue_ticket_status AS ENUM ('waiting', 'called', 'finished', 'no_show');
CREATE TYPE queue_ticket_kind AS ENUM ('walk_in', 'appointment', 'priority');

-- The last number given per hall, prefix and service day (the day in the
-- jurisdiction's time zone, shifted by the daily reset hour): numbers count
-- up from 1 and start again each day.
CREATE TABLE queue_counters (
  tenant_id    uuid NOT NULL REFERENCES tenants (id),
  hall_id      uuid NOT NULL,
  prefix       text NOT NULL,
  service_date date NOT NULL,
  last         integer NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, hall_id, prefix, service_date),
  FOREIGN KEY (tenant_id, hall_id) REFERENCES catalog_halls (tenant_id, id)
);
ALTER TABLE queue_counters ENABLE ROW LEVEL SECURITY;
ALTER TABLE queue_counters FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON queue_counters USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

CREATE TABLE queue_tickets (
  tenant_id        uuid NOT NULL REFERENCES tenants (id),
  id               uuid NOT NULL DEFAULT gen_random_uuid(),
  hall_id          uuid NOT NULL,
  item_id          uuid NOT NULL,
  service_date     date NOT NULL,
  -- prefix and the day's count, e.g. A012
  number           text NOT NULL,
  kind             queue_ticket_kind NOT NULL DEFAULT 'walk_in',
  status           queue_ticket_status NOT NULL DEFAULT 'waiting',
  -- when the citizen joined the queue; a transfer keeps it
  queued_at        timestamptz NOT NULL DEFAULT now(),
  appointment_id   uuid,
  slot_start       timestamptz,
  slot_end         timestamptz,
  -- the citizen's Kratos identity when known (appointments), their name,
  -- and their ID number only as a keyed hash and in masked form (号票 shows
  -- 证件号码 masked): 110105********1234
  citizen_id       uuid,
  citizen_name     text NOT NULL DEFAULT '' CHECK (length(citizen_name) <= 100),
  id_number_hash   bytea,
  id_number_masked text NOT NULL DEFAULT '',
  -- asked for by GET /tickets/{id}/position, so that ticket ids alone do
  -- not reveal queues to strangers; printed in the ticket's QR code.
  -- Made from crypto/rand by the module.
  secret           text NOT NULL,
  window_id        uuid,
  called_by        uuid,
  called_at        timestamptz,
  recalls          integer NOT NULL DEFAULT 0,
  transfers        integer NOT NULL DEFAULT 0,
  finished_at      timestamptz,
  -- the subject that issued it: a kiosk's key, a member
  issued_by        text NOT NULL DEFAULT current_setting('app.subject_id', true),
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, hall_id, service_date, number),
  -- an appointment becomes one ticket, once
  UNIQUE (tenant_id, appointment_id),
  FOREIGN KEY (tenant_id, hall_id) REFERENCES catalog_halls (tenant_id, id),
  FOREIGN KEY (tenant_id, item_id) REFERENCES catalog_items (tenant_id, id),
  FOREIGN KEY (tenant_id, appointment_id) REFERENCES booking_appointments (tenant_id, id),
  FOREIGN KEY (tenant_id, window_id) REFERENCES catalog_windows (tenant_id, id),
  FOREIGN KEY (tenant_id, called_by) REFERENCES members (tenant_id, id)
);
-- call-next reads the waiting tickets of a hall in calling order, one kind
-- at a time: appointments by slot, priority tickets and everyone by arrival.
CREATE INDEX queue_tickets_waiting ON queue_tickets (tenant_id, hall_id, queued_at) WHERE status = 'waiting';
CREATE INDEX queue_tickets_waiting_slot ON queue_tickets (tenant_id, hall_id, slot_start) WHERE status = 'waiting' AND kind = 'appointment';
CREATE INDEX queue_tickets_waiting_priority ON queue_tickets (tenant_id, hall_id, queued_at) WHERE status = 'waiting' AND kind = 'priority';
-- A window serves one citizen at a time: two staff pressing call-next at
-- the same window cannot both call.
CREATE UNIQUE INDEX queue_tickets_window ON queue_tickets (tenant_id, window_id) WHERE status = 'called';
-- One waiting ticket per person and item: a kiosk is no way to hoard places.
CREATE UNIQUE INDEX queue_tickets_person ON queue_tickets (tenant_id, item_id, id_number_hash) WHERE status = 'waiting';
CREATE INDEX queue_tickets_day ON queue_tickets (tenant_id, hall_id, service_date);
ALTER TABLE queue_tickets ENABLE ROW LEVEL SECURITY;
ALTER TABLE queue_tickets FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON queue_tickets USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

-- Tickets are the hall's record of who was served where and by whom.
REVOKE DELETE ON queue_tickets FROM yamen_app;
