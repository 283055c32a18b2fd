package mysql_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/migrate"
)

type Team struct {
	ID   string
	Name string
}

type Player struct {
	ID     int64
	TeamID string
	Alias  *string
}

var (
	Teams = forge.Model("teams", func(t *Team, f *forge.Fields) {
		f.TextID(&t.ID)
		f.Text(&t.Name).Unique()
	})
	Players = forge.Model("players", func(p *Player, f *forge.Fields) {
		f.ID(&p.ID)
		f.Text(&p.TeamID).References(forge.Ref[Team]())
		f.NullText(&p.Alias)
	})
)

// TestTextKeys: a text primary key and a text foreign key to it are
// VARCHAR(255) (MySQL cannot key LONGTEXT, and a foreign key's type must
// match), enforced, and without drift; longer keyed text is refused by the
// server, nothing written.
func TestTextKeys(t *testing.T) {
	dsn(t)
	ctx := context.Background()
	conn := openDB(t)
	db, err := forge.Open(forge.MustSchema(Teams, Players), conn)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateSchema(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateSchema(ctx); err != nil {
		t.Fatalf("CreateSchema again: %v", err)
	}
	team, err := Teams.Create(ctx, db, Team{Name: "reds"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Players.Create(ctx, db, Player{TeamID: team.ID}); err != nil {
		t.Fatal(err)
	}
	var ce *forge.ConstraintError
	if _, err := Players.Create(ctx, db, Player{TeamID: "nope"}); !errors.As(err, &ce) || ce.Kind != forge.ForeignKeyViolation || ce.Model != "Player" {
		t.Errorf("a text foreign key to nothing: %v", err)
	}
	if _, err := Teams.Create(ctx, db, Team{Name: strings.Repeat("x", 256)}); err == nil {
		t.Error("a 256-character unique text was accepted (and truncated?)")
	}
	if n, _ := Teams.Count(ctx, db); n != 1 {
		t.Errorf("%d teams, want 1", n)
	}
	drift, err := db.Drift(ctx)
	if err != nil || !drift.Empty() {
		t.Errorf("drift after CreateSchema (%v):\n%s", err, drift.Describe())
	}
	live, err := migrate.Inspect(ctx, conn, conn.Dialect())
	if err != nil {
		t.Fatal(err)
	}
	if c := live.Table("players").Column("team_id"); c == nil || c.Type != "varchar(255)" || !c.ForeignKey {
		t.Errorf("players.team_id as inspected: %+v", c)
	}
}
