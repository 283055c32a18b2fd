package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forge-orm/forge/forgetest"
	"github.com/forge-orm/forge/gateway"
	"github.com/forge-orm/forge/internal/testsvc"
	"github.com/jackc/pgx/v5"
)

// privatePG is a PostgreSQL server of the test's own, which it may stop
// and start.
type privatePG struct {
	t      testing.TB
	bin    string // the folder of initdb and pg_ctl
	dir    string
	port   int
	asUser []string // runuser -u postgres -- when running as root
}

// startPrivatePG initializes and starts a private PostgreSQL from the
// server programs in /usr/lib/postgresql/*/bin (or on PATH), as
// ./scripts/test does. Without them the test is skipped loudly (failed
// under CI=true).
func startPrivatePG(t testing.TB) *privatePG {
	t.Helper()
	var bin string
	if dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin"); len(dirs) > 0 {
		slices.SortFunc(dirs, func(a, b string) int {
			va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
			vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
			return va - vb
		})
		for _, d := range slices.Backward(dirs) {
			if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
				bin = d
				break
			}
		}
	}
	if bin == "" {
		if p, err := exec.LookPath("pg_ctl"); err == nil {
			bin = filepath.Dir(p)
		}
	}
	if _, err := os.Stat(filepath.Join(bin, "initdb")); bin == "" || err != nil {
		forgetest.RequireService(t, "PostgreSQL server programs (initdb, pg_ctl in /usr/lib/postgresql/*/bin)")
	}
	// Not t.TempDir: the postgres user must be able to enter it.
	dir, err := os.MkdirTemp("", "forge-gateway-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	p := &privatePG{t: t, bin: bin, dir: dir, port: testsvc.FreePort(t)}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			forgetest.RequireService(t, "a 'postgres' user to run PostgreSQL as (the tests run as root)")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		p.asUser = []string{"runuser", "-u", "postgres", "--"}
	}
	p.run("initdb", "-D", filepath.Join(dir, "data"), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8", "--no-locale")
	p.start()
	t.Cleanup(func() { p.ctl("stop", "-m", "immediate") })
	return p
}

func (p *privatePG) run(prog string, args ...string) string {
	p.t.Helper()
	argv := append(append(slices.Clone(p.asUser), filepath.Join(p.bin, prog)), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = p.dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(p.dir, "log"))
		p.t.Fatalf("%s %s: %v\n%s\n%s", prog, strings.Join(args, " "), err, out, log)
	}
	return string(out)
}

func (p *privatePG) ctl(args ...string) {
	p.t.Helper()
	p.run("pg_ctl", append([]string{"-D", filepath.Join(p.dir, "data"), "-w", "-t", "60"}, args...)...)
}

func (p *privatePG) start() {
	p.t.Helper()
	p.ctl("-l", filepath.Join(p.dir, "log"), "-o", fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=100", p.port, p.dir), "start")
}

func (p *privatePG) stop() { p.t.Helper(); p.ctl("stop", "-m", "fast") }

func (p *privatePG) dsn() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.port)
}

// loadSample is one request of the load test.
type loadSample struct {
	start, end time.Duration // since the run began
	status     int
	write      bool
	errMsg     string // the error, when not 200
	clean      bool   // a non-200 answer with a JSON {message} body
}

// TestLoadAndOutage runs 64 clients, each mixing reads and two-row write
// transactions through the gateway's Neon protocol, for 30 s over
// loopback, against a private PostgreSQL that is stopped 10 s in and
// started again 3 s later. It checks that outside the outage (and a 5 s
// recovery allowance after the restart) no request fails; that during it
// every failure is a clean 503 JSON error; that the gateway recovers by
// itself; that every read sees each client's rows in pairs; and that no
// transaction is half applied: after the run each (client, seq) pair has
// both its rows or neither, and every acknowledged one has both. It logs
// the throughput and the p50/p99 latencies.
func TestLoadAndOutage(t *testing.T) {
	const (
		clients   = 64
		duration  = 30 * time.Second
		outageAt  = 10 * time.Second
		outageFor = 3 * time.Second
		recovery  = 5 * time.Second
	)
	pg := startPrivatePG(t)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, pg.dsn())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, `CREATE TABLE load (client int, seq int, part text, PRIMARY KEY (client, seq, part))`); err != nil {
		t.Fatal(err)
	}
	admin.Close(ctx)

	pool, err := gateway.OpenPostgres(ctx, pg.dsn(), gateway.PostgresOptions{MaxConns: 16, StatementTimeout: 10 * time.Second,
		DangerouslyAllowSuperuser: true}) // the test's own throwaway cluster, whose only role is its superuser
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var toks []gateway.Token
	for i := range 8 {
		toks = append(toks, gateway.Token{Name: "load" + strconv.Itoa(i), Secret: "load-secret-" + strconv.Itoa(i), Role: gateway.RoleWrite})
	}
	srv, url := startServer(t, gateway.Config{Postgres: pool, Tokens: toks, MaxConcurrent: 16})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()

	var (
		mu       sync.Mutex
		samples  []loadSample
		acked    = map[[2]int]bool{} // (client, seq) committed per the gateway
		oddReads []string
	)
	begin := time.Now()
	deadline := begin.Add(duration)
	post := func(token, body string) (int, []byte, error) {
		req, err := http.NewRequest(http.MethodPost, url+"/sql", strings.NewReader(body))
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Neon-Connection-String", connString)
		req.Header.Set("Neon-Raw-Text-Output", "true")
		req.Header.Set("Neon-Array-Mode", "true")
		res, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer res.Body.Close()
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, rerr := res.Body.Read(buf)
			b.WriteString(string(buf[:n]))
			if rerr != nil {
				break
			}
		}
		return res.StatusCode, []byte(b.String()), nil
	}
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 42))
			token := toks[c%len(toks)].Secret
			seq := 0
			for time.Now().Before(deadline) {
				s := loadSample{start: time.Since(begin), write: rng.IntN(10) < 4}
				var body string
				if s.write {
					seq++
					body = fmt.Sprintf(`{"queries":[{"query":"INSERT INTO load VALUES ($1, $2, 'a')","params":["%d","%d"]},{"query":"INSERT INTO load VALUES ($1, $2, 'b')","params":["%d","%d"]}]}`, c, seq, c, seq)
				} else {
					body = fmt.Sprintf(`{"query":"SELECT count(*) FROM load WHERE client = $1","params":["%d"]}`, c)
				}
				status, b, err := post(token, body)
				s.end, s.status = time.Since(begin), status
				if err != nil {
					s.errMsg = err.Error()
				} else if status != 200 {
					var e struct{ Message string }
					s.clean = json.Unmarshal(b, &e) == nil && e.Message != ""
					s.errMsg = string(b)
				}
				mu.Lock()
				samples = append(samples, s)
				if status == 200 && s.write {
					acked[[2]int{c, seq}] = true
				}
				if status == 200 && !s.write {
					var r struct{ Rows [][]string }
					if json.Unmarshal(b, &r) != nil || len(r.Rows) != 1 {
						oddReads = append(oddReads, string(b))
					} else if n, _ := strconv.Atoi(r.Rows[0][0]); n%2 != 0 {
						oddReads = append(oddReads, fmt.Sprintf("client %d saw %d rows", c, n))
					}
				}
				mu.Unlock()
				if status != 200 {
					time.Sleep(20 * time.Millisecond) // as a client backs off
				}
			}
		}()
	}
	// The outage.
	time.Sleep(time.Until(begin.Add(outageAt)))
	stopAt := time.Since(begin)
	pg.stop()
	stopped := time.Since(begin)
	time.Sleep(outageFor)
	pg.start()
	started := time.Since(begin)
	wg.Wait()
	elapsed := time.Since(begin)
	_ = srv

	// Judge every request.
	var lat, latOutside []time.Duration
	var total, ok, outageErrs, dirtyErrs, outsideErrs int
	recoveredAt := time.Duration(-1)
	statuses := map[int]int{}
	for _, s := range samples {
		total++
		statuses[s.status]++
		d := s.end - s.start
		lat = append(lat, d)
		inOutage := s.end >= stopAt && s.start <= started+recovery
		if !inOutage {
			latOutside = append(latOutside, d)
		}
		if s.status == 200 {
			ok++
			if s.start >= started && (recoveredAt < 0 || s.end < recoveredAt) {
				recoveredAt = s.end
			}
			continue
		}
		switch {
		case !inOutage:
			outsideErrs++
			if outsideErrs <= 5 {
				t.Errorf("a request outside the outage failed (at %v, status %d): %s", s.start, s.status, s.errMsg)
			}
		case s.status != http.StatusServiceUnavailable || !s.clean:
			dirtyErrs++
			if dirtyErrs <= 5 {
				t.Errorf("a request during the outage failed without a clean 503 (at %v, status %d): %s", s.start, s.status, s.errMsg)
			}
		default:
			outageErrs++
		}
	}
	if recoveredAt < 0 {
		t.Error("no request succeeded after PostgreSQL restarted")
	}
	for i, r := range oddReads {
		if i < 5 {
			t.Errorf("a read saw half a transaction: %s", r)
		}
	}
	// No transaction half applied; every acknowledged one whole.
	check, err := pgx.Connect(ctx, pg.dsn())
	if err != nil {
		t.Fatal(err)
	}
	defer check.Close(ctx)
	rows, err := check.Query(ctx, `SELECT client, seq, count(*) FROM load GROUP BY client, seq`)
	if err != nil {
		t.Fatal(err)
	}
	present := map[[2]int]int{}
	for rows.Next() {
		var c, s, n int
		if err := rows.Scan(&c, &s, &n); err != nil {
			t.Fatal(err)
		}
		present[[2]int{c, s}] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	half := 0
	for k, n := range present {
		if n != 2 {
			half++
			if half <= 5 {
				t.Errorf("client %d seq %d has %d of its 2 rows", k[0], k[1], n)
			}
		}
	}
	lost := 0
	for k := range acked {
		if present[k] != 2 {
			lost++
			if lost <= 5 {
				t.Errorf("client %d seq %d was acknowledged but is not there", k[0], k[1])
			}
		}
	}
	pct := func(d []time.Duration, p float64) time.Duration {
		if len(d) == 0 {
			return 0
		}
		s := slices.Clone(d)
		slices.Sort(s)
		return s[min(len(s)-1, int(float64(len(s))*p))]
	}
	ms := func(d time.Duration) string {
		return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 2, 64) + " ms"
	}
	t.Logf("clients %d, run %v, requests %d (%d ok), throughput %.0f req/s", clients, elapsed.Round(time.Millisecond), total, ok, float64(total)/elapsed.Seconds())
	t.Logf("latency all: p50 %s, p99 %s; outside the outage: p50 %s, p99 %s", ms(pct(lat, 0.5)), ms(pct(lat, 0.99)), ms(pct(latOutside, 0.5)), ms(pct(latOutside, 0.99)))
	t.Logf("outage: stop began %v, stopped %v, restarted %v; first success after restart at %v (%v after); clean 503s %d, other failures during it %d, failures outside it %d",
		stopAt.Round(time.Millisecond), stopped.Round(time.Millisecond), started.Round(time.Millisecond), recoveredAt.Round(time.Millisecond),
		(recoveredAt - started).Round(time.Millisecond), outageErrs, dirtyErrs, outsideErrs)
	t.Logf("consistency: %d transactions present, %d half applied, %d acknowledged, %d acknowledged but missing, %d reads of odd counts; statuses %v",
		len(present), half, len(acked), lost, len(oddReads), statuses)
	fmt.Printf("gateway load summary: %d clients %.0fs: %d requests, %.0f req/s, p50 %s, p99 %s (outside outage p50 %s, p99 %s); outage %v: %d clean 503s, %d unclean, %d errors outside; recovered %v after restart; %d transactions, %d half applied, %d acknowledged lost\n",
		clients, elapsed.Seconds(), total, float64(total)/elapsed.Seconds(), ms(pct(lat, 0.5)), ms(pct(lat, 0.99)), ms(pct(latOutside, 0.5)), ms(pct(latOutside, 0.99)),
		(started - stopAt).Round(time.Millisecond), outageErrs, dirtyErrs, outsideErrs, (recoveredAt - started).Round(time.Millisecond), len(present), half, lost)
}
