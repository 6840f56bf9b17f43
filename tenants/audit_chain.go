package tenants

import (
	"bytes"
	"crypto/hmac"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/google/uuid"
)

// DevAuditKey is YAMEN_AUDIT_KEY's default: base64 that says what it is. It
// is public, so a chain sealed with it proves nothing; it is for development
// and tests only, and the service warns when it runs with it.
const DevAuditKey = "DevOnlyAuditKeyNotSecretDoNotUseInProduction"

// MinAuditKeyBytes is the shortest key ParseAuditKey accepts (128 bits);
// 32 random bytes are recommended (`openssl rand -hex 32`).
const MinAuditKeyBytes = 16

// ParseAuditKey decodes YAMEN_AUDIT_KEY: hex (64 hex digits for 32 bytes)
// or base64 (standard or URL alphabet, padded or not). A value that is valid
// hex is read as hex.
func ParseAuditKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	var key []byte
	if b, err := hex.DecodeString(s); err == nil && s != "" {
		key = b
	} else {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			if b, err := enc.DecodeString(s); err == nil {
				key = b
				break
			}
		}
		if key == nil {
			return nil, errors.New("want hex or base64")
		}
	}
	if len(key) < MinAuditKeyBytes {
		return nil, fmt.Errorf("the key has %d bytes, want at least %d (32 recommended)", len(key), MinAuditKeyBytes)
	}
	return key, nil
}

// macDomain starts every record's MAC input, naming the format, so that a
// MAC of this chain can never be mistaken for one of another use of the key.
const macDomain = "yamen.audit.v1"

// chainRecord is what a record's MAC covers.
type chainRecord struct {
	Tenant    uuid.UUID
	Seq       int64
	At        time.Time
	Subject   string
	Action    string
	Target    string
	Details   []byte // CanonicalJSON of the details
	RequestID string
	PrevMAC   []byte
}

// mac is HMAC-SM3 under key over the record's canonical encoding: the
// domain, then each field in this order, each as a 4-byte big-endian length
// followed by its bytes: the tenant's 16 bytes; seq as 8 bytes big-endian;
// the time as microseconds since 1970-01-01 UTC, 8 bytes big-endian; the
// subject, action, target (UTF-8); the details as CanonicalJSON; the
// request id; the previous record's MAC (empty for the first record).
// Lengths make the encoding unambiguous: no two records encode alike.
func (r *chainRecord) mac(key []byte) []byte {
	h := hmac.New(sm3.New, key)
	var n [8]byte
	field := func(h hash.Hash, b []byte) {
		binary.BigEndian.PutUint32(n[:4], uint32(len(b)))
		h.Write(n[:4])
		h.Write(b)
	}
	num := func(h hash.Hash, v int64) {
		binary.BigEndian.PutUint64(n[:], uint64(v))
		field(h, n[:])
	}
	field(h, []byte(macDomain))
	field(h, r.Tenant[:])
	num(h, r.Seq)
	num(h, r.At.UnixMicro())
	field(h, []byte(r.Subject))
	field(h, []byte(r.Action))
	field(h, []byte(r.Target))
	field(h, r.Details)
	field(h, []byte(r.RequestID))
	field(h, r.PrevMAC)
	return h.Sum(nil)
}

// CanonicalJSON rewrites a JSON document in the one form the chain's MACs
// cover, so that the details Audit marshals and the jsonb PostgreSQL gives
// back (keys reordered, spacing and number spelling changed) have one form:
// no insignificant space; object keys sorted by their UTF-8 bytes; strings
// as encoding/json writes them; numbers as their exact decimal value in
// lowest terms: an optional minus, the digits without leading or trailing
// zeros, and "e" with the power of ten when it is not 0 ("1.50" and
// "15e-1" are both 15e-1, "100" is 1e2, "-0.0" is 0).
func CanonicalJSON(doc []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("canonical json: %w", err)
	}
	if dec.More() {
		return nil, errors.New("canonical json: more than one value")
	}
	var b bytes.Buffer
	if err := writeCanonical(&b, v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writeCanonical(b *bytes.Buffer, v any) error {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case json.Number:
		n, err := canonicalNumber(string(v))
		if err != nil {
			return err
		}
		b.WriteString(n)
	case string:
		s, err := json.Marshal(v)
		if err != nil {
			return err
		}
		b.Write(s)
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeCanonical(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeCanonical(b, k); err != nil {
				return err
			}
			b.WriteByte(':')
			if err := writeCanonical(b, v[k]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		return fmt.Errorf("canonical json: unexpected %T", v)
	}
	return nil
}

// canonicalNumber writes a JSON number (already checked by the decoder) as
// its exact value in lowest terms, without ever computing with it, so a
// long number costs its length and no more.
func canonicalNumber(s string) (string, error) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	mant, expText, hasExp := strings.Cut(strings.ToLower(s), "e")
	var exp int64
	if hasExp {
		e, err := strconv.ParseInt(strings.TrimPrefix(expText, "+"), 10, 32)
		if err != nil {
			return "", fmt.Errorf("canonical json: number %s is out of range", s)
		}
		exp = e
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := strings.TrimLeft(intPart+frac, "0")
	exp -= int64(len(frac))
	if digits == "" {
		return "0", nil
	}
	trimmed := strings.TrimRight(digits, "0")
	exp += int64(len(digits) - len(trimmed))
	out := trimmed
	if exp != 0 {
		out += "e" + strconv.FormatInt(exp, 10)
	}
	if neg {
		out = "-" + out
	}
	return out, nil
}
