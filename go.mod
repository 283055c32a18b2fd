module github.com/forge-orm/forge

go 1.26.0
