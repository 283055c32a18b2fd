module github.com/forge-orm/forge/hyperdrive

go 1.26.0

require (
	github.com/forge-orm/forge v0.0.0
	github.com/forge-orm/forge/pgx v0.0.0
	github.com/jackc/pgx/v5 v5.12.0 // the PostgreSQL protocol, over the Worker's socket
)

require (
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	golang.org/x/sync v0.22.0 // indirect
	golang.org/x/text v0.41.0 // indirect
)

replace (
	github.com/forge-orm/forge => ../
	github.com/forge-orm/forge/pgx => ../pgx
)
