// Command staffsession makes a signed-in staff member for load tests: a
// Kratos staff identity signed in through the API login flow, linked to a
// new member of the tenant whose role may read modules. It prints the
// session token. Loopback only, like the load generator.
package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
)

func main() {
	kratosPublic := flag.String("kratos-public", os.Getenv("YAMEN_KRATOS_PUBLIC_URL"), "Kratos public API")
	kratosAdmin := flag.String("kratos-admin", os.Getenv("YAMEN_KRATOS_ADMIN_URL"), "Kratos admin API")
	api := flag.String("api", "http://127.0.0.1:8080", "Yamen API")
	tenant := flag.String("tenant", "demo-hall", "tenant slug")
	key := flag.String("key", "", "a key of the tenant that may manage roles and members")
	permission := flag.String("permission", "modules:read", "what the member's role grants")
	flag.Parse()
	for _, u := range []string{*kratosPublic, *kratosAdmin, *api} {
		if pu, err := url.Parse(u); err != nil || (pu.Hostname() != "127.0.0.1" && pu.Hostname() != "localhost") {
			fail("only loopback addresses: %q", u)
		}
	}
	if *key == "" {
		fail("-key is required")
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	suffix := hex.EncodeToString(b)
	email, password := "load-"+suffix+"@example.gov.cn", "Load-"+suffix+"-口令"
	phone := fmt.Sprintf("+86139%08d", int(b[0])<<16|int(b[1])<<8|int(b[2]))

	call(http.MethodPost, *kratosAdmin+"/admin/identities", "", map[string]any{
		"schema_id": "staff", "traits": map[string]any{"email": email, "phone": phone, "name": "压测人员"},
		"credentials": map[string]any{"password": map[string]any{"config": map[string]any{"password": password}}},
	}, http.StatusCreated)
	flow := call(http.MethodGet, *kratosPublic+"/self-service/login/api", "", nil, http.StatusOK)
	action := flow["ui"].(map[string]any)["action"].(string)
	login := call(http.MethodPost, action, "", map[string]any{"method": "password", "identifier": email, "password": password}, http.StatusOK)
	token := login["session_token"].(string)

	base := *api + "/v1/t/" + *tenant
	orgs := callList(base+"/orgs", *key)
	role := call(http.MethodPost, base+"/roles", *key, map[string]any{"name": "压测-" + suffix, "permissions": []string{*permission}, "data_scope": "org"}, http.StatusCreated)
	member := call(http.MethodPost, base+"/members", *key, map[string]any{"org_id": orgs[0]["id"], "name": "压测人员", "role_ids": []any{role["id"]}}, http.StatusCreated)
	call(http.MethodPost, base+"/members/"+member["id"].(string)+"/link", *key, map[string]any{"identifier": email}, http.StatusOK)
	fmt.Println(token)
}

func request(method, u, key string, body any) (int, []byte) {
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		fail("%v", err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fail("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

func call(method, u, key string, body any, want int) map[string]any {
	status, raw := request(method, u, key, body)
	if status != want {
		fail("%s %s: %d %s", method, u, status, strings.TrimSpace(string(raw)))
	}
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return m
}

func callList(u, key string) []map[string]any {
	status, raw := request(http.MethodGet, u, key, nil)
	var l []map[string]any
	if status != http.StatusOK || json.Unmarshal(raw, &l) != nil || len(l) == 0 {
		fail("GET %s: %d %s", u, status, raw)
	}
	return l
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "staffsession: "+format+"\n", args...)
	os.Exit(1)
}
