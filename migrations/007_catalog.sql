-- The hall's catalogue (modules/catalog, seed 004 系统后台管理): halls
-- (办事网点), business departments (业务部门), service items (政务服务事项),
-- windows (办事窗口) with the items each handles, and opening hours.
--
-- Booking, queue and ratings read these tables; only catalog writes them.

CREATE TABLE catalog_halls (
  tenant_id   uuid NOT NULL REFERENCES tenants (id),
  id          uuid NOT NULL DEFAULT gen_random_uuid(),
  code        text NOT NULL CHECK (code ~ '^[A-Za-z0-9_-]{1,40}$'),
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  -- where it is, down to the community (新四级): region codes of regions
  region_code text NOT NULL REFERENCES regions (code),
  address     text NOT NULL DEFAULT '' CHECK (length(address) <= 500),
  phone       text NOT NULL DEFAULT '' CHECK (length(phone) <= 40),
  active      boolean NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, code)
);
CREATE INDEX catalog_halls_region ON catalog_halls (tenant_id, region_code);
ALTER TABLE catalog_halls ENABLE ROW LEVEL SECURITY;
ALTER TABLE catalog_halls FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON catalog_halls USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

-- Opening hours: one or more periods per weekday (morning and afternoon).
-- Which dates are working days comes from the jurisdiction calendar (调休).
CREATE TABLE catalog_hall_hours (
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  hall_id   uuid NOT NULL,
  -- ISO weekday: 1 Monday … 7 Sunday
  weekday   smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),
  opens     time NOT NULL,
  closes    time NOT NULL CHECK (closes > opens),
  PRIMARY KEY (tenant_id, hall_id, weekday, opens),
  FOREIGN KEY (tenant_id, hall_id) REFERENCES catalog_halls (tenant_id, id) ON DELETE CASCADE
);
ALTER TABLE catalog_hall_hours ENABLE ROW LEVEL SECURITY;
ALTER TABLE catalog_hall_hours FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON catalog_hall_hours USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

-- A business department works in one hall; org_id links it to the tenant's
-- org tree, whose members with a department role are its managers (ratings:
-- 差评整改 goes to them).
CREATE TABLE catalog_departments (
  tenant_id   uuid NOT NULL REFERENCES tenants (id),
  id          uuid NOT NULL DEFAULT gen_random_uuid(),
  hall_id     uuid NOT NULL,
  code        text NOT NULL CHECK (code ~ '^[A-Za-z0-9_-]{1,40}$'),
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  org_id      uuid,
  active      boolean NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, code),
  FOREIGN KEY (tenant_id, hall_id) REFERENCES catalog_halls (tenant_id, id),
  FOREIGN KEY (tenant_id, org_id) REFERENCES orgs (tenant_id, id)
);
CREATE INDEX catalog_departments_hall ON catalog_departments (tenant_id, hall_id);
ALTER TABLE catalog_departments ENABLE ROW LEVEL SECURITY;
ALTER TABLE catalog_departments FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON catalog_departments USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

-- A service item (政务服务事项) as the department offers it.
CREATE TABLE catalog_items (
  tenant_id       uuid NOT NULL REFERENCES tenants (id),
  id              uuid NOT NULL DEFAULT gen_random_uuid(),
  -- the code of the city's item management system (事项编码)
  code            text NOT NULL CHECK (code ~ '^[A-Za-z0-9_.-]{1,64}$'),
  name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  department_id   uuid NOT NULL,
  -- 主题分类, e.g. 户籍办理, 社会保障
  theme           text NOT NULL DEFAULT '' CHECK (length(theme) <= 100),
  -- 法定办结时限, in working days; 0 = handled on the spot (即办件)
  time_limit_days integer NOT NULL DEFAULT 0 CHECK (time_limit_days BETWEEN 0 AND 3650),
  -- 申报材料: [{"name": "...", "copies": 1, "required": true}]
  materials       jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(materials) = 'array'),
  bookable        boolean NOT NULL DEFAULT false,
  ticketable      boolean NOT NULL DEFAULT true,
  -- whether booking and tickets need a real-name (实名) identity
  real_name       boolean NOT NULL DEFAULT true,
  -- the ticket prefix of its queue (号票前缀), e.g. A
  ticket_prefix   text NOT NULL DEFAULT 'A' CHECK (ticket_prefix ~ '^[A-Z]{1,3}$'),
  active          boolean NOT NULL DEFAULT true,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, department_id, code),
  FOREIGN KEY (tenant_id, department_id) REFERENCES catalog_departments (tenant_id, id)
);
CREATE INDEX catalog_items_department ON catalog_items (tenant_id, department_id);
CREATE INDEX catalog_items_code ON catalog_items (tenant_id, code);
ALTER TABLE catalog_items ENABLE ROW LEVEL SECURITY;
ALTER TABLE catalog_items FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON catalog_items USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

-- A window (办事窗口) of a hall: its number (序号) is what the display board
-- calls citizens to.
CREATE TABLE catalog_windows (
  tenant_id     uuid NOT NULL REFERENCES tenants (id),
  id            uuid NOT NULL DEFAULT gen_random_uuid(),
  hall_id       uuid NOT NULL,
  number        integer NOT NULL CHECK (number BETWEEN 1 AND 9999),
  name          text NOT NULL DEFAULT '' CHECK (length(name) <= 100),
  department_id uuid NOT NULL,
  location      text NOT NULL DEFAULT '' CHECK (length(location) <= 200),
  active        boolean NOT NULL DEFAULT true,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, hall_id, number),
  FOREIGN KEY (tenant_id, hall_id) REFERENCES catalog_halls (tenant_id, id),
  FOREIGN KEY (tenant_id, department_id) REFERENCES catalog_departments (tenant_id, id)
);
ALTER TABLE catalog_windows ENABLE ROW LEVEL SECURITY;
ALTER TABLE catalog_windows FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON catalog_windows USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

-- One window handles many items; many windows handle one item.
CREATE TABLE catalog_window_items (
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  window_id uuid NOT NULL,
  item_id   uuid NOT NULL,
  PRIMARY KEY (tenant_id, window_id, item_id),
  FOREIGN KEY (tenant_id, window_id) REFERENCES catalog_windows (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, item_id) REFERENCES catalog_items (tenant_id, id)
);
CREATE INDEX catalog_window_items_item ON catalog_window_items (tenant_id, item_id);
ALTER TABLE catalog_window_items ENABLE ROW LEVEL SECURITY;
ALTER TABLE catalog_window_items FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON catalog_window_items USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());
