//go:build js && wasm

package randx

import "syscall/js"

// Read fills b with random bytes from globalThis.crypto.getRandomValues. It
// panics if the runtime has no Web Crypto, as crypto/rand does when the
// platform's generator fails: there is no safe way to go on.
func Read(b []byte) {
	crypto := js.Global().Get("crypto")
	if crypto.Type() != js.TypeObject {
		panic("forge: globalThis.crypto.getRandomValues is not available; a secure random source is required")
	}
	for len(b) > 0 {
		n := min(len(b), maxChunk)
		u := js.Global().Get("Uint8Array").New(n)
		crypto.Call("getRandomValues", u)
		js.CopyBytesToGo(b[:n], u)
		b = b[n:]
	}
}
