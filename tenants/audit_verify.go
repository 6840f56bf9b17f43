package tenants

import (
	"bytes"
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Kinds of AuditBreak.
const (
	// BreakContent: the record's content no longer matches its MAC; it was
	// changed after it was written.
	BreakContent = "content"
	// BreakLink: the record's prev_mac is not the previous record's MAC; a
	// record before it was replaced, or it was moved here.
	BreakLink = "link"
	// BreakGap: the sequence skips; records were deleted.
	BreakGap = "gap"
	// BreakUnsealed: a record without a MAC after the chain was sealed.
	BreakUnsealed = "unsealed"
	// BreakHead: the chain head disagrees with the records: the newest
	// records were deleted or replaced.
	BreakHead = "head"
)

// AuditBreak is the first place where a tenant's audit chain does not hold.
type AuditBreak struct {
	Kind string
	// ID and Seq name the record at fault; ID is 0 when no record is there
	// to name (records missing at the end).
	ID  int64
	Seq int64
	// Detail says what differs.
	Detail string
}

func (b *AuditBreak) String() string {
	if b.ID == 0 {
		return fmt.Sprintf("%s: %s", b.Kind, b.Detail)
	}
	return fmt.Sprintf("record id %d (seq %d): %s: %s", b.ID, b.Seq, b.Kind, b.Detail)
}

// AuditVerification is what VerifyAudit found.
type AuditVerification struct {
	// Records is how many records were checked: all of them when the chain
	// is intact, those before the break otherwise.
	Records int64
	// Unsealed is how many of them were written before the chain existed
	// (migration 004): numbered, but covered by no MAC.
	Unsealed int64
	// HeadSeq and HeadMAC are the last record checked, for keeping outside
	// the database: a chain can prove nothing about records deleted at its
	// end beyond what its head row says, and the head row is in the same
	// database.
	HeadSeq int64
	HeadMAC []byte
	// Break is the first broken link, nil when the chain is intact.
	Break *AuditBreak
}

// VerifyAudit walks the audit chain of q's tenant in order of seq and
// returns the first break: a record whose MAC under key does not match its
// content, a prev_mac that is not the previous record's MAC, a gap in the
// sequence, an unsealed record after sealed ones, or a head row ahead of
// or disagreeing with the last record. It streams the records, so a long
// chain costs time, not memory.
func VerifyAudit(ctx context.Context, q Querier, key []byte) (AuditVerification, error) {
	var v AuditVerification
	if len(key) == 0 {
		return v, errors.New("tenants: verify audit: no key")
	}
	// The head first: records committed after it are then all visible to
	// the walk, which runs in a later snapshot.
	var headSeq int64
	var headMAC []byte
	err := q.QueryRow(ctx, `SELECT seq, mac FROM audit_heads WHERE tenant_id = current_tenant()`).Scan(&headSeq, &headMAC)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return v, fmt.Errorf("tenants: verify audit: read the head: %w", err)
	}
	rows, err := q.Query(ctx, `SELECT tenant_id, id, seq, at, subject, action, target, details::text, request_id, prev_mac, mac
		FROM audit_log ORDER BY seq`)
	if err != nil {
		return v, fmt.Errorf("tenants: verify audit: %w", err)
	}
	defer rows.Close()

	var (
		r       chainRecord
		id      int64
		details string
		mac     []byte
		prevMAC = []byte{}
		prevID  int64
		sealed  bool
		atHead  []byte // the MAC of the record at the head's seq
		found   bool
	)
	fail := func(kind, format string, args ...any) {
		v.Break = &AuditBreak{Kind: kind, ID: id, Seq: r.Seq, Detail: fmt.Sprintf(format, args...)}
	}
	for rows.Next() {
		if err := rows.Scan(&r.Tenant, &id, &r.Seq, &r.At, &r.Subject, &r.Action, &r.Target, &details, &r.RequestID, &r.PrevMAC, &mac); err != nil {
			return v, fmt.Errorf("tenants: verify audit: %w", err)
		}
		want := v.Records + 1
		switch {
		case r.Seq < want:
			fail(BreakGap, "seq %d appears more than once", r.Seq)
		case r.Seq > want:
			fail(BreakGap, "expected seq %d: %s missing", want, seqRange(want, r.Seq-1))
		case len(mac) == 0 && sealed:
			fail(BreakUnsealed, "the record has no MAC but records before it are sealed")
		case len(mac) == 0 && len(r.PrevMAC) != 0:
			fail(BreakLink, "an unsealed record carries a prev_mac")
		case len(mac) != 0 && !hmac.Equal(mac, recordMAC(&r, details, key)):
			fail(BreakContent, "the content (%s %q by %s at %s) does not match the record's MAC: it was changed after it was written, or it was sealed with another key",
				r.Action, r.Target, r.Subject, r.At.UTC().Format(time.RFC3339Nano))
		case !bytes.Equal(r.PrevMAC, prevMAC):
			fail(BreakLink, "prev_mac is not the MAC of record seq %d (id %d): that record was replaced or removed, or this one was moved here", r.Seq-1, prevID)
		}
		if v.Break != nil {
			return v, nil
		}
		if len(mac) == 0 {
			v.Unsealed++
		} else {
			sealed = true
		}
		if r.Seq == headSeq {
			atHead, found = mac, true
		}
		v.Records++
		v.HeadSeq, v.HeadMAC = r.Seq, mac
		prevMAC, prevID = mac, id
	}
	if err := rows.Err(); err != nil {
		return v, fmt.Errorf("tenants: verify audit: %w", err)
	}
	id, r.Seq = 0, 0
	switch {
	case headSeq > v.HeadSeq:
		fail(BreakHead, "the chain head is at seq %d but the last record is seq %d: %s missing", headSeq, v.HeadSeq, seqRange(v.HeadSeq+1, headSeq))
	case found && !bytes.Equal(atHead, headMAC):
		fail(BreakHead, "the chain head's MAC is not the MAC of record seq %d: the newest records were replaced", headSeq)
	}
	return v, nil
}

// recordMAC is the MAC r's content calls for, its details being the jsonb
// text PostgreSQL returned.
func recordMAC(r *chainRecord, details string, key []byte) []byte {
	canon, err := CanonicalJSON([]byte(details))
	if err != nil {
		return nil // matches no MAC: a content break
	}
	r.Details = canon
	return r.mac(key)
}

func seqRange(from, to int64) string {
	if from == to {
		return fmt.Sprintf("record seq %d is", from)
	}
	return fmt.Sprintf("records seq %d–%d are", from, to)
}
