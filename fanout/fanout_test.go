package fanout_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"yamen/fanout"
)

func TestSet(t *testing.T) {
	t.Parallel()
	var s fanout.Set[string, int]
	a, unsubscribeA := s.Subscribe("hall-1", 1)
	b, unsubscribeB := s.Subscribe("hall-1", 1)
	other, unsubscribeOther := s.Subscribe("hall-2", 1)
	defer unsubscribeOther()
	require.True(t, s.Wanted("hall-1"))
	require.False(t, s.Wanted("hall-3"))

	s.Publish("hall-1", 7)
	require.Equal(t, 7, <-a)
	require.Equal(t, 7, <-b)
	require.Empty(t, other, "another key's streams get nothing")

	s.Publish("hall-1", 8)
	s.Publish("hall-1", 9) // a full stream misses it; the publisher does not wait
	require.Equal(t, 8, <-a)
	require.Empty(t, a)

	unsubscribeA()
	unsubscribeB()
	require.False(t, s.Wanted("hall-1"), "the last stream gone, nobody waits")
	s.Publish("hall-1", 10) // nobody to take it: no panic, no block
}
