package main

import (
	"crypto/tls"
	"fmt"
	"os"
	"sync"
	"time"
)

// certReloader serves a certificate and key from files, loading them again when either
// file changes, so a renewed certificate (a cert-manager secret, a certbot renewal) is
// served without a restart. Files are looked at, at most, once per every interval, on
// a handshake; a pair that does not load keeps the one served before.
type certReloader struct {
	certFile, keyFile string
	every             time.Duration
	now               func() time.Time

	mu       sync.Mutex
	cert     *tls.Certificate
	stamp    [2]time.Time // the files' modification times when cert was loaded
	lookedAt time.Time
}

// newCertReloader loads the pair once: a pair that does not load is an error here, where
// the process can still refuse to start.
func newCertReloader(certFile, keyFile string, every time.Duration) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile, every: every, now: time.Now}
	stamp, err := r.stamps()
	if err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	r.cert, r.stamp, r.lookedAt = &cert, stamp, r.now()
	return r, nil
}

func (r *certReloader) stamps() ([2]time.Time, error) {
	var out [2]time.Time
	for i, f := range []string{r.certFile, r.keyFile} {
		fi, err := os.Stat(f)
		if err != nil {
			return out, fmt.Errorf("certificate: %w", err)
		}
		out[i] = fi.ModTime()
	}
	return out, nil
}

// GetCertificate is for tls.Config.GetCertificate.
func (r *certReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now := r.now(); now.Sub(r.lookedAt) >= r.every {
		r.lookedAt = now
		if stamp, err := r.stamps(); err == nil && stamp != r.stamp {
			if cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile); err == nil {
				r.cert, r.stamp = &cert, stamp
			}
		}
	}
	return r.cert, nil
}
