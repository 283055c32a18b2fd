package randx

import (
	"bytes"
	"testing"
)

// TestRead fills buffers (one larger than a getRandomValues call allows)
// and checks that they were written and differ.
func TestRead(t *testing.T) {
	for _, n := range []int{0, 1, 16, maxChunk + 100} {
		a, b := make([]byte, n), make([]byte, n)
		Read(a)
		Read(b)
		if n >= 16 && (bytes.Equal(a, b) || bytes.Equal(a, make([]byte, n))) {
			t.Errorf("Read of %d bytes: not random", n)
		}
		if n > maxChunk && bytes.Equal(a[maxChunk:], make([]byte, n-maxChunk)) {
			t.Errorf("Read of %d bytes left the tail zero", n)
		}
	}
}
