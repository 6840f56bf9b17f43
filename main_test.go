package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestHelpListsEveryEnvironmentVariable(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	require.NoError(t, run(context.Background(), &stdout, &stderr, []string{"serve", "--help"}))
	for _, s := range settings {
		require.Contains(t, stderr.String(), s.name)
	}
	require.Contains(t, stderr.String(), "127.0.0.1:8080")
}

func TestUnknownCommand(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), &stdout, &stderr, []string{"frobnicate"})
	require.Error(t, err)
	require.Equal(t, 2, exitCode(err))
	require.Contains(t, stderr.String(), "migrate")
}

func TestBadConfigurationIsNamed(t *testing.T) {
	t.Setenv("YAMEN_LOG_FORMAT", "xml")
	t.Setenv("YAMEN_SHUTDOWN_TIMEOUT", "soon")
	_, err := loadConfig()
	require.ErrorContains(t, err, "YAMEN_LOG_FORMAT")
	require.ErrorContains(t, err, "YAMEN_SHUTDOWN_TIMEOUT")
}

func TestOpenAPICommandPrintsTheServedDocument(t *testing.T) {
	t.Parallel()
	var stdout bytes.Buffer
	require.NoError(t, runOpenAPI(context.Background(), &stdout, nil))
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &doc))
	require.Equal(t, "3.1.0", doc.OpenAPI)
	require.Contains(t, doc.Paths, "/v1/t/{tenant}/modules")
	require.Contains(t, doc.Paths, "/v1/platform/tenants")

	stdout.Reset()
	require.NoError(t, runOpenAPI(context.Background(), &stdout, []string{"--yaml"}))
	require.True(t, strings.HasPrefix(stdout.String(), "components:") || strings.Contains(stdout.String(), "openapi: 3.1.0"))
}

// SIGTERM (here: the context ending) lets a request in flight finish before
// the server stops, and refuses new connections.
func TestShutdownDrainsRequestsInFlight(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	started := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(300 * time.Millisecond)
		_, _ = io.WriteString(w, "finished")
	})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serveHTTP(ctx, ln, h, 5*time.Second) }()

	type result struct {
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		got <- result{string(b), err}
	}()
	<-started
	cancel()

	r := <-got
	require.NoError(t, r.err)
	require.Equal(t, "finished", r.body)
	require.NoError(t, <-served)
	_, err = net.DialTimeout("tcp", ln.Addr().String(), time.Second)
	require.Error(t, err, "the listener is closed after shutdown")
}
