-- 好差评 (modules/ratings, seed 004 1.1.1.1–1.1.1.13): cases (办件), each
-- rated once on five levels with tags, defaulted to 基本满意 when unrated for
-- seven natural days, followed up, bad ratings rectified and rated a second
-- time, and every event uploaded to the provincial system.
--
-- A case carries its own item, department, staff and region (codes and
-- names): cases come from the queue, from the hall's other business systems
-- and from Excel, and the statistics must not depend on the catalogue
-- still holding what a case named years ago. The ids reference catalogue
-- rows only loosely (no foreign key) for the same reason.

-- The tag dictionary every tenant starts from (seed 004 评价标签 with the
-- codes of its 测评内容 table; the tags the seed gives no code get codes of
-- ours in the same level-first scheme, seed_code false). Jurisdiction-wide,
-- like regions: tenants edit their own copy in rating_tags.
CREATE TABLE rating_tag_defaults (
  code      text PRIMARY KEY CHECK (code ~ '^[0-9A-Za-z_-]{1,20}$'),
  level     smallint NOT NULL CHECK (level BETWEEN 1 AND 5),
  name      text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  extended  boolean NOT NULL DEFAULT false,
  seed_code boolean NOT NULL DEFAULT true,
  sort      integer NOT NULL DEFAULT 0
);
GRANT SELECT ON rating_tag_defaults TO yamen_app;
REVOKE INSERT, UPDATE, DELETE ON rating_tag_defaults FROM yamen_app;

INSERT INTO rating_tag_defaults (code, level, name, extended, seed_code, sort) VALUES
  -- 非常满意
  ('510', 5, '一窗受理一次办结', false, true, 1),
  ('511', 5, '可以先受理后补材料', false, true, 2),
  ('512', 5, '不用提交证明', false, true, 3),
  ('513', 5, '服务态度非常好', false, false, 4),
  ('514', 5, '不用跑多个部门和窗口', false, false, 5),
  ('515', 5, '办理效率非常高', false, false, 6),
  -- 满意
  ('406', 4, '填写一张表单就可完成申报', false, true, 1),
  ('407', 4, '在线提交材料窗口核验', false, true, 2),
  ('408', 4, '一张清单告知全部申报材料', false, true, 3),
  ('409', 4, '大厅环境非常好', false, false, 4),
  ('410', 4, '导向指引清楚', false, false, 5),
  ('411', 4, '办事大厅设备配备齐全', false, false, 6),
  -- 基本满意
  ('307', 3, '一次性告知需要补正的材料', false, true, 1),
  ('308', 3, '提供申报材料样本', false, true, 2),
  ('309', 3, '在承诺的时间内办结', false, true, 3),
  -- 不满意
  ('207', 2, '没有提供材料样本', false, true, 1),
  ('208', 2, '没有提供材料清单', false, true, 2),
  ('209', 2, '未在承诺时间内办结', false, true, 3),
  ('210', 2, '承诺网办却无法网办', true, false, 4),
  ('211', 2, '办事流程复杂', true, false, 5),
  ('212', 2, '办事体验不好', true, false, 6),
  -- 非常不满意
  ('108', 1, '在办事指南之外增加新的审批条件', false, true, 1),
  ('109', 1, '需提供办事指南之外的申报材料', false, true, 2),
  ('110', 1, '无理由超过法定办理时间', false, true, 3),
  ('115', 1, '服务态度差效率低', false, true, 4),
  ('111', 1, '在办事之外增加审批条件', true, false, 5),
  ('112', 1, '需提供办事指南外的申请材料', true, false, 6),
  ('113', 1, '无理由超过承诺或法定办理时间', true, false, 7),
  ('114', 1, '多头跑窗口和部门', true, false, 8),
  ('116', 1, '办事效率非常低', true, false, 9),
  ('117', 1, '办事体验非常差', true, false, 10);

-- A tenant's edits of the dictionary: a row with a default's code replaces
-- it (renamed, or switched off with active false); other codes add tags.
CREATE TABLE rating_tags (
  tenant_id  uuid NOT NULL REFERENCES tenants (id),
  code       text NOT NULL CHECK (code ~ '^[0-9A-Za-z_-]{1,20}$'),
  -- the API always gives the level; the default only keeps generic row
  -- makers (tenants/isolation_test.go) inside the check
  level      smallint NOT NULL DEFAULT 3 CHECK (level BETWEEN 1 AND 5),
  name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  extended   boolean NOT NULL DEFAULT false,
  active     boolean NOT NULL DEFAULT true,
  sort       integer NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, code)
);
ALTER TABLE rating_tags ENABLE ROW LEVEL SECURITY;
ALTER TABLE rating_tags FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rating_tags USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

CREATE TYPE rating_case_source AS ENUM ('push', 'queue', 'import');
-- how a case was handled
CREATE TYPE rating_case_channel AS ENUM ('window', 'online', 'mobile', 'self_service', 'hotline', 'other');
CREATE TYPE rating_upload_event AS ENUM ('rating', 'follow_up', 'rectification', 'second_rating');

-- A case (办件) and its one rating (seed 004 评价次数: 每个办件只产生1次评价),
-- its follow-up (追加评价) and, denormalised for the statistics, where its
-- rectification stands.
CREATE TABLE rating_cases (
  tenant_id        uuid NOT NULL REFERENCES tenants (id),
  id               uuid NOT NULL DEFAULT gen_random_uuid(),
  case_no          text NOT NULL CHECK (case_no ~ '^[0-9A-Za-z_.:-]{1,64}$'),
  source           rating_case_source NOT NULL,
  ticket_id        uuid,
  item_id          uuid,
  item_code        text NOT NULL DEFAULT '' CHECK (length(item_code) <= 64),
  item_name        text NOT NULL CHECK (length(item_name) BETWEEN 1 AND 200),
  department_id    uuid,
  department_code  text NOT NULL DEFAULT '' CHECK (length(department_code) <= 40),
  department_name  text NOT NULL CHECK (length(department_name) BETWEEN 1 AND 200),
  window_id        uuid,
  window_number    integer,
  staff_member_id  uuid,
  staff_name       text NOT NULL DEFAULT '' CHECK (length(staff_name) <= 100),
  region_code      text NOT NULL REFERENCES regions (code),
  channel          rating_case_channel NOT NULL,
  citizen_id       uuid,
  citizen_name     text NOT NULL DEFAULT '' CHECK (length(citizen_name) <= 100),
  citizen_phone    text NOT NULL DEFAULT '' CHECK (length(citizen_phone) <= 40),
  -- the secret of the case's QR code and SMS link: anonymous rating
  rate_token       text NOT NULL,
  handled_at       timestamptz NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  -- the rating: 5 非常满意 … 1 非常不满意
  level            smallint CHECK (level BETWEEN 1 AND 5),
  tags             text[] NOT NULL DEFAULT '{}',
  comment          text NOT NULL DEFAULT '' CHECK (length(comment) <= 1000),
  rating_channel   text CHECK (rating_channel IN ('pc', 'app', 'mini_program', 'qr_code', 'sms', 'hotline', 'window_device', 'kiosk', 'system')),
  is_default       boolean NOT NULL DEFAULT false,
  anonymous        boolean NOT NULL DEFAULT false,
  rated_by         text NOT NULL DEFAULT '',
  rated_at         timestamptz,
  follow_up_level  smallint CHECK (follow_up_level BETWEEN 1 AND 5),
  follow_up_tags   text[] NOT NULL DEFAULT '{}',
  follow_up_comment text NOT NULL DEFAULT '' CHECK (length(follow_up_comment) <= 1000),
  follow_up_at     timestamptz,
  -- rectification: open, fed_back, appealed, closed; rectified_in_time
  -- once fed back
  rectify_status   text CHECK (rectify_status IN ('open', 'fed_back', 'appealed', 'closed')),
  rectified_in_time boolean,
  -- an upheld appeal (malicious or mistaken rating) takes it out of the statistics
  excluded         boolean NOT NULL DEFAULT false,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, case_no),
  CHECK ((level IS NULL) = (rated_at IS NULL)),
  CHECK (level IS NULL OR rating_channel IS NOT NULL)
);
-- the default rating's sweep: unrated cases by when they were handled
CREATE INDEX rating_cases_unrated ON rating_cases (tenant_id, handled_at) WHERE level IS NULL;
-- the statistics: covering indexes, so that a count over a period or a
-- region's subtree is an index-only scan
CREATE INDEX rating_cases_rated ON rating_cases (tenant_id, rated_at)
  INCLUDE (level, is_default, excluded, rectify_status, rectified_in_time, department_code, department_name, region_code, rating_channel, staff_member_id, staff_name)
  WHERE level IS NOT NULL;
CREATE INDEX rating_cases_region ON rating_cases (tenant_id, region_code text_pattern_ops, rated_at)
  INCLUDE (level, is_default, excluded, rectify_status, rectified_in_time)
  WHERE level IS NOT NULL;
CREATE INDEX rating_cases_citizen ON rating_cases (tenant_id, citizen_id) WHERE citizen_id IS NOT NULL;
ALTER TABLE rating_cases ENABLE ROW LEVEL SECURITY;
ALTER TABLE rating_cases FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rating_cases USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

-- A bad rating's rectification (差评整改) by the handling department, and
-- the citizen's second rating of it (二次评价), published with it.
CREATE TABLE rating_rectifications (
  tenant_id         uuid NOT NULL REFERENCES tenants (id),
  id                uuid NOT NULL DEFAULT gen_random_uuid(),
  case_id           uuid NOT NULL,
  department_id     uuid,
  department_name   text NOT NULL,
  org_id            uuid,
  deadline          timestamptz NOT NULL,
  status            text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'fed_back', 'appealed', 'closed')),
  outcome           text CHECK (outcome IN ('rectified_at_once', 'rectified_by_deadline', 'explained', 'appealed')),
  feedback          text NOT NULL DEFAULT '' CHECK (length(feedback) <= 2000),
  fed_back_by       text NOT NULL DEFAULT '',
  fed_back_at       timestamptz,
  in_time           boolean,
  appeal_upheld     boolean,
  appeal_note       text NOT NULL DEFAULT '' CHECK (length(appeal_note) <= 2000),
  appeal_decided_by text NOT NULL DEFAULT '',
  appeal_decided_at timestamptz,
  -- 二次评价: satisfied 满意, basic 基本满意, dissatisfied 不满意
  second_rating     text CHECK (second_rating IN ('satisfied', 'basic', 'dissatisfied')),
  second_rated_at   timestamptz,
  notified          integer NOT NULL DEFAULT 0,
  created_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, case_id),
  FOREIGN KEY (tenant_id, case_id) REFERENCES rating_cases (tenant_id, id)
);
CREATE INDEX rating_rectifications_status ON rating_rectifications (tenant_id, status, deadline);
ALTER TABLE rating_rectifications ENABLE ROW LEVEL SECURITY;
ALTER TABLE rating_rectifications FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rating_rectifications USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

-- What goes to the provincial 好差评 system: one row per case and event
-- (rating, follow_up, rectification, second_rating), acknowledged when the
-- province answered 2xx. The daily reconciliation lists the rest.
CREATE TABLE rating_uploads (
  tenant_id       uuid NOT NULL REFERENCES tenants (id),
  case_no         text NOT NULL,
  event           rating_upload_event NOT NULL,
  payload         jsonb NOT NULL,
  attempts        integer NOT NULL DEFAULT 0,
  last_error      text NOT NULL DEFAULT '',
  last_attempt_at timestamptz,
  acknowledged_at timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, case_no, event),
  FOREIGN KEY (tenant_id, case_no) REFERENCES rating_cases (tenant_id, case_no)
);
CREATE INDEX rating_uploads_pending ON rating_uploads (tenant_id, created_at) WHERE acknowledged_at IS NULL;
ALTER TABLE rating_uploads ENABLE ROW LEVEL SECURITY;
ALTER TABLE rating_uploads FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rating_uploads USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

-- Ratings, rectifications and what was uploaded are records.
REVOKE DELETE ON rating_cases, rating_rectifications, rating_uploads FROM yamen_app;
