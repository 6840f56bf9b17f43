// Package queuetest gives queue tests a hall to queue in: a hall, a
// department, items and windows, written straight into the catalog tables
// (the catalog module owns them; its API is not what these tests are
// about), and appointments in the booking table.
package queuetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"yamen/tenants"
	"yamen/tenants/tenanttest"
)

// Hall is a hall of one department with two items, A (prefix A, real-name)
// and B (prefix B, not real-name), and windows that each handle both.
type Hall struct {
	Tenant     tenants.Tenant
	ID         uuid.UUID
	Code       string
	Department uuid.UUID
	ItemA      uuid.UUID
	ItemB      uuid.UUID
	Windows    []uuid.UUID
}

// Make writes a hall with n windows into tenant tn.
func Make(t testing.TB, db *tenants.DB, tn tenants.Tenant, windows int) Hall {
	t.Helper()
	h := Hall{Tenant: tn, Code: "H" + uuid.NewString()[:8]}
	err := db.Tx(context.Background(), tn.ID, "system", func(tx *tenants.Tx) error {
		ctx := context.Background()
		if err := tx.QueryRow(ctx, `INSERT INTO catalog_halls (tenant_id, code, name, region_code, address)
			VALUES (current_tenant(), $1, '政务服务中心𠀀', $2, '世纪大道 1 号') RETURNING id`, h.Code, tenanttest.DistrictCode).Scan(&h.ID); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO catalog_departments (tenant_id, hall_id, code, name)
			VALUES (current_tenant(), $1, $2, '公安局出入境䶮') RETURNING id`, h.ID, "D"+h.Code).Scan(&h.Department); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO catalog_items (tenant_id, code, name, department_id, ticket_prefix, real_name)
			VALUES (current_tenant(), 'ITEM-A', '护照办理', $1, 'A', true) RETURNING id`, h.Department).Scan(&h.ItemA); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO catalog_items (tenant_id, code, name, department_id, ticket_prefix, real_name)
			VALUES (current_tenant(), 'ITEM-B', '政策咨询', $1, 'B', false) RETURNING id`, h.Department).Scan(&h.ItemB); err != nil {
			return err
		}
		for i := range windows {
			var w uuid.UUID
			if err := tx.QueryRow(ctx, `INSERT INTO catalog_windows (tenant_id, hall_id, number, name, department_id, location)
				VALUES (current_tenant(), $1, $2, $3, $4, '一楼东侧') RETURNING id`, h.ID, i+1, fmt.Sprintf("%d 号窗口", i+1), h.Department).Scan(&w); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO catalog_window_items (tenant_id, window_id, item_id)
				VALUES (current_tenant(), $1, $2), (current_tenant(), $1, $3)`, w, h.ItemA, h.ItemB); err != nil {
				return err
			}
			h.Windows = append(h.Windows, w)
		}
		return nil
	})
	require.NoError(t, err)
	return h
}

// Appointment books item of the hall for a citizen, in a slot from start
// to end.
func (h Hall) Appointment(t testing.TB, db *tenants.DB, item uuid.UUID, start, end time.Time) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	err := db.Tx(context.Background(), h.Tenant.ID, "system", func(tx *tenants.Tx) error {
		return tx.QueryRow(context.Background(), `INSERT INTO booking_appointments (tenant_id, item_id, hall_id, slot_start, slot_end, citizen_id, citizen_name)
			VALUES (current_tenant(), $1, $2, $3, $4, $5, '张𠀀䶮') RETURNING id`, item, h.ID, start, end, uuid.New()).Scan(&id)
	})
	require.NoError(t, err)
	return id
}

// Status returns an appointment's status.
func (h Hall) Status(t testing.TB, db *tenants.DB, appointment uuid.UUID) string {
	t.Helper()
	var s string
	err := db.Tx(context.Background(), h.Tenant.ID, "system", func(tx *tenants.Tx) error {
		return tx.QueryRow(context.Background(), "SELECT status::text FROM booking_appointments WHERE id = $1", appointment).Scan(&s)
	})
	require.NoError(t, err)
	return s
}

// IDNumbers returns n distinct valid resident ID numbers (GB 11643).
func IDNumbers(n int) []string {
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	out := make([]string, n)
	for i := range n {
		body := fmt.Sprintf("110105%s%03d", time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i/1000).Format("20060102"), i%1000)
		sum := 0
		for j, c := range body {
			sum += int(c-'0') * weights[j]
		}
		out[i] = body + string("10X98765432"[sum%11])
	}
	return out
}
