package queue_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"yamen/modules/queue"
	"yamen/modules/queue/queuetest"
	"yamen/tenants"
	"yamen/tenants/tenanttest"
)

// A citizen takes a walk-in ticket in their own name: a real-name item
// needs a verified ID number (refused, saying so, without one), one waiting
// ticket per item, and only they see where it stands.
func TestTakeTicketAsCitizen(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tn := tenanttest.Tenant(t, tenants.KindAffairsHall, "catalog", "queue")
	h := queuetest.Make(t, b.db, tn, 1)
	ctx := context.Background()
	// Only real-name items need the ID number.
	_, err := tx(t, b, tn, func(tx *tenants.Tx) (any, error) {
		_, err := tx.Exec(ctx, `UPDATE tenant_modules SET settings = settings || '{"verify_identity": false}' WHERE module = 'queue'`)
		return nil, err
	})
	require.NoError(t, err)
	take := func(who queue.CitizenIdentity, item uuid.UUID) (queue.Ticket, error) {
		return tx(t, b, tn, func(tx *tenants.Tx) (queue.Ticket, error) {
			return b.m.TakeTicketAsCitizen(ctx, tx, who, item.String())
		})
	}
	ids := queuetest.IDNumbers(1)
	unverified := queue.CitizenIdentity{ID: uuid.New(), Name: "王𠀀", IDNumber: ids[0], RealNameLevel: "none"}

	_, err = take(unverified, h.ItemA)
	require.Equal(t, http.StatusForbidden, status(err))
	require.ErrorContains(t, err, "实名")

	tk, err := take(unverified, h.ItemB)
	require.NoError(t, err)
	require.Equal(t, "walk_in", tk.Kind)
	require.Equal(t, "王𠀀", tk.CitizenName)
	require.Empty(t, tk.IDNumber, "an unverified ID number is not put on the ticket")
	_, err = take(unverified, h.ItemB)
	require.Equal(t, http.StatusConflict, status(err), "one waiting ticket per item")

	verified := queue.CitizenIdentity{ID: uuid.New(), Name: "李䶮", IDNumber: ids[0], RealNameLevel: "real_name"}
	ta, err := take(verified, h.ItemA)
	require.NoError(t, err)
	require.Contains(t, ta.IDNumber, "*", "the ID number is masked")

	r, err := b.db.Reader(tn.ID, "system")
	require.NoError(t, err)
	mine, err := queue.CitizenTickets(ctx, r, unverified.ID, time.Now())
	require.NoError(t, err)
	require.Len(t, mine, 1)
	require.Equal(t, tk.ID, mine[0].ID)
	pos, err := queue.CitizenPosition(ctx, r, unverified.ID, tk.ID)
	require.NoError(t, err)
	require.Equal(t, "waiting", pos.Status)
	require.Equal(t, 0, pos.WaitingAhead)
	_, err = queue.CitizenPosition(ctx, r, verified.ID, tk.ID)
	require.Equal(t, http.StatusNotFound, status(err), "another citizen's ticket is unknown")

	// A different tenant sees nothing.
	other := tenanttest.Tenant(t, tenants.KindAffairsHall, "catalog", "queue")
	ro, err := b.db.Reader(other.ID, "system")
	require.NoError(t, err)
	none, err := queue.CitizenTickets(ctx, ro, unverified.ID, time.Now())
	require.NoError(t, err)
	require.Empty(t, none)
	_, err = queue.CitizenPosition(ctx, ro, unverified.ID, tk.ID)
	require.Equal(t, http.StatusNotFound, status(err))
}
