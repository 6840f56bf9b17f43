package files

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Config is where the files live: any S3-compatible store (AWS S3, MinIO,
// Aliyun OSS, or versitygw in development), read from YAMEN_S3_*.
type Config struct {
	// Endpoint is the store's URL as the service reaches it.
	Endpoint string
	// PublicEndpoint is the URL written into presigned URLs, for when
	// clients reach the store by another address; Endpoint when empty.
	PublicEndpoint string
	Bucket         string
	Region         string
	AccessKey      string
	SecretKey      string
	// PathStyle addresses objects as endpoint/bucket/key (versitygw,
	// MinIO) instead of bucket.endpoint/key (AWS S3, OSS).
	PathStyle bool
}

// The settings the module reads through modules.Env.Setting.
const (
	SettingEndpoint       = "YAMEN_S3_ENDPOINT"
	SettingPublicEndpoint = "YAMEN_S3_PUBLIC_ENDPOINT"
	SettingBucket         = "YAMEN_S3_BUCKET"
	SettingRegion         = "YAMEN_S3_REGION"
	SettingAccessKey      = "YAMEN_S3_ACCESS_KEY"
	SettingSecretKey      = "YAMEN_S3_SECRET_KEY"
	SettingPathStyle      = "YAMEN_S3_PATH_STYLE"
	// SettingAuditKey is the service's audit key (see tenants.ParseAuditKey),
	// which the module's audit records are sealed with.
	SettingAuditKey = "YAMEN_AUDIT_KEY"
)

var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// ConfigFrom reads the configuration through setting, naming every
// variable that is missing or malformed.
func ConfigFrom(setting func(string) string) (Config, error) {
	c := Config{
		Endpoint:       setting(SettingEndpoint),
		PublicEndpoint: setting(SettingPublicEndpoint),
		Bucket:         setting(SettingBucket),
		Region:         setting(SettingRegion),
		AccessKey:      setting(SettingAccessKey),
		SecretKey:      setting(SettingSecretKey),
	}
	var errs []string
	for _, e := range [][2]string{{SettingEndpoint, c.Endpoint}, {SettingPublicEndpoint, c.PublicEndpoint}} {
		if e[1] == "" && e[0] == SettingPublicEndpoint {
			continue
		}
		if u, err := url.Parse(e[1]); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Sprintf("%s=%q: want an http(s) URL such as http://127.0.0.1:7070", e[0], e[1]))
		}
	}
	if !bucketName.MatchString(c.Bucket) {
		errs = append(errs, fmt.Sprintf("%s=%q: not an S3 bucket name", SettingBucket, c.Bucket))
	}
	if c.Region == "" {
		errs = append(errs, SettingRegion+" is empty")
	}
	if c.AccessKey == "" || c.SecretKey == "" {
		errs = append(errs, SettingAccessKey+" and "+SettingSecretKey+" are required")
	}
	ps := setting(SettingPathStyle)
	if ps == "" {
		ps = "false"
	}
	b, err := strconv.ParseBool(ps)
	if err != nil {
		errs = append(errs, fmt.Sprintf("%s=%q: want true or false", SettingPathStyle, ps))
	}
	c.PathStyle = b
	if len(errs) > 0 {
		return c, fmt.Errorf("files: %s", strings.Join(errs, "; "))
	}
	return c, nil
}

// store is the bucket, spoken to through aws-sdk-go-v2.
type store struct {
	client  *s3.Client
	presign *s3.PresignClient
	bucket  string
	http    *awshttp.BuildableClient
}

func newStore(c Config) *store {
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		// The service talks to one store; keep enough connections to it.
		t.MaxIdleConnsPerHost = 64
	})
	opts := func(endpoint string) s3.Options {
		return s3.Options{
			Region:       c.Region,
			BaseEndpoint: aws.String(endpoint),
			UsePathStyle: c.PathStyle,
			Credentials:  aws.NewCredentialsCache(staticCredentials{c.AccessKey, c.SecretKey}),
			HTTPClient:   hc,
			// Checksums only where the module asks for them (SHA-256 on
			// PUT): the SDK's default CRC32 would be signed into presigned
			// URLs and break them, and not every S3 speaks it.
			RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
			ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
			// Requests wait on these calls: retry briefly, then answer 503.
			Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 3
				o.MaxBackoff = 300 * time.Millisecond
			}),
		}
	}
	client := s3.New(opts(c.Endpoint))
	public := client
	if c.PublicEndpoint != "" && c.PublicEndpoint != c.Endpoint {
		public = s3.New(opts(c.PublicEndpoint))
	}
	return &store{client: client, presign: s3.NewPresignClient(public), bucket: c.Bucket, http: hc}
}

type staticCredentials struct{ access, secret string }

func (s staticCredentials) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: s.access, SecretAccessKey: s.secret, Source: "YAMEN_S3_ACCESS_KEY"}, nil
}

// errUnavailable marks failures to reach the store at all.
var errUnavailable = errors.New("files: storage unreachable")

// classify turns a failure to reach the store (refused, reset, timed out,
// or a 502/503/504 from it) into errUnavailable, so callers can answer 503
// instead of 500.
func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	var send *smithyhttp.RequestSendError
	var ne net.Error
	var re *awshttp.ResponseError
	switch {
	case errors.As(err, &send), errors.As(err, &ne), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &re) && (re.HTTPStatusCode() == http.StatusBadGateway || re.HTTPStatusCode() == http.StatusServiceUnavailable || re.HTTPStatusCode() == http.StatusGatewayTimeout):
		return fmt.Errorf("%w: %s: %w", errUnavailable, op, err)
	}
	return fmt.Errorf("files: %s: %w", op, err)
}

func isNotFound(err error) bool {
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound {
		return true
	}
	var nk *types.NoSuchKey
	var nf *types.NotFound
	return errors.As(err, &nk) || errors.As(err, &nf)
}

// checkBucket makes sure the bucket is there and reachable.
func (s *store) checkBucket(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &s.bucket})
	if isNotFound(err) {
		return fmt.Errorf("files: bucket %q does not exist (create it, or check %s)", s.bucket, SettingBucket)
	}
	return classify("head bucket "+s.bucket, err)
}

// presignedPut is an upload URL and the headers the client must send.
type presignedPut struct {
	URL     string
	Headers map[string]string
}

// presignPut signs a PUT of exactly this content: its length, type and
// SHA-256 are signed headers, so the store refuses any other body (a
// different hash fails with BadDigest, another length or type with
// SignatureDoesNotMatch). If-None-Match: * makes the object write-once: once
// uploaded and checked it cannot be replaced through the same URL.
func (s *store) presignPut(ctx context.Context, key, contentType string, size int64, sum []byte, ttl time.Duration) (presignedPut, error) {
	req, err := s.presign.PresignPutObject(ctx, &s3.PutObjectInput{
		Bucket:         &s.bucket,
		Key:            &key,
		ContentType:    &contentType,
		ContentLength:  &size,
		ChecksumSHA256: aws.String(base64.StdEncoding.EncodeToString(sum)),
		IfNoneMatch:    aws.String("*"),
	}, s3.WithPresignExpires(ttl))
	if err != nil {
		return presignedPut{}, fmt.Errorf("files: presign put: %w", err)
	}
	h := make(map[string]string, len(req.SignedHeader))
	for k, v := range req.SignedHeader {
		// Host and Content-Length are the HTTP client's to send.
		if k == "Host" || k == "Content-Length" || len(v) == 0 {
			continue
		}
		h[k] = v[0]
	}
	return presignedPut{URL: req.URL, Headers: h}, nil
}

// presignGet signs a download that the store serves with the given type
// and disposition, whatever was stored with the object.
func (s *store) presignGet(ctx context.Context, key, contentType, disp string, ttl time.Duration) (string, error) {
	req, err := s.presign.PresignGetObject(ctx, &s3.GetObjectInput{
		Bucket:                     &s.bucket,
		Key:                        &key,
		ResponseContentType:        &contentType,
		ResponseContentDisposition: &disp,
		ResponseCacheControl:       aws.String("private, no-store"),
	}, s3.WithPresignExpires(ttl))
	if err != nil {
		return "", fmt.Errorf("files: presign get: %w", err)
	}
	return req.URL, nil
}

// put uploads a small file the service received itself, under the same
// write-once and checksum rules as a presigned upload.
func (s *store) put(ctx context.Context, key, contentType string, body []byte, sum []byte) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:         &s.bucket,
		Key:            &key,
		Body:           bytes.NewReader(body),
		ContentLength:  aws.Int64(int64(len(body))),
		ContentType:    &contentType,
		ChecksumSHA256: aws.String(base64.StdEncoding.EncodeToString(sum)),
		IfNoneMatch:    aws.String("*"),
	})
	return classify("put "+key, err)
}

// object is what the check learns about an uploaded object.
type object struct {
	Size int64
	// SHA256 is the store's full-object SHA-256 when it keeps one (it did
	// verify the body against it on upload), else nil.
	SHA256 []byte
	ETag   string
}

// head returns the object's size and stored checksum; found is false when
// nothing was uploaded.
func (s *store) head(ctx context.Context, key string) (object, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: &key, ChecksumMode: types.ChecksumModeEnabled})
	if isNotFound(err) {
		return object{}, false, nil
	}
	if err != nil {
		return object{}, false, classify("head "+key, err)
	}
	o := object{Size: aws.ToInt64(out.ContentLength), ETag: aws.ToString(out.ETag)}
	if out.ChecksumType == "" || out.ChecksumType == types.ChecksumTypeFullObject {
		if b, err := base64.StdEncoding.DecodeString(aws.ToString(out.ChecksumSHA256)); err == nil && len(b) == sha256.Size {
			o.SHA256 = b
		}
	}
	return o, true, nil
}

// first returns the object's first n bytes, fetched with a Range GET.
func (s *store) first(ctx context.Context, key, etag string, n int) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	in := &s3.GetObjectInput{Bucket: &s.bucket, Key: &key, Range: aws.String(fmt.Sprintf("bytes=0-%d", n-1))}
	if etag != "" {
		in.IfMatch = &etag
	}
	out, err := s.client.GetObject(ctx, in)
	if err != nil {
		return nil, classify("range get "+key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(io.LimitReader(out.Body, int64(n)))
	return b, classify("range get "+key, err)
}

// hash reads the whole object, for stores that keep no SHA-256 of it, and
// returns its SHA-256 and length (reading at most limit+1 bytes).
func (s *store) hash(ctx context.Context, key, etag string, limit int64) ([]byte, int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	in := &s3.GetObjectInput{Bucket: &s.bucket, Key: &key}
	if etag != "" {
		in.IfMatch = &etag
	}
	out, err := s.client.GetObject(ctx, in)
	if err != nil {
		return nil, 0, classify("get "+key, err)
	}
	defer out.Body.Close()
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(out.Body, limit+1))
	if err != nil {
		return nil, 0, classify("get "+key, err)
	}
	return h.Sum(nil), n, nil
}

// remove deletes the object; removing what is not there succeeds.
func (s *store) remove(ctx context.Context, key string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: &key})
	if isNotFound(err) {
		return nil
	}
	return classify("delete "+key, err)
}

func (s *store) close() {
	s.http.GetTransport().CloseIdleConnections()
}
