package catalog

import (
	"encoding/base64"
	"errors"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
)

// cursor is where a page of items ended: the sort key of its last item.
// It travels base64url-encoded as "v1|<department code>|<item code>|<id>";
// codes cannot hold "|".
type cursor struct {
	department string
	item       string
	id         uuid.UUID
}

var (
	departmentCode = regexp.MustCompile(`^[A-Za-z0-9_-]{1,40}$`)
	itemCode       = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)
	errBadCursor   = errors.New("catalog: invalid cursor")
)

func (c cursor) String() string {
	return base64.RawURLEncoding.EncodeToString([]byte("v1|" + c.department + "|" + c.item + "|" + c.id.String()))
}

// parseCursor reads a cursor a client sent back; anything but what String
// made is refused.
func parseCursor(s string) (cursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, errBadCursor
	}
	parts := strings.Split(string(raw), "|")
	if len(parts) != 4 || parts[0] != "v1" || !departmentCode.MatchString(parts[1]) || !itemCode.MatchString(parts[2]) {
		return cursor{}, errBadCursor
	}
	id, err := uuid.Parse(parts[3])
	if err != nil || id.String() != parts[3] {
		return cursor{}, errBadCursor
	}
	return cursor{department: parts[1], item: parts[2], id: id}, nil
}

func validUTF8(s string) bool { return utf8.ValidString(s) }
