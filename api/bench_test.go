package api_test

import (
	"io"
	"net/http"
	"testing"

	"yamen/tenants"
)

// BenchmarkListModules is the hot read path: a tenant key listing its
// tenant's modules, through the whole middleware chain and a real server.
func BenchmarkListModules(b *testing.B) {
	bb := setup(b)
	tn, key := bb.tenant(b, tenants.KindAffairsHall)
	url := bb.url + "/v1/t/" + tn.Slug + "/modules"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		for pb.Next() {
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
}
