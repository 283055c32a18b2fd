//go:build !(js && wasm)

package randx

import "crypto/rand"

// Read fills b with random bytes from crypto/rand (whose Read never returns
// an error: it crashes the program if the platform's generator fails).
func Read(b []byte) {
	_, _ = rand.Read(b)
}
