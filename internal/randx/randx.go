// Package randx reads cryptographically secure random bytes without
// importing crypto/rand in js/wasm builds.
//
// crypto/rand is a thin layer over the platform's generator, but importing
// it links and initialises Go's FIPS 140 module (a DRBG, AES, SHA-2, SHA-3
// and HMAC): about 50 KB gzipped and several package initialisers in a
// Cloudflare Worker, whose start time grows with both. In js/wasm builds Read
// calls the runtime's crypto.getRandomValues directly, which is the source
// crypto/rand itself uses there; elsewhere it is crypto/rand.Read.
package randx

// maxChunk is the most crypto.getRandomValues fills in one call (the Web
// Crypto API refuses more than 65536 bytes).
const maxChunk = 65536
