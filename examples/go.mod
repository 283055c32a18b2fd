module github.com/forge-orm/forge/examples

go 1.26.0

require (
	github.com/forge-orm/forge v0.0.0
	github.com/forge-orm/forge/hyperdrive v0.0.0
	github.com/forge-orm/forge/sqlite v0.0.0
)

replace (
	github.com/forge-orm/forge => ../
	github.com/forge-orm/forge/hyperdrive => ../hyperdrive
	github.com/forge-orm/forge/pgx => ../pgx
	github.com/forge-orm/forge/sqlite => ../sqlite
)
