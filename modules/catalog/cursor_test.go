package catalog

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func TestCursorRoundTrip(t *testing.T) {
	t.Parallel()
	c := cursor{department: "police", item: "HJ-001.a_b", id: uuid.New()}
	got, err := parseCursor(c.String())
	require.NoError(t, err)
	require.Equal(t, c, got)
	for _, bad := range []string{"", "!!", "djE", c.String() + "A"} {
		_, err := parseCursor(bad)
		require.Error(t, err, bad)
	}
}

// FuzzParseCursor: whatever a client sends back as a cursor is refused or
// read as a cursor that prints as exactly what was sent.
func FuzzParseCursor(f *testing.F) {
	f.Add(cursor{department: "police", item: "HJ-001", id: uuid.Nil}.String())
	f.Add("djF8YXxifDAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMA")
	f.Add("v1|a|b|c")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseCursor(s)
		if err != nil {
			return
		}
		if c.String() != s {
			t.Fatalf("cursor %q reads as %+v, which prints as %q", s, c, c.String())
		}
		if !departmentCode.MatchString(c.department) || !itemCode.MatchString(c.item) {
			t.Fatalf("cursor %q holds codes no item has: %+v", s, c)
		}
	})
}
