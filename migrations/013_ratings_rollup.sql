-- The statistics of 好差评 over a year of ratings (issue 7: 1,000,000
-- ratings, drill-down to communities, p95 under 300 ms) read a monthly
-- rollup for the closed days and the base table only for the rest.
--
-- Why monthly and not daily: a year of 1,000,000 ratings is about 2,700 a
-- day, spread over 128 communities, 20 departments and the channels — a
-- daily row per (community, department) holds about one rating and reduces
-- nothing. A month per (community, department) holds about 30.
--
-- Why closed days only: every rating of a day would otherwise increment the
-- same few rows (one hall, one department, today), and 64 concurrent
-- ratings would queue on their row locks. A nightly task rolls up the days
-- that ended (ratings:rollup); the statistics count today, and the
-- partial months at the edges of a period, from rating_cases. Changes to a
-- rating already rolled up (a department's feedback, an upheld appeal, a
-- rating given with a past time) adjust the rollup in their transaction:
-- those are staff actions, few and spread over many rows.

-- Where the rollup of a tenant stands: the days up to and including
-- `through` (in `tz`, the jurisdiction's time zone) are in rating_rollup.
-- Rebuilding locks this row; changes to rolled-up ratings share it.
CREATE TABLE rating_rollup_state (
  tenant_id  uuid NOT NULL REFERENCES tenants (id),
  through    date NOT NULL,
  tz         text NOT NULL,
  rebuilt_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id)
);
ALTER TABLE rating_rollup_state ENABLE ROW LEVEL SECURITY;
ALTER TABLE rating_rollup_state FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rating_rollup_state USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

-- The counts of a month (its first day, local) per community (the case's
-- region code) and department. Ratings taken out by an upheld appeal are
-- not counted; the defaults are counted among the 基本满意 and in
-- `defaults`, so that leaving them out is a subtraction.
CREATE TABLE rating_rollup (
  tenant_id         uuid NOT NULL REFERENCES tenants (id),
  month             date NOT NULL,
  region_code       text NOT NULL,
  department_code   text NOT NULL,
  department_name   text NOT NULL DEFAULT '',
  total             integer NOT NULL DEFAULT 0,
  very_satisfied    integer NOT NULL DEFAULT 0,
  satisfied         integer NOT NULL DEFAULT 0,
  basic             integer NOT NULL DEFAULT 0,
  dissatisfied      integer NOT NULL DEFAULT 0,
  very_dissatisfied integer NOT NULL DEFAULT 0,
  defaults          integer NOT NULL DEFAULT 0,
  rectified         integer NOT NULL DEFAULT 0,
  rectified_in_time integer NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, month, region_code, department_code)
);
CREATE INDEX rating_rollup_region ON rating_rollup (tenant_id, region_code text_pattern_ops, month);
ALTER TABLE rating_rollup ENABLE ROW LEVEL SECURITY;
ALTER TABLE rating_rollup FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rating_rollup USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

-- The same counts per community and rating channel (by=channel): a table
-- of its own, since a key of community, department and channel would hold
-- a few ratings a row.
CREATE TABLE rating_rollup_channel (
  tenant_id         uuid NOT NULL REFERENCES tenants (id),
  month             date NOT NULL,
  region_code       text NOT NULL,
  rating_channel    text NOT NULL,
  total             integer NOT NULL DEFAULT 0,
  very_satisfied    integer NOT NULL DEFAULT 0,
  satisfied         integer NOT NULL DEFAULT 0,
  basic             integer NOT NULL DEFAULT 0,
  dissatisfied      integer NOT NULL DEFAULT 0,
  very_dissatisfied integer NOT NULL DEFAULT 0,
  defaults          integer NOT NULL DEFAULT 0,
  rectified         integer NOT NULL DEFAULT 0,
  rectified_in_time integer NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, month, region_code, rating_channel)
);
CREATE INDEX rating_rollup_channel_region ON rating_rollup_channel (tenant_id, region_code text_pattern_ops, month);
ALTER TABLE rating_rollup_channel ENABLE ROW LEVEL SECURITY;
ALTER TABLE rating_rollup_channel FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rating_rollup_channel USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

-- Statistics by staff drill down from a department (by=staff&department=…),
-- often within a region: an index-only scan of that department's ratings.
CREATE INDEX rating_cases_department ON rating_cases (tenant_id, department_code, region_code text_pattern_ops, rated_at)
  INCLUDE (level, is_default, excluded, rectify_status, rectified_in_time, staff_member_id, staff_name)
  WHERE level IS NOT NULL;
