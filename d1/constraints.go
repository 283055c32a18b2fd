package d1

// The constraints a D1 session can start from (Session).
const (
	// FirstUnconstrained lets the session's first query run on any replica
	// (the fastest read, possibly stale).
	FirstUnconstrained = "first-unconstrained"
	// FirstPrimary runs the session's first query on the primary (the
	// latest data).
	FirstPrimary = "first-primary"
)
