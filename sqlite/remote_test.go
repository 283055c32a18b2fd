package sqlite_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/fetch"
	"github.com/forge-orm/forge/fetch/nethttp"
	"github.com/forge-orm/forge/forgetest"
	"github.com/forge-orm/forge/remote"
	"github.com/forge-orm/forge/remote/remotehttp"
)

// openRemote serves a fresh SQLite database with remotehttp and returns
// forge's remote driver talking to it over HTTP.
func openRemote(t testing.TB, atomic bool) driver.Conn {
	backend := openTemp(t)
	srv := httptest.NewServer(remotehttp.Handler(backend, remotehttp.Options{Token: "s3cret"}))
	t.Cleanup(srv.Close)
	ep := remote.NewJSONEndpoint(srv.URL, nethttp.New(srv.Client()), fetch.Header{{Name: "Authorization", Value: "Bearer s3cret"}})
	conn, err := remote.Open(remote.Config{Dialect: dialect.SQLite, Endpoint: ep, Atomic: atomic})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { backend.Close() })
	return conn
}

// TestRemoteConformance runs the suite through the bring-your-own-endpoint
// driver and its JSON protocol, served in front of SQLite.
func TestRemoteConformance(t *testing.T) {
	forgetest.Run(t, func(t testing.TB) driver.Conn { return openRemote(t, true) })
}

// TestRemoteNotAtomic: an endpoint that does not declare atomicity gets no
// Batch: forge refuses rather than run statements one by one.
func TestRemoteNotAtomic(t *testing.T) {
	h := forgetest.Setup(t, func(t testing.TB) driver.Conn { return openRemote(t, false) })
	_, err := h.DB.Batch(context.Background(), forgetest.Users.CreateOp(forgetest.User{Email: "a@x"}))
	var ce *driver.CapabilityError
	if !errors.As(err, &ce) {
		t.Fatalf("Batch on a non-atomic endpoint: %v", err)
	}
}

func TestRemoteHandlerRejectsBadInput(t *testing.T) {
	srv := httptest.NewServer(remotehttp.Handler(openTemp(t), remotehttp.Options{Token: "s3cret", MaxBody: 1024}))
	defer srv.Close()
	for name, tc := range map[string]struct {
		body, auth string
		status     int
	}{
		"no token":      {`{"statements":[{"sql":"SELECT 1"}]}`, "", http.StatusUnauthorized},
		"wrong token":   {`{"statements":[{"sql":"SELECT 1"}]}`, "Bearer nope", http.StatusUnauthorized},
		"garbage":       {`{"statements":`, "Bearer s3cret", http.StatusBadRequest},
		"unknown field": {`{"statements":[{"sql":"SELECT 1"}],"x":1}`, "Bearer s3cret", http.StatusBadRequest},
		"bad value":     {`{"statements":[{"sql":"SELECT ?","args":[{"int":"1.5"}]}]}`, "Bearer s3cret", http.StatusBadRequest},
		"two keys":      {`{"statements":[{"sql":"SELECT ?","args":[{"int":"1","text":"x"}]}]}`, "Bearer s3cret", http.StatusBadRequest},
		"no statements": {`{"statements":[]}`, "Bearer s3cret", http.StatusBadRequest},
		"too large":     {`{"statements":[{"sql":"` + strings.Repeat("a", 2000) + `"}]}`, "Bearer s3cret", http.StatusRequestEntityTooLarge},
		"bad sql":       {`{"statements":[{"sql":"SELEKT"}]}`, "Bearer s3cret", http.StatusBadRequest},
	} {
		req, _ := http.NewRequest("POST", srv.URL, strings.NewReader(tc.body))
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d", name, res.StatusCode, tc.status)
		}
	}
}
