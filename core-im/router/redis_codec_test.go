package router

import (
	"errors"
	"testing"
	"time"
)

func TestValueRoundTrip(t *testing.T) {
	for _, r := range []Route{
		{UserID: "u", DeviceID: "d", Node: "10.0.0.5:8901", ConnID: "c1", Platform: "ios", Since: time.UnixMilli(1_740_000_000_123)},
		{UserID: "u", DeviceID: "d", Node: "|", ConnID: "1:|", Platform: "a|b"},
		{UserID: "u", DeviceID: "d", Node: "n", ConnID: "c", Since: time.UnixMilli(-5)},
	} {
		v := "1700000000000|" + encodeOwner(r.Node, r.ConnID) + encodeRest(r.Since, r.Platform)
		got, exp, err := decodeValue(r.UserID, r.DeviceID, v)
		if err != nil || exp != 1_700_000_000_000 || !sameRoute(got, r) {
			t.Fatalf("decode(%q) = %+v, %d, %v; want %+v", v, got, exp, err, r)
		}
	}
}

func TestDecodeValueRejectsCorrupt(t *testing.T) {
	for _, v := range []string{
		"", "12", "x|1:n1:c|ios", "12|", "12|9:n1:c|", "12|1:n", "12|1:n1:c", "12|1:n1:cx|ios", "12|-1:n1:c|",
	} {
		if _, _, err := decodeValue("u", "d", v); !errors.Is(err, errCorrupt) {
			t.Errorf("decode(%q) err = %v, want errCorrupt", v, err)
		}
	}
}

func TestMemberRoundTrip(t *testing.T) {
	u, d, c, err := decodeMember(encodeMember("1:u", "d:", ":c"))
	if err != nil || u != "1:u" || d != "d:" || c != ":c" {
		t.Fatalf("member round trip = %q %q %q %v", u, d, c, err)
	}
	if _, _, _, err := decodeMember("5:ab"); err == nil {
		t.Fatal("short member decoded")
	}
}

// FuzzDecodeValue: values come back from a store others can write to, so
// decoding must never panic, and whatever decodes must encode back the same.
func FuzzDecodeValue(f *testing.F) {
	f.Add("1700000000000|1:n2:c1123|ios")
	f.Add("1|0:0:|")
	f.Add("12|9:n1:c|")
	f.Fuzz(func(t *testing.T, v string) {
		r, exp, err := decodeValue("u", "d", v)
		if err != nil {
			return
		}
		again := "|" + encodeOwner(r.Node, r.ConnID) + encodeRest(r.Since, r.Platform)
		r2, exp2, err := decodeValue("u", "d", "1"+again)
		if err != nil || exp2 != 1 || !sameRoute(r, r2) {
			t.Fatalf("re-encoding %q (%+v, %d) gave %+v, %v", v, r, exp, r2, err)
		}
	})
}
