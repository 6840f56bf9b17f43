// Package filestest gives tests the S3 settings of the real store `make
// test` starts (infra/dev/env.sh: versitygw on loopback), as a modules.Env
// to provision the files module with, and a client to reach the bucket
// behind the module's back.
package filestest

import (
	"bytes"
	"cmp"
	"context"
	"net/http"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"yamen/modules"
	"yamen/modules/files"
	"yamen/tenants"
)

// Setting reads a setting from the environment, as the service does; the
// YAMEN_S3_* that env.sh exports included. The audit key defaults to the
// development key, as the service's does (and tenanttest's).
func Setting(name string) string {
	if name == files.SettingAuditKey {
		return cmp.Or(os.Getenv(name), tenants.DevAuditKey)
	}
	return os.Getenv(name)
}

// Env returns what provisioning the files module needs, failing the test
// when the S3 settings are missing.
func Env(t testing.TB, db *pgxpool.Pool) modules.Env {
	t.Helper()
	if os.Getenv(files.SettingEndpoint) == "" {
		t.Fatal("YAMEN_S3_ENDPOINT is not set: run the tests with `make test`, or source infra/dev/env.sh, which starts versitygw")
	}
	return modules.Env{DB: db, Setting: Setting}
}

// Module returns a files module provisioned against the test store.
func Module(t testing.TB, db *pgxpool.Pool, opts ...files.Option) *files.Module {
	t.Helper()
	m := files.New(opts...)
	require.NoError(t, m.Provision(context.Background(), Env(t, db)))
	require.NoError(t, m.Validate())
	t.Cleanup(func() { _ = m.Cleanup() })
	return m
}

// Bucket is direct access to the test bucket, for putting objects a client
// could not and looking at what the module left.
type Bucket struct {
	Client *s3.Client
	Name   string
}

// OpenBucket returns the test bucket.
func OpenBucket(t testing.TB) Bucket {
	t.Helper()
	Env(t, nil)
	cfg, err := files.ConfigFrom(Setting)
	require.NoError(t, err)
	c := s3.New(s3.Options{
		Region:       cfg.Region,
		BaseEndpoint: aws.String(cfg.Endpoint),
		UsePathStyle: cfg.PathStyle,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: cfg.AccessKey, SecretAccessKey: cfg.SecretKey}, nil
		}),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
	return Bucket{Client: c, Name: cfg.Bucket}
}

// Exists reports whether an object is in the bucket.
func (b Bucket) Exists(t testing.TB, key string) bool {
	t.Helper()
	_, err := b.Client.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &b.Name, Key: &key})
	if err == nil {
		return true
	}
	var re interface{ HTTPStatusCode() int }
	require.ErrorAs(t, err, &re)
	require.Equal(t, http.StatusNotFound, re.HTTPStatusCode(), "head %s: %v", key, err)
	return false
}

// Put writes an object directly, unchecked: what a client with the store's
// keys, or a store without checksums, could leave there.
func (b Bucket) Put(t testing.TB, key, contentType string, body []byte) {
	t.Helper()
	_, err := b.Client.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: &b.Name, Key: &key, ContentType: &contentType, Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body))),
	})
	require.NoError(t, err)
}
