package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// A bench over the nodes of a cluster (docs/cluster.md): --url takes a
// comma-separated list of the nodes' base URLs. Rooms and their speakers
// are on the first node; listener i joins at node i mod n, and follows
// redirects, so with --placement local on the servers the listeners are
// spread evenly, and with another policy placement decides. --server-pid
// takes one pid per node, in the same order; the server figures are the
// nodes' sums.

// parseNodeURLs splits and checks --url.
func parseNodeURLs(v string) ([]string, error) {
	var out []string
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimRight(strings.TrimSpace(s), "/")
		if s == "" {
			continue
		}
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("--url %q: want http:// or https://", s)
		}
		if !isLoopbackHost(u.Hostname()) {
			// A load generator aimed elsewhere is a denial of service.
			return nil, fmt.Errorf("--url %q: bench only loads a server on this machine (127.0.0.0/8, ::1, localhost)", s)
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, errors.New("--url: no URL")
	}
	return out, nil
}

// parsePIDs splits --server-pid.
func parsePIDs(v string) ([]int, error) {
	var out []int
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("--server-pid %q: want process IDs", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// nodeURL is the node listener i joins at.
func (c benchConfig) nodeURL(i int) string { return c.URLs[i%len(c.URLs)] }

// probes samples every node and adds their figures up.
type probes []*serverProbe

func newProbes(cfg benchConfig, hc *http.Client) probes {
	out := make(probes, len(cfg.URLs))
	for i, u := range cfg.URLs {
		pid := 0
		if i < len(cfg.ServerPIDs) {
			pid = cfg.ServerPIDs[i]
		}
		out[i] = &serverProbe{pid: pid, metricsURL: u + "/metrics", http: hc}
	}
	return out
}

// sample sums the nodes' samples; a figure any node lacks is missing (-1).
func (ps probes) sample(ctx context.Context) serverSample {
	var sum serverSample
	for i, p := range ps {
		s := p.sample(ctx)
		if i == 0 {
			sum = s
			continue
		}
		add := func(into *float64, v float64) {
			if *into < 0 || v < 0 {
				*into = -1
				return
			}
			*into += v
		}
		add(&sum.cpuSec, s.cpuSec)
		add(&sum.rssBytes, s.rssBytes)
		add(&sum.hwmBytes, s.hwmBytes)
		add(&sum.packetsOut, s.packetsOut)
	}
	return sum
}
