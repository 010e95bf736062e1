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

// seedDemo creates merchants m1001…m1020 and customers c1001…c1020 unless they exist.
func seedDemo(ctx context.Context, st store.Store, stdout io.Writer) error {
	// One bcrypt hash serves all demo users: hashing forty times would cost seconds at
	// start for no security gain on published demo passwords.
	hash, err := auth.HashPassword(DemoPassword)
	if err != nil {
		return err
	}
	created := 0
	for i := 1001; i <= 1020; i++ {
		for _, u := range []store.User{
			{ID: fmt.Sprintf("m%d", i), Kind: "merchant", DisplayName: fmt.Sprintf("Merchant %d", i), PasswordHash: hash},
			{ID: fmt.Sprintf("c%d", i), Kind: "customer", DisplayName: fmt.Sprintf("Customer %d", i), PasswordHash: hash},
		} {
			ok, err := st.PutUserIfAbsent(ctx, u)
			if err != nil {
				return fmt.Errorf("seed demo user %s: %w", u.ID, err)
			}
			if ok {
				created++
			}
		}
	}
	fmt.Fprintf(stdout, "demo: users m1001..m1020 and c1001..c1020, password %q (%d created)\n", DemoPassword, created)
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
