package calendar

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"yamen/tenants"
)

// A year is read once, again after the TTL, and again after Invalidate.
func TestYearsAreCached(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reads := map[int]int{}
	c := newCalendar(func(_ context.Context, from, _ time.Time) ([]tenants.CalendarDay, error) {
		reads[from.Year()]++
		return []tenants.CalendarDay{{Day: time.Date(from.Year(), 1, 1, 0, 0, 0, 0, time.UTC), Kind: Holiday}}, nil
	}, time.UTC)
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	c.now = func() time.Time { return now }

	for range 3 {
		ok, err := c.IsWorkingDay(ctx, time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
		require.NoError(t, err)
		require.False(t, ok)
	}
	_, err := c.AddWorkingDays(ctx, time.Date(2026, 12, 30, 0, 0, 0, 0, time.UTC), 3)
	require.NoError(t, err)
	require.Equal(t, map[int]int{2026: 1, 2027: 1}, reads)

	now = now.Add(DefaultTTL)
	_, err = c.IsWorkingDay(ctx, now)
	require.NoError(t, err)
	require.Equal(t, 2, reads[2026], "read again after the TTL")

	c.Invalidate()
	_, err = c.IsWorkingDay(ctx, now)
	require.NoError(t, err)
	require.Equal(t, 3, reads[2026], "read again after Invalidate")
}
