package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"
)

// TestIMCommands drives `bangbang im send` and `bangbang im listen` against a running
// `bangbang all`, as a person would from a terminal.
func TestIMCommands(t *testing.T) {
	t.Parallel()
	s := startAllProc(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	common := []string{"--edge", s.edge, "--password", "demo"}

	var out strings.Builder
	args := append([]string{"im", "send", "--user", "m1011", "--to", "c1011"}, common...)
	if err := run(ctx, append(args, "hello", "from", "the", "terminal"), &out, io.Discard); err != nil {
		t.Fatalf("im send: %v", err)
	}
	var ack sentAck
	if err := json.Unmarshal([]byte(out.String()), &ack); err != nil || ack.MsgID == "" || ack.ConvSeq != 1 {
		t.Fatalf("im send printed %q (%v)", out.String(), err)
	}
	// The ack names the send's trace (the terminal client traces every send), which the
	// admin API holds from the gateway on: `bangbang trace` shows the hops.
	var tree strings.Builder
	for !strings.Contains(tree.String(), "store.Append") {
		tree.Reset()
		err := run(ctx, []string{"trace", ack.TraceID, "--admin", s.admin, "--admin-key", testAdminKey}, &tree, io.Discard)
		if ctx.Err() != nil {
			t.Fatalf("bangbang trace %q: %v\n%s", ack.TraceID, err, tree.String())
		}
		time.Sleep(10 * time.Millisecond) // polling the store, not synchronising
	}
	for _, hop := range []string{"gateway  IM SEND", "logic    logic.Send", "logic    store.Append"} {
		if !strings.Contains(tree.String(), hop) {
			t.Errorf("trace of the send lacks %q:\n%s", hop, tree.String())
		}
	}

	pr, pw := io.Pipe()
	listenCtx, stopListen := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- run(listenCtx, append([]string{"im", "listen", "--user", "c1011"}, common...), pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("im listen: %v", err)
	}
	var got printed
	if err := json.Unmarshal([]byte(line), &got); err != nil || got.From != "m1011" || got.Text != "hello from the terminal" || got.ConvSeq != 1 {
		t.Fatalf("im listen printed %q (%v)", line, err)
	}
	stopListen()
	go io.Copy(io.Discard, pr) // let listen finish writing
	if err := <-done; err != nil {
		t.Fatalf("im listen ended with %v", err)
	}

	if err := run(ctx, []string{"im", "login", "--edge", s.edge, "--user", "m1011", "--password", "wrong"}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("login with a wrong password: %v", err)
	}
	if err := run(ctx, []string{"im", "send", "--user", "m1011"}, io.Discard, io.Discard); err == nil {
		t.Fatal("im send without --to or text succeeded")
	}
}

func TestUnknownVariableIsAnError(t *testing.T) {
	t.Setenv("BANGBANG_TCP_ADRR", ":1") // a typo of BANGBANG_TCP_ADDR
	err := run(context.Background(), []string{"all"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "BANGBANG_TCP_ADRR") {
		t.Fatalf("run with a misspelt variable: %v", err)
	}
}

// `bangbang im -h` lists the commands on stdout and succeeds; an unknown command fails and
// lists them on stderr.
func TestIMHelp(t *testing.T) {
	var out, errOut strings.Builder
	if err := run(context.Background(), []string{"im", "-h"}, &out, &errOut); err != nil {
		t.Fatalf("im -h: %v", err)
	}
	for _, cmd := range []string{"login", "send", "listen", "chat"} {
		if !strings.Contains(out.String(), "\n  "+cmd+" ") {
			t.Errorf("im -h does not list %s:\n%s", cmd, out.String())
		}
	}
	out.Reset()
	if err := run(context.Background(), []string{"im", "shout"}, &out, &errOut); err == nil || !strings.Contains(errOut.String(), "usage: bangbang im") {
		t.Errorf("im shout: %v, stderr %q; want an error and the usage", err, errOut.String())
	}
}
