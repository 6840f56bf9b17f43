package tenants

import (
	"time"

	"github.com/google/uuid"
)

// AuditRecordMAC exposes the chain's MAC to the tests of package
// tenants_test, which play a key holder forging a record.
func AuditRecordMAC(key []byte, tenant uuid.UUID, seq int64, at time.Time, subject, action, target string, details []byte, requestID string, prevMAC []byte) []byte {
	canon, err := CanonicalJSON(details)
	if err != nil {
		panic(err)
	}
	r := chainRecord{Tenant: tenant, Seq: seq, At: at, Subject: subject, Action: action, Target: target, Details: canon, RequestID: requestID, PrevMAC: prevMAC}
	return r.mac(key)
}
