package main

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/parley-audio/parley/api"
	"github.com/parley-audio/parley/rooms"
	"github.com/parley-audio/parley/sfu"
	"github.com/parley-audio/parley/signaling"
)

// clusterWiring is what serve hands signaling and the API for a cluster;
// all zero on a single node.
type clusterWiring struct {
	cluster signaling.Cluster
	config  signaling.ClusterConfig
	nodes   api.NodeLister
	relay   http.Handler
}

func clusterParams(node *clusterNode, cfg serveConfig, secret []byte) clusterWiring {
	if node == nil {
		return clusterWiring{}
	}
	c := signaling.DefaultClusterConfig()
	c.Key = clusterKey(secret)
	c.Placement = cfg.Cluster.Placement
	c.Refresh = min(c.Refresh, cfg.Cluster.NodeTTL/5)
	return clusterWiring{cluster: node, config: c, nodes: node}
}

// restorer is what the cluster's rebuild needs of rooms.Service.
type restorer interface {
	Recover(ctx context.Context) error
}

// joinCluster starts the node's heartbeat once the server listens, and
// returns what takes it out of the cluster at exit.
func joinCluster(ctx context.Context, node *clusterNode, cfg serveConfig, baseURL string, media *sfu.SFU, sig *signaling.Server, svc restorer) (leave func(), err error) {
	if node == nil {
		return func() {}, nil
	}
	url := cfg.Cluster.AdvertiseURL
	if url == "" {
		url = baseURL
	}
	meter := &loadMeter{media: media, sessions: sig.Sessions}
	// The heartbeat outlives ctx: a draining node is still a node.
	stop, err := node.start(context.WithoutCancel(ctx), url, meter, sig.Draining, func(ctx context.Context) {
		// What this node holds first, then every room the records say is
		// live, so that those nobody holds end after the empty-stage grace.
		sig.Rebuild(ctx)
		if err := svc.Recover(ctx); err != nil {
			node.log.Warn("recover rooms", "err", err)
		}
	})
	if err != nil {
		node.closer()
		return nil, err
	}
	return func() {
		stop()
		lctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		node.leave(lctx)
	}, nil
}

// drain moves this node's clients to other nodes of the cluster before
// the shutdown, for at most --drain-timeout (docs/cluster.md, "Drain").
func drain(ctx context.Context, node *clusterNode, cfg serveConfig, media *sfu.SFU, sig *signaling.Server, log *slog.Logger) {
	if node == nil {
		return
	}
	log.Info("draining: moving clients to other nodes", "timeout", cfg.Cluster.DrainTimeout)
	sig.BeginDrain()
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	node.heartbeatNow(hctx, &loadMeter{media: media, sessions: sig.Sessions}, true)
	cancel()
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.Cluster.DrainTimeout)
	defer cancel()
	start := time.Now()
	if err := sig.Drain(dctx); err != nil {
		log.Warn("drain timed out; shutting down with clients still here", "sessions", sig.Sessions())
		return
	}
	log.Info("drained", "took", time.Since(start).Round(time.Millisecond))
}

var _ restorer = (*rooms.Service)(nil)
