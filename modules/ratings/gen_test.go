package ratings

import (
	"context"
	"fmt"
	"time"

	"yamen/tenants"
)

// GenerateRatings writes n rated cases into tx's tenant in one statement
// (INSERT … SELECT generate_series): 20 departments, 200 staff, every rating
// channel, levels skewed to the good end, a tenth defaults, bad ratings
// rectified in time or late or still open, over the year before now, in
// the regions under the tenant's region that have no children (the
// communities, when there are any).
func GenerateRatings(ctx context.Context, tx *tenants.Tx, n int, now time.Time) error {
	_, err := tx.Exec(ctx, `
		WITH RECURSIVE sub AS (
			SELECT code FROM regions WHERE code = (SELECT region_code FROM tenants WHERE id = current_tenant())
			UNION ALL SELECT r.code FROM regions r JOIN sub ON r.parent_code = sub.code),
		leaves AS (SELECT array_agg(code ORDER BY code) AS codes FROM sub s WHERE NOT EXISTS (SELECT 1 FROM regions c WHERE c.parent_code = s.code)),
		g AS (SELECT i, hashint4(i) AS h, hashint4(i + 7919) AS h2 FROM generate_series(1, $1) AS i)
		INSERT INTO rating_cases (tenant_id, case_no, source, item_code, item_name, department_code, department_name, staff_member_id, staff_name,
			region_code, channel, rate_token, handled_at, level, tags, rating_channel, is_default, rated_by, rated_at, rectify_status, rectified_in_time)
		SELECT current_tenant(), 'GEN-' || $3 || '-' || i, 'import', 'I' || (abs(h) % 300), '事项' || (abs(h) % 300),
			'D' || lpad((abs(h) % 20)::text, 2, '0'), '部门' || (abs(h) % 20), NULL, '人员' || (abs(h2) % 200),
			(SELECT codes[1 + abs(h2) % cardinality(codes)] FROM leaves),
			'window', 'gen', $2::timestamptz - make_interval(secs => abs(h2) % 31536000) - interval '1 hour',
			lvl, CASE WHEN lvl <= 2 THEN ARRAY[(lvl * 100 + 7)::text] ELSE '{}' END,
			CASE WHEN dflt THEN 'system' ELSE (ARRAY['pc', 'app', 'mini_program', 'qr_code', 'sms', 'hotline', 'window_device', 'kiosk'])[1 + abs(h) % 8] END,
			dflt, 'gen', $2::timestamptz - make_interval(secs => abs(h2) % 31536000),
			CASE WHEN lvl <= 2 THEN (ARRAY['open', 'fed_back', 'closed'])[1 + abs(h2) % 3] END,
			CASE WHEN lvl <= 2 AND abs(h2) % 3 > 0 THEN abs(h) % 4 > 0 END
		FROM (SELECT i, h, h2, abs(h) % 10 = 0 AS dflt,
			(CASE WHEN abs(h) % 10 = 0 THEN 3 ELSE (ARRAY[5, 5, 5, 5, 4, 4, 4, 3, 3, 2, 1])[1 + abs(h2) % 11] END)::smallint AS lvl FROM g) AS x`,
		n, now, fmt.Sprint(now.UnixNano()))
	if err != nil {
		return fmt.Errorf("ratings: generate: %w", err)
	}
	return nil
}
