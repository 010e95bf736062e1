package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	"github.com/bangbang-im/bangbang/core-im/auth"
	"github.com/bangbang-im/bangbang/core-im/store"
)

// DemoPassword is every demo user's password.
const DemoPassword = "demo"

// DefaultDemoUsers is how many merchants and customers --demo seeds.
const DefaultDemoUsers = 20

// seedDemo creates merchants m1001… and customers c1001…, n of each (--demo-users), unless
// they exist.
func seedDemo(ctx context.Context, st store.Store, n int, stdout io.Writer) error {
	// One bcrypt hash serves all demo users: hashing each would cost seconds at start for
	// no security gain on published demo passwords.
	hash, err := auth.HashPassword(DemoPassword)
	if err != nil {
		return err
	}
	created := 0
	var batch []store.User
	flush := func() error {
		k, err := st.PutUsersIfAbsent(ctx, batch)
		if err != nil {
			return fmt.Errorf("seed demo users: %w", err)
		}
		created += k
		batch = batch[:0]
		return nil
	}
	for i := 1001; i < 1001+n; i++ {
		batch = append(batch,
			store.User{ID: fmt.Sprintf("m%d", i), Kind: "merchant", DisplayName: fmt.Sprintf("Merchant %d", i), PasswordHash: hash},
			store.User{ID: fmt.Sprintf("c%d", i), Kind: "customer", DisplayName: fmt.Sprintf("Customer %d", i), PasswordHash: hash})
		if len(batch) >= store.MaxBatch-1 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if len(batch) > 0 {
		if err := flush(); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "demo: users m1001..m%d and c1001..c%d, password %q (%d created)\n", 1000+n, 1000+n, DemoPassword, created)
	return nil
}

// adminKey is the staff key of the admin API: BANGBANG_ADMIN_KEY when set, else a new one,
// printed once, since nobody could use the admin API otherwise.
func adminKey(stdout io.Writer) string {
	if key := os.Getenv("BANGBANG_ADMIN_KEY"); key != "" {
		return key
	}
	var b [24]byte
	_, _ = rand.Read(b[:])
	key := "bbk_" + hex.EncodeToString(b[:])
	fmt.Fprintf(stdout, "admin key (role admin, shown once): %s\n", key)
	return key
}
