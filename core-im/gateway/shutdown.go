package gateway

import (
	"context"
	"errors"
)

// Shutdown drains the node: it stops accepting, sends RECONNECT{after_ms jittered in
// [0, DrainMaxDelay)} to every connection, flushes and closes each, has logic forget each
// route, then stops every goroutine it owns. Connections still open when ctx ends are
// closed without waiting for their flush. It returns ctx's error in that case.
func (g *Gateway) Shutdown(ctx context.Context) error {
	g.mu.Lock()
	if g.stopping {
		g.mu.Unlock()
		return nil
	}
	g.stopping = true
	started := g.started
	g.mu.Unlock()
	if !started {
		g.cancel()
		return nil
	}

	g.refusing.Store(true)
	var errs []error
	g.drain(g.cfg.DrainMaxDelay)
	if err := g.waitClosed(ctx); err != nil {
		errs = append(errs, err)
		for _, s := range g.table.snapshot() {
			s.shutdown("shutdown deadline")
		}
	}

	// Every connection is closed: the listeners have nothing left to wait for.
	for _, l := range []listener{g.tcp, g.ws} {
		if l != nil {
			if err := l.stop(ctx); err != nil {
				errs = append(errs, err)
			}
		}
	}
	close(g.stopBG)
	g.flush.stop()
	if err := g.disc.stop(ctx); err != nil {
		errs = append(errs, err)
	}
	g.cancel()
	g.wg.Wait()
	g.log.Info("gateway stopped")
	return errors.Join(errs...)
}

// waitClosed waits until no session is left, or ctx ends.
func (g *Gateway) waitClosed(ctx context.Context) error {
	for g.stats.open.Load() > 0 {
		select {
		case <-g.closed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
