// Package pass is the check-in pass of an appointment: the token its QR code
// carries (seed 004 预约二维码, 扫码取号). The booking module issues it; the
// queue module verifies it at the kiosk or window and turns the appointment
// into a ticket. A pass is signed with HMAC-SM3, valid only until its slot
// ends, and names its tenant so a pass of one tenant is refused in another.
// That it is used once is the queue's to enforce: checking in moves the
// appointment from booked to checked_in, which happens only once.
package pass

import (
	"crypto/hmac"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/google/uuid"

	"yamen/tenants"
)

// Claim is what a pass asserts.
type Claim struct {
	Tenant      uuid.UUID
	Appointment uuid.UUID
	// Expires is when the pass stops being accepted: the end of its slot
	// (plus whatever grace booking allows).
	Expires time.Time
}

// prefix versions the format, so a later one can be told apart.
const prefix = "yp1."

// MinKeyBytes is the shortest signing key accepted.
const MinKeyBytes = 16

// The ways a pass is refused. Callers map them to messages for people.
var (
	ErrMalformed = errors.New("pass: malformed")
	ErrForged    = errors.New("pass: signature does not match")
	ErrExpired   = errors.New("pass: expired")
)

const payloadLen = 16 + 16 + 8

// Sign returns the token of c under key.
func Sign(key []byte, c Claim) string {
	p := make([]byte, payloadLen)
	copy(p, c.Tenant[:])
	copy(p[16:], c.Appointment[:])
	binary.BigEndian.PutUint64(p[32:], uint64(c.Expires.Unix()))
	enc := base64.RawURLEncoding
	return prefix + enc.EncodeToString(p) + "." + enc.EncodeToString(mac(key, p))
}

// Verify checks token under key at now and returns its claim.
func Verify(key []byte, token string, now time.Time) (Claim, error) {
	rest, ok := strings.CutPrefix(token, prefix)
	if !ok {
		return Claim{}, ErrMalformed
	}
	body, sig, ok := strings.Cut(rest, ".")
	if !ok {
		return Claim{}, ErrMalformed
	}
	// Strict: one claim has exactly one token.
	enc := base64.RawURLEncoding.Strict()
	p, err := enc.DecodeString(body)
	if err != nil || len(p) != payloadLen {
		return Claim{}, ErrMalformed
	}
	s, err := enc.DecodeString(sig)
	if err != nil {
		return Claim{}, ErrMalformed
	}
	if !hmac.Equal(s, mac(key, p)) {
		return Claim{}, ErrForged
	}
	c := Claim{Expires: time.Unix(int64(binary.BigEndian.Uint64(p[32:])), 0)}
	copy(c.Tenant[:], p[:16])
	copy(c.Appointment[:], p[16:32])
	if !now.Before(c.Expires) {
		return c, fmt.Errorf("%w at %s", ErrExpired, c.Expires.Format(time.RFC3339))
	}
	return c, nil
}

func mac(key, p []byte) []byte {
	h := hmac.New(sm3.New, key)
	h.Write(p)
	return h.Sum(nil)
}

// Setting is the environment variable holding the signing key; the booking
// module signs and the queue module verifies with the same key.
const Setting = "YAMEN_PASS_KEY"

// DevKey is Setting's default: public, for development and tests only.
const DevKey = "DevOnlyCheckInPassKeyNotSecretNotProduction0"

// KeyFrom reads the key from setting (config's env lookup): hex or base64,
// or DevKey when unset.
func KeyFrom(setting func(string) string) ([]byte, error) {
	raw := DevKey
	if setting != nil {
		if v := setting(Setting); v != "" {
			raw = v
		}
	}
	key, err := tenants.ParseAuditKey(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Setting, err)
	}
	if len(key) < MinKeyBytes {
		return nil, fmt.Errorf("%s: want at least %d bytes", Setting, MinKeyBytes)
	}
	return key, nil
}
