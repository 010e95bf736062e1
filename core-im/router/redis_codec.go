package router

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// A route is stored in the hash of its user, under its device, as
//
//	<expires ms>|<len(node)>:<node><len(conn)>:<conn><since ms>|<platform>
//
// The expiry comes first so the Lua scripts read it with one match, and the
// length-prefixed owner (node and conn) is prefix-free, so the scripts compare
// ownership with a plain substring test whatever bytes the ids contain. A zero
// Since is stored as an empty field.

var errCorrupt = errors.New("corrupt route value")

// encodeOwner names the connection that holds a route.
func encodeOwner(node, conn string) string {
	return lenPrefixed(node) + lenPrefixed(conn)
}

// encodeRest is what follows the owner: fields Lua never reads.
func encodeRest(since time.Time, platform string) string {
	s := ""
	if !since.IsZero() {
		s = strconv.FormatInt(since.UnixMilli(), 10)
	}
	return s + "|" + platform
}

func lenPrefixed(s string) string {
	return strconv.Itoa(len(s)) + ":" + s
}

// decodeValue reads a stored route back; user and device come from the key
// and field. It never panics on foreign bytes.
func decodeValue(user, device, v string) (r Route, expiresMs int64, err error) {
	i := strings.IndexByte(v, '|')
	if i < 0 {
		return Route{}, 0, errCorrupt
	}
	expiresMs, err = strconv.ParseInt(v[:i], 10, 64)
	if err != nil {
		return Route{}, 0, errCorrupt
	}
	rest := v[i+1:]
	r = Route{UserID: user, DeviceID: device}
	if r.Node, rest, err = readLenPrefixed(rest); err != nil {
		return Route{}, 0, err
	}
	if r.ConnID, rest, err = readLenPrefixed(rest); err != nil {
		return Route{}, 0, err
	}
	j := strings.IndexByte(rest, '|')
	if j < 0 {
		return Route{}, 0, errCorrupt
	}
	if j > 0 {
		ms, err := strconv.ParseInt(rest[:j], 10, 64)
		if err != nil {
			return Route{}, 0, errCorrupt
		}
		r.Since = time.UnixMilli(ms)
	}
	r.Platform = rest[j+1:]
	return r, expiresMs, nil
}

func readLenPrefixed(s string) (field, rest string, err error) {
	k := strings.IndexByte(s, ':')
	if k < 0 {
		return "", "", errCorrupt
	}
	n, err := strconv.Atoi(s[:k])
	if err != nil || n < 0 || n > len(s)-k-1 {
		return "", "", errCorrupt
	}
	return s[k+1 : k+1+n], s[k+1+n:], nil
}

// encodeMember names a connection's route in its node's index set; the node
// is the set's key, so it is not repeated.
func encodeMember(user, device, conn string) string {
	return lenPrefixed(user) + lenPrefixed(device) + conn
}

func decodeMember(m string) (user, device, conn string, err error) {
	if user, m, err = readLenPrefixed(m); err != nil {
		return "", "", "", err
	}
	if device, conn, err = readLenPrefixed(m); err != nil {
		return "", "", "", err
	}
	return user, device, conn, nil
}
