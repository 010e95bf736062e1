package main

import (
	"context"
	"fmt"
	"io"

	"github.com/bangbang-im/bangbang/soap-clients/sim"
	"github.com/bangbang-im/bangbang/tracing"
)

// simFlags are the third-party simulators' settings, shared by `sim` and `all`.
type simFlags struct {
	housing, recruitment, account string // listen addresses
	partnerID, partnerKey         string // HTTP Basic credentials they require
}

func (f *flagSet) simFlags(s *simFlags, host string) {
	s.housing, s.recruitment, s.account = host+":8600", host+":8601", host+":8602"
	f.str(&s.housing, "sim-housing-addr", "housing simulator listen address")
	f.str(&s.recruitment, "sim-recruitment-addr", "recruitment simulator listen address")
	f.str(&s.account, "sim-account-addr", "account simulator listen address")
	f.str(&s.partnerID, "partner-id", "HTTP Basic user of the third-party services (empty: the simulators' default)")
	f.str(&s.partnerKey, "partner-key", "HTTP Basic password of the third-party services")
}

func startSim(s simFlags, tr *tracing.Tracing, lc *lifecycle) (*sim.Sim, error) {
	sm, err := sim.New(sim.Config{HousingAddr: s.housing, RecruitmentAddr: s.recruitment, AccountAddr: s.account,
		PartnerID: s.partnerID, PartnerKey: s.partnerKey, Logger: lc.log.With("component", "sim"),
		TracerProvider: tr.Provider("sim"), Propagators: tr.Propagator()})
	if err != nil {
		return nil, err
	}
	if err := sm.Start(); err != nil {
		return nil, fmt.Errorf("start simulators: %w", err)
	}
	lc.add("sim", sm.Shutdown)
	return sm, nil
}

// runSim runs the three third-party SOAP simulators alone, for demos and for pointing a
// separate edge at them.
func runSim(ctx context.Context, args []string, stderr io.Writer) error {
	c := defaults()
	var s simFlags
	f := newFlagSet("sim", stderr)
	f.str(&c.LogLevel, "log-level", "debug, info, warn or error")
	f.simFlags(&s, "")
	if err := f.parse(args); err != nil {
		return err
	}
	return serve(ctx, "sim", c.LogLevel, stderr, func(lc *lifecycle) error {
		tr, err := setupTracing(ctx, "bangbang-sim", nil, false, lc)
		if err != nil {
			return err
		}
		sm, err := startSim(s, tr, lc)
		if err != nil {
			return err
		}
		lc.log.Info("sim: ready", "housing", sm.URL(sim.Housing), "recruitment", sm.URL(sim.Recruitment),
			"account", sm.URL(sim.Account))
		return nil
	})
}
