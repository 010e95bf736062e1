package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/bangbang-im/bangbang/core-im/client"
	"github.com/bangbang-im/bangbang/tracing"
)

// imFlags are what every `im` subcommand needs to reach the system as one user.
type imFlags struct {
	edge, user, password, token, addr, device string
	// tracer gives each send a client span: the terminal client is a debugging tool, so
	// it traces every send, exported where the OTEL_* variables say.
	tracer trace.TracerProvider
}

func (f *flagSet) imFlags(c *imFlags) {
	c.edge, c.password, c.device = "http://127.0.0.1:8700", "demo", "cli"
	f.str(&c.edge, "edge", "edge base URL for /v1/login")
	f.str(&c.user, "user", "user id to log in as")
	f.str(&c.password, "password", "password")
	f.str(&c.token, "token", "token from 'im login' (instead of --user/--password)")
	f.str(&c.addr, "addr", "gateway TCP address (default: the one /v1/login names)")
	f.str(&c.device, "device", "device id of this client")
}

type loginResult struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	IM        struct {
		TCP   string `json:"tcp"`
		WS    string `json:"ws"`
		Nodes []struct {
			TCP string `json:"tcp"`
		} `json:"nodes"`
	} `json:"im"`
}

// gateways are the IM TCP addresses login named, in the order to try them.
func (lr loginResult) gateways() []string {
	var out []string
	for _, n := range lr.IM.Nodes {
		out = append(out, n.TCP)
	}
	return out
}

func login(ctx context.Context, edge, user, password string) (loginResult, error) {
	body, _ := json.Marshal(map[string]string{"user_id": user, "password": password})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(edge, "/")+"/v1/login", bytes.NewReader(body))
	if err != nil {
		return loginResult{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return loginResult{}, fmt.Errorf("login: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return loginResult{}, fmt.Errorf("login: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return loginResult{}, fmt.Errorf("login: %s: %s", resp.Status, strings.TrimSpace(string(raw)))
	}
	var lr loginResult
	if err := json.Unmarshal(raw, &lr); err != nil {
		return loginResult{}, fmt.Errorf("login: decode: %w", err)
	}
	return lr, nil
}

// connect logs in unless a token was given, then dials the gateway. The token function
// logs in again when the token expires, so a long `listen` survives expiry.
func connect(ctx context.Context, f imFlags) (*client.Client, error) {
	addr, token := f.addr, f.token
	var more []string // the other gateways login named
	if token == "" {
		if f.user == "" {
			return nil, errors.New("--user (and --password) or --token is required")
		}
		lr, err := login(ctx, f.edge, f.user, f.password)
		if err != nil {
			return nil, err
		}
		token = lr.Token
		if addr == "" {
			addr, more = lr.IM.TCP, lr.gateways()
		}
	}
	if addr == "" {
		addr = "127.0.0.1:8800"
	}
	first := true
	return client.Dial(ctx, client.Config{
		Addr:           addr,
		Addrs:          more,
		DeviceID:       f.device,
		Platform:       "cli",
		TracerProvider: f.tracer,
		Token: func(ctx context.Context) (string, error) {
			if first || f.user == "" {
				first = false
				return token, nil
			}
			lr, err := login(ctx, f.edge, f.user, f.password)
			return lr.Token, err
		},
	})
}

// imUsage lists the im commands; `bangbang im COMMAND -h` lists a command's flags.
const imUsage = `usage: bangbang im login|send|listen|chat [flags]

  login    log in through the edge and print the token and the IM addresses
  send     send one message (the trailing argument) to --to and print its ack
  listen   print every message and receipt as it arrives
  chat     read lines from stdin and send each to --to, printing what arrives

Run 'bangbang im COMMAND -h' for its flags.
`

func runIM(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, imUsage)
		return errors.New("no im command")
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, imUsage)
		return nil
	}
	var f imFlags
	fs := newFlagSet("im "+args[0], stderr)
	fs.imFlags(&f)
	var to string
	switch args[0] {
	case "send", "chat":
		fs.str(&to, "to", "recipient user id")
	case "login", "listen":
	default:
		fmt.Fprint(stderr, imUsage)
		return fmt.Errorf("unknown im command %q", args[0])
	}
	rest := args[1:]
	var text string
	if args[0] == "send" { // the message is the trailing argument
		if err := fs.fs.Parse(rest); err != nil {
			return err
		}
		text = strings.Join(fs.fs.Args(), " ")
		rest = nil
	}
	if err := fs.parse(rest); err != nil {
		return err
	}
	tr, err := tracing.Setup(ctx, tracing.Config{Process: "bangbang-im", ChatSampleRatio: 1, StoreBytes: -1})
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = tr.Shutdown(sctx) // flushes the sends' spans; a collector that is down loses only them
	}()
	f.tracer = tr.Provider("im-client")
	switch args[0] {
	case "login":
		lr, err := login(ctx, f.edge, f.user, f.password)
		if err != nil {
			return err
		}
		return json.NewEncoder(stdout).Encode(lr)
	case "send":
		if to == "" || text == "" {
			return errors.New("usage: bangbang im send --user U --to V message text")
		}
		return imSend(ctx, f, to, text, stdout)
	case "listen":
		return imListen(ctx, f, stdout)
	default:
		if to == "" {
			return errors.New("usage: bangbang im chat --user U --to V")
		}
		return imChat(ctx, f, to, stdin, stdout)
	}
}

func imSend(ctx context.Context, f imFlags, to, text string, stdout io.Writer) error {
	c, err := connect(ctx, f)
	if err != nil {
		return err
	}
	defer c.Close()
	res, err := c.Send(ctx, to, "text/plain", []byte(text))
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(sentAck{MsgID: res.MsgID, Conv: res.ConvID, ConvSeq: res.ConvSeq,
		Seq: res.Seq, SentAt: res.SentAt.UTC().Format(time.RFC3339Nano), Duplicate: res.Duplicate, TraceID: res.TraceID})
}

// sentAck is what `im send` prints: the server's ack of the stored message.
type sentAck struct {
	MsgID     string `json:"msg_id"`
	Conv      string `json:"conv"`
	ConvSeq   int64  `json:"conv_seq"`
	Seq       int64  `json:"seq"`
	SentAt    string `json:"sent_at"`
	Duplicate bool   `json:"duplicate"`
	TraceID   string `json:"trace_id"` // for `bangbang trace`
}

type printed struct {
	Seq     int64  `json:"seq"`
	Conv    string `json:"conv"`
	ConvSeq int64  `json:"conv_seq"`
	From    string `json:"from"`
	Text    string `json:"text"`
	SentAt  string `json:"sent_at"`
}

func printMessage(w io.Writer, m client.Message) {
	_ = json.NewEncoder(w).Encode(printed{Seq: m.Seq, Conv: m.ConvID, ConvSeq: m.ConvSeq, From: m.From,
		Text: string(m.Body), SentAt: m.SentAt.UTC().Format(time.RFC3339Nano)})
}

func imListen(ctx context.Context, f imFlags, stdout io.Writer) error {
	c, err := connect(ctx, f)
	if err != nil {
		return err
	}
	defer c.Close()
	for {
		select {
		case m, ok := <-c.Messages():
			if !ok {
				return errors.New("connection closed for good (kicked?)")
			}
			printMessage(stdout, m)
		case <-ctx.Done():
			return nil
		}
	}
}

func imChat(ctx context.Context, f imFlags, to string, stdin io.Reader, stdout io.Writer) error {
	c, err := connect(ctx, f)
	if err != nil {
		return err
	}
	defer c.Close()
	fmt.Fprintf(stdout, "chatting with %s as %s; type a line and press enter, Ctrl-D to quit\n", to, c.UserID())
	lines := make(chan string)
	go func() { // ends when stdin does; the process exits with it
		defer close(lines)
		sc := bufio.NewScanner(stdin)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	for {
		select {
		case m, ok := <-c.Messages():
			if !ok {
				return errors.New("connection closed for good (kicked?)")
			}
			if m.From != c.UserID() {
				fmt.Fprintf(stdout, "[%s] %s: %s\n", m.SentAt.Local().Format("15:04:05"), m.From, m.Body)
			}
		case line, ok := <-lines:
			if !ok {
				return nil
			}
			if strings.TrimSpace(line) == "" {
				continue
			}
			if _, err := c.Send(ctx, to, "text/plain", []byte(line)); err != nil {
				fmt.Fprintf(stdout, "! not sent: %v\n", err)
			}
		case <-ctx.Done():
			return nil
		}
	}
}
