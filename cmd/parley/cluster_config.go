package main

import (
	"errors"
	"net/url"
	"strconv"
	"time"

	"github.com/parley-audio/parley/signaling"
)

// clusterConfig is the part of serveConfig for running as one node of a
// cluster (docs/cluster.md). It applies only with --redis-url: processes
// that share a Redis are the nodes of one cluster.
type clusterConfig struct {
	AdvertiseURL string
	Placement    signaling.Placement
	NodeCapacity int
	NodeTTL      time.Duration
	DrainTimeout time.Duration
}

func clusterOptions() []option {
	return []option{
		{"advertise-url", "PARLEY_ADVERTISE_URL", "", "base URL (http:// or https://) at which clients and the other nodes reach this node; empty means the --http-addr address", func(c *serveConfig, v string) error {
			if v != "" {
				u, err := url.Parse(v)
				if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
					return errors.New("must be http:// or https:// with a host and no path")
				}
			}
			c.Cluster.AdvertiseURL = v
			return nil
		}},
		{"placement", "PARLEY_PLACEMENT", "room", "which node serves a join: room (keep a room's members together while a node has room to spare), least-loaded, or local (where the join arrives)", func(c *serveConfig, v string) error {
			p := signaling.Placement(v)
			if err := p.Validate(); err != nil {
				return errors.New("must be room, least-loaded or local")
			}
			c.Cluster.Placement = p
			return nil
		}},
		{"node-capacity", "PARLEY_NODE_CAPACITY", "0", "the most participants placement sends to this node; 0 means no limit but its CPU", func(c *serveConfig, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return errors.New("must be a number, 0 or more")
			}
			c.Cluster.NodeCapacity = n
			return nil
		}},
		{"node-ttl", "PARLEY_NODE_TTL", "5s", "how long after its last heartbeat (sent every fifth of this) a node counts as dead", durationSetter(func(c *serveConfig, d time.Duration) { c.Cluster.NodeTTL = d })},
		{"drain-timeout", "PARLEY_DRAIN_TIMEOUT", "30s", "on SIGTERM, how long a node of a cluster waits for its clients to move to other nodes before it shuts down", durationSetter(func(c *serveConfig, d time.Duration) { c.Cluster.DrainTimeout = d })},
	}
}
