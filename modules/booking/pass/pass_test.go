package pass_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"yamen/modules/booking/pass"
)

var key = []byte("0123456789abcdef0123456789abcdef")

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	c := pass.Claim{Tenant: uuid.New(), Appointment: uuid.New(), Expires: now.Add(30 * time.Minute)}
	token := pass.Sign(key, c)
	require.Less(t, len(token), 120, "fits a small QR code")
	got, err := pass.Verify(key, token, now)
	require.NoError(t, err)
	require.Equal(t, c.Tenant, got.Tenant)
	require.Equal(t, c.Appointment, got.Appointment)
	require.True(t, c.Expires.Equal(got.Expires))
}

func TestRefused(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	token := pass.Sign(key, pass.Claim{Tenant: uuid.New(), Appointment: uuid.New(), Expires: now.Add(time.Minute)})
	body, sig, _ := strings.Cut(strings.TrimPrefix(token, "yp1."), ".")
	// Another appointment under the same signature: the payload with one
	// bit changed, encoded as a pass would be.
	raw, err := base64.RawURLEncoding.DecodeString(body)
	require.NoError(t, err)
	raw[20] ^= 1
	flipped := base64.RawURLEncoding.EncodeToString(raw)
	for name, tc := range map[string]struct {
		token string
		key   []byte
		at    time.Time
		want  error
	}{
		"OtherKey":  {token, []byte("another key of sixteen+ bytes"), now, pass.ErrForged},
		"Tampered":  {"yp1." + flipped + "." + sig, key, now, pass.ErrForged},
		"Expired":   {token, key, now.Add(time.Minute), pass.ErrExpired},
		"Empty":     {"", key, now, pass.ErrMalformed},
		"NoSig":     {"yp1." + body, key, now, pass.ErrMalformed},
		"OldFormat": {"yp0." + body + "." + sig, key, now, pass.ErrMalformed},
		"BadBase64": {"yp1.!!!." + sig, key, now, pass.ErrMalformed},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := pass.Verify(tc.key, tc.token, tc.at)
			require.ErrorIs(t, err, tc.want)
		})
	}
}

func FuzzVerify(f *testing.F) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	f.Add(pass.Sign(key, pass.Claim{Tenant: uuid.New(), Appointment: uuid.New(), Expires: now.Add(time.Hour)}))
	f.Add("yp1..")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		c, err := pass.Verify(key, token, now)
		if err == nil && pass.Sign(key, c) != token {
			t.Fatalf("accepted %q, which is not the canonical token of its claim", token)
		}
	})
}
