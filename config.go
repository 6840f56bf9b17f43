package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"yamen/modules/booking/pass"
	"yamen/tenants"
)

// setting is one environment variable the yamen command reads.
type setting struct {
	name, def, doc string
}

// settings lists every variable with its default; `yamen <command> --help`
// prints them.
var settings = []setting{
	{"YAMEN_HTTP_ADDR", "127.0.0.1:8080", "address the API listens on"},
	{"YAMEN_DATABASE_URL", "postgres://yamen_app:yamen_app@127.0.0.1:54329/yamen?sslmode=disable", "PostgreSQL as the service's own role, yamen_app"},
	{"YAMEN_DATABASE_ADMIN_URL", "postgres://postgres@127.0.0.1:54329/yamen?sslmode=disable", "PostgreSQL as a role that may create roles and schemas; used only by `yamen migrate`"},
	{"YAMEN_APP_DB_PASSWORD", "", "password `yamen migrate` gives yamen_app (unchanged when empty)"},
	{"YAMEN_REDIS_URL", "redis://127.0.0.1:63799/0", "Redis for the task queue"},
	{"YAMEN_LOG_FORMAT", "text", "log format: json or text"},
	{"YAMEN_LOG_LEVEL", "info", "least severe level logged: debug, info, warn or error"},
	{"YAMEN_MAX_BODY_BYTES", "1048576", "largest request body accepted, in bytes"},
	{"YAMEN_SHUTDOWN_TIMEOUT", "30s", "how long SIGTERM waits for in-flight requests"},
	{"YAMEN_DEMO_KEYS_FILE", "", "where `yamen seed demo` keeps the demo keys it created, for `yamen dev` to print"},
	{"YAMEN_S3_ENDPOINT", "http://127.0.0.1:7070", "S3-compatible store for files (AWS S3, MinIO, Aliyun OSS; the private versitygw of infra/dev/env.sh in development)"},
	{"YAMEN_S3_PUBLIC_ENDPOINT", "", "endpoint written into presigned URLs when clients reach the store by another address (YAMEN_S3_ENDPOINT when empty)"},
	{"YAMEN_S3_BUCKET", "yamen", "bucket holding the files; it must exist"},
	{"YAMEN_S3_REGION", "us-east-1", "region the store signs requests for, such as cn-north-1 or oss-cn-hangzhou"},
	{"YAMEN_S3_ACCESS_KEY", "yamen-dev", "S3 access key (the default is the development gateway's)"},
	{"YAMEN_S3_SECRET_KEY", "yamen-dev-secret", "S3 secret key (the default is the development gateway's)"},
	{"YAMEN_S3_PATH_STYLE", "true", "path-style addressing (endpoint/bucket/key): true for versitygw and MinIO, false for AWS S3 and Aliyun OSS"},
	{"YAMEN_AUDIT_KEY", tenants.DevAuditKey, "HMAC-SM3 key sealing each tenant's audit chain: hex or base64, at least 16 bytes (make one with `openssl rand -hex 32`); the default is public, for development only"},
	{"YAMEN_WORKER_ADDR", "127.0.0.1:8081", "address `yamen worker` serves /metrics and /healthz on"},
	{"YAMEN_KRATOS_PUBLIC_URL", "http://127.0.0.1:4433", "Ory Kratos public API: people's sessions"},
	{"YAMEN_KRATOS_ADMIN_URL", "http://127.0.0.1:4434", "Ory Kratos admin API: finding staff accounts to link"},
	{"YAMEN_PORTAL_SECRET", "", "key of the portal's CSRF tokens (at least 32 random characters; the same on every instance); random per process when empty, so forms do not survive a restart"},
	{"YAMEN_SMTP_ADDR", "", "SMTP relay (host:port) the messages module sends email through; email deliveries fail when empty"},
	{"YAMEN_SMTP_FROM", "yamen@localhost", "sender address of the messages module's email"},
	{pass.Setting, pass.DevKey, "HMAC-SM3 key of appointment check-in passes (the QR code the booking module issues and the queue module accepts): hex or base64, at least 16 bytes; the default is public, for development only"},
	{"YAMEN_SMS_URL", "", "SMS gateway the messages module POSTs {\"phone\", \"text\"} as JSON to; when empty, SMS are only logged (development)"},
	{"GOGC", strconv.Itoa(gcPercent), "Go's garbage-collector target, read by the Go runtime; set GOMEMLIMIT too where memory is tight"},
}

// gcPercent is the collector target the service runs with unless GOGC says
// otherwise. Go's default of 100 collects every time the heap doubles: with
// the service's small live heap that is every few megabytes, often enough
// for its background work to show in the latency of requests (the policy
// decision's p99 is three times its p50 under 100, below twice under 400).
// A few hundred megabytes more heap is the cheaper trade on a service host.
const gcPercent = 400

// tuneGC applies gcPercent when the environment leaves GOGC unset.
func tuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(gcPercent)
	}
}

// config is the settings as read from the environment.
type config struct {
	httpAddr        string
	databaseURL     string
	adminURL        string
	appPassword     string
	redisURL        string
	logFormat       string
	logLevel        slog.Level
	maxBodyBytes    int64
	shutdownTimeout time.Duration
	demoKeysFile    string
	auditKey        []byte
}

func env(name string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	for _, s := range settings {
		if s.name == name {
			return s.def
		}
	}
	return ""
}

func loadConfig() (config, error) {
	c := config{
		httpAddr:     env("YAMEN_HTTP_ADDR"),
		databaseURL:  env("YAMEN_DATABASE_URL"),
		adminURL:     env("YAMEN_DATABASE_ADMIN_URL"),
		appPassword:  env("YAMEN_APP_DB_PASSWORD"),
		redisURL:     env("YAMEN_REDIS_URL"),
		logFormat:    env("YAMEN_LOG_FORMAT"),
		demoKeysFile: env("YAMEN_DEMO_KEYS_FILE"),
	}
	var errs []string
	if c.logFormat != "json" && c.logFormat != "text" {
		errs = append(errs, fmt.Sprintf("YAMEN_LOG_FORMAT=%q: want json or text", c.logFormat))
	}
	if err := c.logLevel.UnmarshalText([]byte(env("YAMEN_LOG_LEVEL"))); err != nil {
		errs = append(errs, fmt.Sprintf("YAMEN_LOG_LEVEL: %v", err))
	}
	n, err := strconv.ParseInt(env("YAMEN_MAX_BODY_BYTES"), 10, 64)
	if err != nil || n <= 0 {
		errs = append(errs, fmt.Sprintf("YAMEN_MAX_BODY_BYTES=%q: want a positive number of bytes", env("YAMEN_MAX_BODY_BYTES")))
	}
	c.maxBodyBytes = n
	d, err := time.ParseDuration(env("YAMEN_SHUTDOWN_TIMEOUT"))
	if err != nil || d < 0 {
		errs = append(errs, fmt.Sprintf("YAMEN_SHUTDOWN_TIMEOUT=%q: want a duration such as 30s", env("YAMEN_SHUTDOWN_TIMEOUT")))
	}
	c.shutdownTimeout = d
	if c.auditKey, err = tenants.ParseAuditKey(env("YAMEN_AUDIT_KEY")); err != nil {
		errs = append(errs, fmt.Sprintf("YAMEN_AUDIT_KEY: %v", err))
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("configuration: %s", strings.Join(errs, "; "))
	}
	return c, nil
}

func (c config) logger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.logLevel}
	if c.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func printSettings(w io.Writer) {
	fmt.Fprintln(w, "\nEnvironment (default in brackets):")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, s := range settings {
		def := s.def
		if def == "" {
			def = "none"
		}
		fmt.Fprintf(tw, "  %s\t%s [%s]\n", s.name, s.doc, def)
	}
	tw.Flush()
}
