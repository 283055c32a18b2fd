package kvcache_test

import (
	"runtime"
	"testing"

	"github.com/forge-orm/forge/internal/testsvc"
)

// TestKVCacheUnderWorkerd runs TestKVStoreInWorker inside the real workerd
// (Miniflare) with a KV namespace and a D1 database.
func TestKVCacheUnderWorkerd(t *testing.T) {
	if runtime.GOOS == "js" {
		t.Skip("starts workerd")
	}
	testsvc.WorkerTest(t, testsvc.WorkerOptions{
		Run: "InWorker$",
		Miniflare: map[string]any{
			"kvNamespaces": []string{"KV"},
			"d1Databases":  []string{"DB"},
		},
		Want: []string{"--- PASS: TestKVStoreInWorker "},
	})
}
