package bench

import (
	"context"

	gormmysql "gorm.io/driver/mysql"
	"gorm.io/driver/postgres"
	gormsqlite "gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// GUser and GPost are the model's structs for GORM.
type GUser struct {
	ID      int64 `gorm:"primaryKey"`
	Name    string
	Email   string
	City    string
	Bio     string
	Age     int32
	Active  bool
	Balance int64
	Posts   []GPost `gorm:"foreignKey:UserID"`
}

// TableName names GUser's table.
func (GUser) TableName() string { return "bench_users" }

// GPost is a bench_posts row for GORM.
type GPost struct {
	ID     int64 `gorm:"primaryKey"`
	UserID int64
	Title  string
	Likes  int64
}

// TableName names GPost's table.
func (GPost) TableName() string { return "bench_posts" }

func (u *GUser) row() Row {
	return Row{ID: u.ID, Name: u.Name, Email: u.Email, City: u.City, Bio: u.Bio, Age: u.Age, Active: u.Active, Balance: u.Balance}
}

// gormLib is GORM with the settings its performance guide recommends:
// PrepareStmt (a cache of prepared statements) and SkipDefaultTransaction
// (no transaction around single writes); its logger is silent, as no other
// library logs. On PostgreSQL it uses gorm.io/driver/postgres (pgx's stdlib
// driver). On SQLite gorm.io/driver/sqlite is given the shared
// modernc.org/sqlite *sql.DB as its connection (Conn), so every statement
// runs on modernc; that package also links github.com/mattn/go-sqlite3,
// which is never opened. On MySQL gorm.io/driver/mysql is given a
// go-sql-driver/mysql *sql.DB with the shared settings, interpolation off
// (PrepareStmt runs every statement prepared).
type gormLib struct {
	db   *gorm.DB
	dry  *gorm.DB
	tmpl []GUser
	ids  IDSeq
}

func openGorm(ctx context.Context, e *Env) (Lib, error) {
	var dial gorm.Dialector
	switch e.DB {
	case Postgres:
		dial = postgres.Open(e.DSN)
	case MySQL:
		sqlDB, err := openMySQLConfig(mysqlConfig(e, false))
		if err != nil {
			return nil, err
		}
		dial = gormmysql.New(gormmysql.Config{Conn: sqlDB, SkipInitializeWithVersion: true})
	default:
		sqlDB, err := openSQLDB(e)
		if err != nil {
			return nil, err
		}
		dial = gormsqlite.New(gormsqlite.Config{Conn: sqlDB})
	}
	db, err := gorm.Open(dial, &gorm.Config{
		PrepareStmt:            true,
		SkipDefaultTransaction: true,
		Logger:                 logger.Default.LogMode(logger.Silent),
	})
	if err != nil {
		return nil, err
	}
	l := &gormLib{db: db, dry: db.Session(&gorm.Session{DryRun: true})}
	for _, u := range NewUsers() {
		l.tmpl = append(l.tmpl, GUser{Name: u.Name, Email: u.Email, City: u.City, Bio: u.Bio, Age: u.Age, Active: u.Active, Balance: u.Balance})
	}
	return l, nil
}

func (l *gormLib) Close() error {
	sqlDB, err := l.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

func (l *gormLib) InsertOne(ctx context.Context, i int) error {
	u := NewUser(i)
	g := GUser{Name: u.Name, Email: u.Email, City: u.City, Bio: u.Bio, Age: u.Age, Active: u.Active, Balance: u.Balance}
	if err := l.db.WithContext(ctx).Create(&g).Error; err != nil {
		return err
	}
	return l.ids.Next(g.ID)
}

func (l *gormLib) InsertMany(ctx context.Context, i int) error {
	// GORM writes the generated ids into the slice: insert a fresh copy.
	rows := make([]GUser, len(l.tmpl))
	copy(rows, l.tmpl)
	res := l.db.WithContext(ctx).Create(&rows)
	if res.Error != nil {
		return res.Error
	}
	for k := range rows {
		if err := l.ids.Next(rows[k].ID); err != nil {
			return err
		}
	}
	return CheckCount("insert-100", int(res.RowsAffected), ManyRows)
}

func (l *gormLib) UpdateOne(ctx context.Context, i int) error {
	id, city, balance := UpdateTarget(i)
	res := l.db.WithContext(ctx).Model(&GUser{ID: id}).Updates(GUser{City: city, Balance: balance})
	if res.Error != nil {
		return res.Error
	}
	return CheckAffected(res.RowsAffected)
}

func (l *gormLib) ReadOne(ctx context.Context, i int) error {
	id := ReadID(i)
	var u GUser
	if err := l.db.WithContext(ctx).Take(&u, id).Error; err != nil {
		return err
	}
	return CheckUser(u.row(), id)
}

func (l *gormLib) ReadMany(ctx context.Context, i int) error {
	var users []GUser
	if err := l.db.WithContext(ctx).Order("id").Limit(ManyRows).Find(&users).Error; err != nil {
		return err
	}
	if err := CheckCount("read-100", len(users), ManyRows); err != nil {
		return err
	}
	for k := range users {
		if err := CheckUser(users[k].row(), int64(k+1)); err != nil {
			return err
		}
	}
	return nil
}

func (l *gormLib) ReadRelations(ctx context.Context, i int) error {
	var users []GUser
	if err := l.db.WithContext(ctx).Preload("Posts").Order("id").Limit(RelParents).Find(&users).Error; err != nil {
		return err
	}
	if err := CheckCount("parents", len(users), RelParents); err != nil {
		return err
	}
	for k := range users {
		u := &users[k]
		if err := CheckUser(u.row(), int64(k+1)); err != nil {
			return err
		}
		if err := CheckCount("posts", len(u.Posts), PostsPerUser); err != nil {
			return err
		}
		for _, p := range u.Posts {
			if err := CheckPost(PostRow(p), u.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// BuildSelect builds the statement in a DryRun session: GORM runs its
// query callbacks and stops before the database.
func (l *gormLib) BuildSelect(i int) error {
	var users []GUser
	stmt := l.dry.Where("age > ?", BuildMinAge).Where("active = ?", true).Order("id DESC").Limit(BuildLimit).Find(&users).Statement
	return CheckBuilt(stmt.SQL.String(), len(stmt.Vars))
}
