package files

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"
)

// BenchmarkPresignPut is the signing half of registering an upload: local,
// no network.
func BenchmarkPresignPut(b *testing.B) {
	s := newStore(Config{Endpoint: "http://127.0.0.1:7070", Bucket: "yamen", Region: "us-east-1", AccessKey: "k", SecretKey: "s", PathStyle: true})
	sum := sha256.Sum256([]byte("x"))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.presignPut(ctx, "t/0b5cfbd6-58d5-4a4c-9d38-7d4a8e1c0a11/0b/0b5cfbd6-58d5-4a4c-9d38-7d4a8e1c0a11", "image/png", 12345, sum[:], 15*time.Minute); err != nil {
			b.Fatal(err)
		}
	}
}
