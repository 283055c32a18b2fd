package forge

import (
	"encoding/binary"
	"encoding/hex"
	"time"

	"github.com/forge-orm/forge/internal/randx"
)

// NewUUIDv7 returns a random UUID version 7 (RFC 9562) as text: 48 bits of
// Unix milliseconds followed by 74 bits from crypto/rand (in js/wasm builds,
// from crypto.getRandomValues, its source there). IDs sort by creation time,
// and two made in the same millisecond still differ.
func NewUUIDv7() string {
	var u [16]byte
	randx.Read(u[6:])
	ms := uint64(time.Now().UnixMilli())
	var ts [8]byte
	binary.BigEndian.PutUint64(ts[:], ms)
	copy(u[0:6], ts[2:8])
	u[6] = 0x70 | u[6]&0x0f // version 7
	u[8] = 0x80 | u[8]&0x3f // variant 10
	var out [36]byte
	hex.Encode(out[0:8], u[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], u[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], u[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], u[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], u[10:16])
	return string(out[:])
}
