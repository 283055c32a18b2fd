package sqlite

import "github.com/forge-orm/forge/stdsql/stmtcache"

// DefaultStatementCacheSize is how many prepared statements each connection
// keeps when Open is given no StatementCache option.
const DefaultStatementCacheSize = 128

// MaxCachedStatementLen is the length, in bytes, of the longest SQL text the
// statement cache keeps: longer statements (large multi-row inserts, IN
// lists with thousands of keys) rarely repeat exactly and compile to large
// programs, so they are prepared for each call, as without a cache.
const MaxCachedStatementLen = stmtcache.MaxStatementLen

// Option configures Open.
type Option func(*options)

type options struct {
	cacheSize int
}

func defaultOptions() options { return options{cacheSize: DefaultStatementCacheSize} }

// StatementCache sets how many prepared statements each connection keeps
// (see the package doc). n <= 0 turns the cache off: every statement is
// prepared for its call and finalized after it, as modernc.org/sqlite does
// on its own.
func StatementCache(n int) Option {
	return func(o *options) {
		if n < 0 {
			n = 0
		}
		o.cacheSize = n
	}
}
