package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	kitexdiscovery "github.com/cloudwego/kitex/pkg/discovery"

	"github.com/bangbang-im/bangbang/core-im/gateway"
	"github.com/bangbang-im/bangbang/internal/discovery"
	"github.com/bangbang-im/bangbang/tracing"
)

// config is every setting of every command, with its default. Each command registers the
// fields it uses as flags; a flag's default comes from its BANGBANG_* variable when set.
type config struct {
	DataDir      string                  // --data-dir: what the embedded defaults write; default ./data
	DatabaseURL  string                  // DATABASE_URL: PostgreSQL; "" means SQLite under DataDir
	RedisAddr    string                  // REDIS_ADDR: route table in Redis; "" means in-process
	RedisPrefix  string                  // --redis-prefix: starts every key this deployment writes; default "bb:"
	Etcd         string                  // --etcd or ETCD_ENDPOINTS: comma-separated etcd endpoints; "" means static addresses
	EtcdPrefix   string                  // --etcd-prefix: key prefix of this deployment in etcd; default "bangbang"
	resolver     kitexdiscovery.Resolver // etcdResolver's, once made
	TCPAddr      string                  // --tcp-addr: IM TCP listener; default :8800
	WSAddr       string                  // --ws-addr: IM WebSocket listener (path /ws); default :8801
	EdgeAddr     string                  // --edge-addr: merchant HTTP API; default :8700
	AdminAddr    string                  // --admin-addr: staff API; default 127.0.0.1:8701 (loopback: expose it with --admin-addr :8701)
	AdminTLSCert string                  // --admin-tls-cert: PEM certificate chain; with --admin-tls-key the staff API speaks HTTPS only
	AdminTLSKey  string                  // --admin-tls-key: PEM private key of --admin-tls-cert
	adminTLS     *tls.Config             // loadAdminTLS's, once loaded
	MetricsAddr  string                  // --metrics-addr: /metrics, /healthz and /readyz of a process without the staff API; default per command on 127.0.0.1, "-" none
	LogicAddr    string                  // --logic-addr: logic Kitex listener (logic) or target (gateway, edge); default :8900
	PushAddr     string                  // --push-addr: gateway push Kitex listener; default :8901
	Node         string                  // --node: the address logic dials for this gateway's pushes; default 127.0.0.1:<push port>
	PublicHost   string                  // --public-host: host named in /v1/login's IM addresses; default 127.0.0.1
	TokenSecret  string                  // --token-secret: HMAC key (>= 32 bytes) shared by edge and gateways; default: generated once into DataDir
	TokenTTL     time.Duration           // --token-ttl: token lifetime; default 24h
	IOModel      string                  // --io: gateway TCP I/O model, goroutine or netpoll; default goroutine (BENCHMARKS.md 1.3)
	UpgradeWait  time.Duration           // --ws-upgrade-timeout: the whole WebSocket upgrade request must arrive within it; default 5s
	AddrCap      int                     // --max-conns-per-addr: IM connections one client address may hold per gateway; default 256, 0 no cap
	FrameRate    float64                 // --frame-rate: frames per second per IM connection; default 50
	FrameBurst   int                     // --frame-burst: default 100
	SendWindow   int                     // --send-window: SENDs a connection may have unanswered; default 32
	LoginsBound  int                     // --max-logins-in-flight: first AUTHs a gateway has at logic at once; default 128, 0 no bound
	Heartbeat    time.Duration           // --heartbeat-interval: what clients keep; gateways renew routes that often, logic keeps them 3× as long; default 30s
	Demo         bool                    // --demo: seed demo users (all and logic)
	DemoUsers    int                     // --demo-users: how many merchants and customers --demo seeds; default 20
	LogLevel     string                  // --log-level: debug, info, warn, error; default info
	ChatRatio    float64                 // --trace-chat-ratio: share of chat requests traced, in [0, 1]; default 0.1
	ReadRatio    float64                 // --trace-read-ratio: share of read-only marketing requests traced, in [0, 1]; default 0.1
}

func defaults() config {
	return config{
		DataDir: "./data", TCPAddr: ":8800", WSAddr: ":8801", EdgeAddr: ":8700", AdminAddr: "127.0.0.1:8701",
		LogicAddr: ":8900", PushAddr: ":8901", PublicHost: "127.0.0.1",
		TokenTTL: 24 * time.Hour, IOModel: gateway.IOModelEventLoop, LogLevel: "info", ChatRatio: tracing.DefaultChatSampleRatio, ReadRatio: tracing.DefaultReadSampleRatio,
		UpgradeWait: gateway.DefaultUpgradeTimeout, AddrCap: gateway.DefaultMaxConnsPerAddr, LoginsBound: gateway.DefaultMaxLoginsInFlight, Heartbeat: 30 * time.Second,
		RedisPrefix: "bb:",
		DemoUsers:   DefaultDemoUsers,
		FrameRate:   gateway.DefaultFrameRate, FrameBurst: gateway.DefaultFrameBurst, SendWindow: gateway.DefaultSendWindow,
	}
}

// flagSet binds the named fields of c. Unknown BANGBANG_* variables are an error, like
// unknown flags: a typo in a deployment must not silently fall back to a default.
type flagSet struct {
	fs    *flag.FlagSet
	known map[string]bool
	err   error
}

func newFlagSet(name string, stderr io.Writer) *flagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return &flagSet{fs: fs, known: map[string]bool{}}
}

func envName(flagName string) string {
	return "BANGBANG_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func (f *flagSet) env(name string) (string, bool) {
	key := envName(name)
	f.known[key] = true
	return os.LookupEnv(key)
}

func (f *flagSet) str(p *string, name, usage string) {
	if v, ok := f.env(name); ok {
		*p = v
	}
	f.fs.StringVar(p, name, *p, usage+" ("+envName(name)+")")
}

func (f *flagSet) boolean(p *bool, name, usage string) {
	if v, ok := f.env(name); ok {
		*p = v == "1" || strings.EqualFold(v, "true")
	}
	f.fs.BoolVar(p, name, *p, usage+" ("+envName(name)+")")
}

func (f *flagSet) float(p *float64, name, usage string) {
	if v, ok := f.env(name); ok {
		x, err := strconv.ParseFloat(v, 64)
		if err != nil && f.err == nil {
			f.err = fmt.Errorf("%s: %w", envName(name), err)
		}
		*p = x
	}
	f.fs.Float64Var(p, name, *p, usage+" ("+envName(name)+")")
}

func (f *flagSet) integer(p *int, name, usage string) {
	if v, ok := f.env(name); ok {
		n, err := strconv.Atoi(v)
		if err != nil && f.err == nil {
			f.err = fmt.Errorf("%s: %w", envName(name), err)
		}
		*p = n
	}
	f.fs.IntVar(p, name, *p, usage+" ("+envName(name)+")")
}

func (f *flagSet) duration(p *time.Duration, name, usage string) {
	if v, ok := f.env(name); ok {
		d, err := time.ParseDuration(v)
		if err != nil && f.err == nil {
			f.err = fmt.Errorf("%s: %w", envName(name), err)
		}
		*p = d
	}
	f.fs.DurationVar(p, name, *p, usage+" ("+envName(name)+")")
}

// parse parses args and checks the environment for BANGBANG_* names no flag knows.
func (f *flagSet) parse(args []string) error {
	if f.err != nil {
		return f.err
	}
	if err := f.fs.Parse(args); err != nil {
		return err
	}
	if f.fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", f.fs.Args())
	}
	f.known["BANGBANG_ADMIN_KEY"] = true // read by the admin API
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "BANGBANG_") && !strings.HasPrefix(k, "BANGBANG_TEST_") && !f.known[k] {
			return fmt.Errorf("unknown variable %s for %s", k, f.fs.Name())
		}
	}
	return nil
}

// Registration helpers shared by the commands.
func (f *flagSet) common(c *config) {
	f.str(&c.DataDir, "data-dir", "directory for embedded data and generated secrets")
	f.str(&c.TokenSecret, "token-secret", "HMAC key for tokens, at least 32 bytes")
	f.duration(&c.TokenTTL, "token-ttl", "token lifetime")
	f.str(&c.LogLevel, "log-level", "debug, info, warn or error")
	f.float(&c.ChatRatio, "trace-chat-ratio", "share of chat requests whose traces are kept, 0..1 (errors are always kept)")
	f.float(&c.ReadRatio, "trace-read-ratio", "share of read-only marketing requests (GET: credits, stats, leads) whose traces are kept, 0..1 (paid and state-changing actions and errors are always kept)")
}

func (f *flagSet) stores(c *config) {
	f.database(c)
	c.RedisAddr = os.Getenv("REDIS_ADDR")
	f.str(&c.RedisAddr, "redis-addr", "Redis address, host:port or redis://[user:password@]host:port[/db] (also REDIS_ADDR); empty: in-process route table")
	f.redisPrefix(c)
}

// redisPrefix registers --redis-prefix: deployments sharing one Redis each take their own.
func (f *flagSet) redisPrefix(c *config) {
	f.str(&c.RedisPrefix, "redis-prefix", `start of every Redis key this deployment writes (routes "rt:", limits "rl:", idempotency "idem:", campaign pacing "pace:" follow it); deployments sharing a Redis each take their own`)
}

// redisKey is the deployment's prefix followed by a component's part.
func (c *config) redisKey(part string) string { return c.RedisPrefix + part }

// checkRedisPrefix refuses a prefix that would move keys to another Redis Cluster slot.
func checkRedisPrefix(p string) error {
	if strings.ContainsAny(p, "{}") {
		return fmt.Errorf("--redis-prefix %q: '{' and '}' would change the keys' Redis Cluster hash tags", p)
	}
	return nil
}

// heartbeat registers --heartbeat-interval, which gateways and logic must agree on: a
// gateway renews its routes that often and sweeps a connection silent for 3 intervals;
// logic keeps a route 3 intervals, so a dead gateway's routes are gone within that.
func (f *flagSet) heartbeat(c *config) {
	f.duration(&c.Heartbeat, "heartbeat-interval", "how often clients send a frame and gateways renew routes; logic keeps routes 3× as long (give gateways and logic the same)")
}

// discovery registers --etcd (ETCD_ENDPOINTS) and --etcd-prefix.
func (f *flagSet) discovery(c *config) {
	c.Etcd = os.Getenv("ETCD_ENDPOINTS")
	f.str(&c.Etcd, "etcd", "etcd endpoints, comma-separated (also ETCD_ENDPOINTS): nodes register and find each other there; empty: static addresses")
	c.EtcdPrefix = discovery.DefaultPrefix
	f.str(&c.EtcdPrefix, "etcd-prefix", "key prefix of this deployment in etcd")
}

// etcdResolver is the process's one etcd resolver (one etcd client), made on first use:
// the logic client and the edge's gateway list share it.
func (c *config) etcdResolver() (kitexdiscovery.Resolver, error) {
	if c.resolver == nil {
		dc, _ := c.discoveryConfig()
		r, err := discovery.NewResolver(dc)
		if err != nil {
			return nil, err
		}
		c.resolver = r
	}
	return c.resolver, nil
}

// discoveryConfig is the etcd share of c; ok is false without endpoints.
func (c *config) discoveryConfig() (discovery.Config, bool) {
	eps := discovery.ParseEndpoints(c.Etcd)
	return discovery.Config{Endpoints: eps, Prefix: c.EtcdPrefix}, len(eps) > 0
}

func (f *flagSet) database(c *config) {
	c.DatabaseURL = os.Getenv("DATABASE_URL")
	f.str(&c.DatabaseURL, "database-url", "PostgreSQL URL (also DATABASE_URL); empty: SQLite under --data-dir")
}

func (f *flagSet) gatewayFlags(c *config) {
	f.str(&c.TCPAddr, "tcp-addr", "IM TCP listen address")
	f.str(&c.WSAddr, "ws-addr", "IM WebSocket listen address (path /ws)")
	f.str(&c.IOModel, "io", "gateway TCP I/O model: eventloop (default), goroutine or netpoll")
	f.duration(&c.UpgradeWait, "ws-upgrade-timeout", "time a WebSocket client has, from its connect, to send its whole upgrade request")
	f.integer(&c.AddrCap, "max-conns-per-addr", "IM connections (TCP and WebSocket) one client address may hold on a gateway; 0 for no cap")
	f.float(&c.FrameRate, "frame-rate", "frames per second one IM connection may send (token bucket rate)")
	f.integer(&c.FrameBurst, "frame-burst", "frames one IM connection may send at once (token bucket size)")
	f.integer(&c.SendWindow, "send-window", fmt.Sprintf("SENDs one IM connection may have unanswered, 1..%d", gateway.MaxSendWindow))
	f.heartbeat(c)
	f.integer(&c.LoginsBound, "max-logins-in-flight", "logins (first AUTHs) a gateway has at logic at once; one more is refused at once, temporary, with a retry-after; 0 for no bound")
}

// gatewayConfig is the gateway's share of c.
func (c *config) gatewayConfig() gateway.Config {
	addrCap := c.AddrCap
	if addrCap <= 0 {
		addrCap = -1 // the flag's 0 is "no cap", the config's is "default"
	}
	logins := c.LoginsBound
	if logins <= 0 {
		logins = -1 // the flag's 0 is "no bound", the config's is "default"
	}
	return gateway.Config{TCPAddr: c.TCPAddr, WSAddr: c.WSAddr, IOModel: c.IOModel, HeartbeatInterval: c.Heartbeat,
		UpgradeTimeout: c.UpgradeWait, MaxConnsPerAddr: addrCap, MaxLoginsInFlight: logins,
		FrameRate: c.FrameRate, FrameBurst: c.FrameBurst, SendWindow: c.SendWindow}
}

func (f *flagSet) metricsFlag(c *config) {
	f.str(&c.MetricsAddr, "metrics-addr", `listen address of GET /metrics (Prometheus), GET /healthz and GET /readyz; loopback by default, ":port" to expose it; "-" for none`)
}

func (f *flagSet) edgeFlags(c *config) {
	f.str(&c.EdgeAddr, "edge-addr", "merchant HTTP API listen address")
	f.str(&c.PublicHost, "public-host", "host clients are told to connect to")
}

// adminTLS binds the staff API's certificate flags.
func (f *flagSet) adminTLS(c *config) {
	f.str(&c.AdminTLSCert, "admin-tls-cert", "PEM certificate (chain) file: the staff API speaks HTTPS only, session cookies Secure")
	f.str(&c.AdminTLSKey, "admin-tls-key", "PEM private key file of --admin-tls-cert")
}

// certRecheck is how often the staff API's certificate files are looked at for a renewal.
const certRecheck = 30 * time.Second

// loadAdminTLS loads the staff API's certificate into c.adminTLS: nil when neither flag
// is set (plain HTTP, for a proxy that ends TLS), an error when only one is or the files
// do not load. It runs before anything starts, so a bad certificate stops nothing. The
// files are loaded again when they change (certReloader).
func (c *config) loadAdminTLS() error {
	if c.AdminTLSCert == "" && c.AdminTLSKey == "" {
		return nil
	}
	if c.AdminTLSCert == "" || c.AdminTLSKey == "" {
		return errors.New("--admin-tls-cert and --admin-tls-key go together: set both or neither")
	}
	certs, err := newCertReloader(c.AdminTLSCert, c.AdminTLSKey, certRecheck)
	if err != nil {
		return fmt.Errorf("admin TLS: %w", err)
	}
	c.adminTLS = &tls.Config{GetCertificate: certs.GetCertificate, MinVersion: tls.VersionTLS12}
	return nil
}
