package forge

import (
	"time"

	"github.com/forge-orm/forge/dialect"
)

// encodeScalar converts one non-NULL scalar as forge stores it: times in
// the dialect's form. f names the field, or arg the raw argument.
func encodeScalar(d dialect.Dialect, _ *field, _ int, v any) (any, error) {
	if t, ok := v.(time.Time); ok {
		return d.EncodeTime(t), nil
	}
	return v, nil
}
