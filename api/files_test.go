package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"yamen/api"
	"yamen/modules"
	"yamen/modules/builtin"
	"yamen/modules/files/filestest"
	"yamen/tenants"
	"yamen/tenants/tenanttest"
)

// The files module through the real API, the real S3 (versitygw) and
// PostgreSQL: setup provisions it with the YAMEN_S3_* of `make test`.

func pngFile(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, image.NewGray(image.Rect(0, 0, w, h))))
	return b.Bytes()
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// putTo sends body to a presigned upload, with the headers it came with.
func putTo(t testing.TB, upload map[string]any, body []byte) int {
	t.Helper()
	req, err := http.NewRequest(upload["method"].(string), upload["url"].(string), bytes.NewReader(body))
	require.NoError(t, err)
	for k, v := range upload["headers"].(map[string]any) {
		req.Header.Set(k, v.(string))
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// multipartPost posts a form with the given fields and one file part.
func (b *bundle) multipartPost(t testing.TB, path, key string, fields map[string]string, filename, partType string, content []byte) reply {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		require.NoError(t, w.WriteField(k, v))
	}
	if content != nil {
		h := textproto.MIMEHeader{}
		// Written by hand: multipart.Writer.CreateFormFile escapes quotes only,
		// which is what a hostile client would not do either.
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename="%s"`, filename))
		if partType != "" {
			h.Set("Content-Type", partType)
		}
		part, err := w.CreatePart(h)
		require.NoError(t, err)
		_, err = part.Write(content)
		require.NoError(t, err)
	}
	require.NoError(t, w.Close())
	return b.send(t, "POST", path, &buf, "Content-Type", w.FormDataContentType(), "Authorization", "Bearer "+key)
}

func TestFilesUploadCheckDownloadDelete(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tn, key := b.tenant(t, tenants.KindPoliceBureau)
	base := "/v1/t/" + tn.Slug + "/files"
	body := pngFile(t, 40, 30)

	r := b.do(t, "GET", base+"/purposes", key, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	var purposes []map[string]any
	require.NoError(t, json.Unmarshal(r.body, &purposes))
	require.Equal(t, "photo", purposes[0]["name"])
	require.EqualValues(t, 10<<20, purposes[0]["max_bytes"])
	require.Equal(t, []any{"image/jpeg", "image/png"}, purposes[0]["types"])

	r = b.do(t, "POST", base+"/uploads", key, map[string]any{
		"purpose": "photo", "name": "检查现场.png", "content_type": "image/png", "size": len(body), "sha256": sha256Hex(body),
	})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	upload := r.json(t)
	file := upload["file"].(map[string]any)
	id := file["id"].(string)
	require.Equal(t, "pending", file["status"])
	require.Equal(t, http.StatusOK, putTo(t, upload, body))

	r = b.do(t, "POST", base+"/"+id+"/complete", key, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, "ready", r.json(t)["status"])
	require.Equal(t, "image/png", r.json(t)["sniffed_type"])

	r = b.do(t, "GET", base+"/"+id, key, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, "检查现场.png", r.json(t)["name"])

	r = b.do(t, "GET", base+"/"+id+"/download", key, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	resp, err := http.Get(r.json(t)["url"].(string))
	require.NoError(t, err)
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, body, got)
	require.Equal(t, "image/png", resp.Header.Get("Content-Type"))

	require.Equal(t, http.StatusNoContent, b.do(t, "DELETE", base+"/"+id, key, nil).status)
	requireProblem(t, b.do(t, "GET", base+"/"+id+"/download", key, nil), http.StatusGone)
	require.Equal(t, "deleted", b.do(t, "GET", base+"/"+id, key, nil).json(t)["status"])

	for _, action := range []string{"file.upload", "file.download", "file.delete"} {
		audit := b.do(t, "GET", "/v1/t/"+tn.Slug+"/audit?action="+action, key, nil).list(t)
		require.Len(t, audit, 1, action)
		require.Equal(t, id, audit[0]["target"])
	}
}

func TestFilesBadRegistrationsNameEveryField(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tn, key := b.tenant(t, tenants.KindAffairsHall)
	base := "/v1/t/" + tn.Slug + "/files"
	body := pngFile(t, 4, 4)
	ok := func() map[string]any {
		return map[string]any{"purpose": "photo", "name": "a.png", "content_type": "image/png", "size": len(body), "sha256": sha256Hex(body)}
	}

	t.Run("Schema", func(t *testing.T) {
		t.Parallel()
		r := b.do(t, "POST", base+"/uploads", key, map[string]any{"purpose": "photo", "size": 0, "sha256": "xyz", "colour": "red"})
		requireProblem(t, r, http.StatusUnprocessableEntity)
		require.ElementsMatch(t, []string{"body.name", "body.content_type", "body.size", "body.sha256", "body.colour"}, r.locations(t))
	})
	t.Run("Rules", func(t *testing.T) {
		t.Parallel()
		in := ok()
		in["purpose"], in["name"], in["content_type"] = "selfie", "../../etc/passwd", "text/html"
		r := b.do(t, "POST", base+"/uploads", key, in)
		requireProblem(t, r, http.StatusUnprocessableEntity)
		require.ElementsMatch(t, []string{"body.purpose", "body.name"}, r.locations(t), "the type is judged once the purpose is known")
		in = ok()
		in["content_type"], in["size"] = "application/pdf", 11<<20
		r = b.do(t, "POST", base+"/uploads", key, in)
		require.ElementsMatch(t, []string{"body.content_type", "body.size"}, r.locations(t))
	})
	t.Run("PathTricks", func(t *testing.T) {
		t.Parallel()
		for _, name := range []string{"../x.png", "a/b.png", `..\..\x.png`, "x\u0000.png", "x\u0007.png", "CON.png", "lpt1", strings.Repeat("x", 256), "x.png.", "\u202egnp.exe"} {
			in := ok()
			in["name"] = name
			r := b.do(t, "POST", base+"/uploads", key, in)
			requireProblem(t, r, http.StatusUnprocessableEntity)
			require.Equal(t, []string{"body.name"}, r.locations(t), "%q", name)
		}
	})
	t.Run("NeverUploaded", func(t *testing.T) {
		t.Parallel()
		r := b.do(t, "POST", base+"/uploads", key, ok())
		require.Equal(t, http.StatusCreated, r.status, string(r.body))
		id := r.json(t)["file"].(map[string]any)["id"].(string)
		p := requireProblem(t, b.do(t, "POST", base+"/"+id+"/complete", key, nil), http.StatusConflict)
		require.Contains(t, p["detail"], "nothing has been uploaded")
		requireProblem(t, b.do(t, "GET", base+"/"+id+"/download", key, nil), http.StatusConflict)
	})
	t.Run("WrongSniffedType", func(t *testing.T) {
		t.Parallel()
		pdf := []byte("%PDF-1.4\n%%EOF\n")
		in := ok()
		in["size"], in["sha256"] = len(pdf), sha256Hex(pdf)
		r := b.do(t, "POST", base+"/uploads", key, in)
		require.Equal(t, http.StatusCreated, r.status, string(r.body))
		upload := r.json(t)
		require.Equal(t, http.StatusOK, putTo(t, upload, pdf))
		id := upload["file"].(map[string]any)["id"].(string)
		r = b.do(t, "POST", base+"/"+id+"/complete", key, nil)
		requireProblem(t, r, http.StatusUnprocessableEntity)
		require.Equal(t, []string{"file.content_type"}, r.locations(t))
		require.Equal(t, "rejected", b.do(t, "GET", base+"/"+id, key, nil).json(t)["status"])
	})
	t.Run("UnknownFileAndBadID", func(t *testing.T) {
		t.Parallel()
		requireProblem(t, b.do(t, "GET", base+"/0b5cfbd6-58d5-4a4c-9d38-7d4a8e1c0a11", key, nil), http.StatusNotFound)
		r := b.do(t, "GET", base+"/not-a-uuid/download", key, nil)
		requireProblem(t, r, http.StatusUnprocessableEntity)
		require.Equal(t, []string{"path.file"}, r.locations(t))
	})
}

func TestFilesSmallUploadThroughTheService(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tn, key := b.tenant(t, tenants.KindCreditCenter)
	base := "/v1/t/" + tn.Slug + "/files"
	img := pngFile(t, 12, 12)

	r := b.multipartPost(t, base, key, map[string]string{"purpose": "photo"}, "整改照片.png", "image/png", img)
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	f := r.json(t)
	require.Equal(t, "ready", f["status"])
	require.Equal(t, "整改照片.png", f["name"])
	require.Equal(t, sha256Hex(img), f["sha256"])

	r = b.multipartPost(t, base, key, map[string]string{"purpose": "photo", "name": "其他名字.png", "sha256": sha256Hex(img)}, "x.png", "", img)
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	require.Equal(t, "其他名字.png", r.json(t)["name"])

	for _, tc := range []struct {
		name      string
		fields    map[string]string
		filename  string
		partType  string
		content   []byte
		locations []string
	}{
		{"PathTrickInFileName", map[string]string{"purpose": "photo"}, "../../../etc/cron.d/x.png", "image/png", img, []string{"body.name"}},
		{"WindowsReserved", map[string]string{"purpose": "contract"}, "NUL.pdf", "application/pdf", []byte("%PDF-1.5\n"), []string{"body.name"}},
		{"PDFAsPhoto", map[string]string{"purpose": "photo"}, "x.png", "image/png", []byte("%PDF-1.5\n"), []string{"body.file"}},
		{"HTMLAsPDF", map[string]string{"purpose": "contract"}, "x.pdf", "application/pdf", []byte("<html><script>alert(1)</script>"), []string{"body.file"}},
		{"DeclaredOtherType", map[string]string{"purpose": "photo"}, "x.jpg", "image/jpeg", img, []string{"body.file"}},
		{"HashMismatch", map[string]string{"purpose": "photo", "sha256": strings.Repeat("0", 64)}, "x.png", "", img, []string{"body.sha256"}},
		{"NoFile", map[string]string{"purpose": "photo"}, "", "", nil, []string{"body.file"}},
		{"NothingRight", map[string]string{"purpose": "", "colour": "red"}, "x.png", "", img, []string{"body.colour"}},
		{"EmptyFile", map[string]string{"purpose": "photo"}, "x.png", "", []byte{}, []string{"body.file"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := b.multipartPost(t, base, key, tc.fields, tc.filename, tc.partType, tc.content)
			requireProblem(t, r, http.StatusUnprocessableEntity)
			require.ElementsMatch(t, tc.locations, r.locations(t))
		})
	}
	t.Run("NotMultipart", func(t *testing.T) {
		requireProblem(t, b.do(t, "POST", base, key, map[string]any{"purpose": "photo"}), http.StatusUnsupportedMediaType)
	})
	t.Run("TooLargeForTheService", func(t *testing.T) {
		r := b.multipartPost(t, base, key, map[string]string{"purpose": "photo"}, "big.png", "", bytes.Repeat([]byte{0x89}, 2<<20))
		requireProblem(t, r, http.StatusRequestEntityTooLarge)
	})
}

func TestFilesOfAnotherTenantAre404(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a, keyA := b.tenant(t, tenants.KindPoliceBureau)
	other, keyB := b.tenant(t, tenants.KindPoliceBureau)
	img := pngFile(t, 6, 6)
	r := b.multipartPost(t, "/v1/t/"+a.Slug+"/files", keyA, map[string]string{"purpose": "photo"}, "a.png", "", img)
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	id := r.json(t)["id"].(string)

	// B's key in B's tenant: the file does not exist there.
	for _, op := range []struct{ method, path string }{
		{"GET", "/" + id}, {"GET", "/" + id + "/download"}, {"POST", "/" + id + "/complete"}, {"DELETE", "/" + id},
	} {
		r := b.do(t, op.method, "/v1/t/"+other.Slug+"/files"+op.path, keyB, nil)
		requireProblem(t, r, http.StatusNotFound)
		require.NotContains(t, string(r.body), a.Slug)
	}
	// B's key in A's tenant: A does not exist for it.
	requireProblem(t, b.do(t, "GET", "/v1/t/"+a.Slug+"/files/"+id+"/download", keyB, nil), http.StatusNotFound)
	require.Equal(t, http.StatusOK, b.do(t, "GET", "/v1/t/"+a.Slug+"/files/"+id+"/download", keyA, nil).status)
}

func TestFilesPermissions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tn, _ := b.tenant(t, tenants.KindOther)
	readOnly := b.key(t, tn, "files:read")
	base := "/v1/t/" + tn.Slug + "/files"
	p := requireProblem(t, b.do(t, "POST", base+"/uploads", readOnly, map[string]any{}), http.StatusForbidden)
	require.Contains(t, p["detail"], "files:upload")
	requireProblem(t, b.do(t, "DELETE", base+"/0b5cfbd6-58d5-4a4c-9d38-7d4a8e1c0a11", readOnly, nil), http.StatusForbidden)
	require.Equal(t, http.StatusOK, b.do(t, "GET", base+"/purposes", readOnly, nil).status)
}

// With S3 down, the API answers 503 and shows nothing of the store.
func TestFilesStorageDownIs503WithoutDetail(t *testing.T) {
	t.Parallel()
	db := tenanttest.DB(t)
	reg, err := modules.NewRegistry(builtin.Modules()...)
	require.NoError(t, err)
	down := func(name string) string {
		if name == "YAMEN_S3_ENDPOINT" {
			return "http://127.0.0.1:1"
		}
		return filestest.Setting(name)
	}
	require.NoError(t, reg.Provision(context.Background(), modules.Env{DB: db.Pool, Setting: down}), "an unreachable store does not stop the service")
	srv, err := api.New(api.Config{DB: db, Registry: reg})
	require.NoError(t, err)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	b := setup(t)
	tn, key := b.tenant(t, tenants.KindOther)
	b.url = ts.URL

	img := pngFile(t, 4, 4)
	r := b.multipartPost(t, "/v1/t/"+tn.Slug+"/files", key, map[string]string{"purpose": "photo"}, "a.png", "", img)
	p := requireProblem(t, r, http.StatusServiceUnavailable)
	require.Contains(t, p["detail"], "unavailable")
	require.NotContains(t, string(r.body), "127.0.0.1:1")
	require.NotContains(t, string(r.body), "dial")
}

// BenchmarkRegisterUpload is the hot write path of the files module: a
// tenant key registering an upload and getting its presigned URL, through
// the whole middleware chain, a real server and PostgreSQL, at 64
// concurrent requests. It reports the p50 and p99 latency.
func BenchmarkRegisterUpload(b *testing.B) {
	bb := setup(b)
	tn, key := bb.tenant(b, tenants.KindAffairsHall)
	url := bb.url + "/v1/t/" + tn.Slug + "/files/uploads"
	img := pngFile(b, 64, 64)
	body, err := json.Marshal(map[string]any{"purpose": "photo", "name": "现场照片.png", "content_type": "image/png", "size": len(img), "sha256": sha256Hex(img)})
	require.NoError(b, err)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}}
	const connections = 64
	b.SetParallelism((connections + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	var mu sync.Mutex
	var all []time.Duration
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Content-Type", "application/json")
			start := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			mine = append(mine, time.Since(start))
			if resp.StatusCode != http.StatusCreated {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
		mu.Lock()
		all = append(all, mine...)
		mu.Unlock()
	})
	b.StopTimer()
	if len(all) > 0 {
		slices.Sort(all)
		b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
	}
}
