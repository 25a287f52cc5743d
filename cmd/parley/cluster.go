package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-audio/parley/rooms"
	"github.com/parley-audio/parley/sfu"
	"github.com/parley-audio/parley/signaling"
)

// clusterNode is this process as one node of a cluster: its record in the
// registry, renewed by a heartbeat that carries its load, and the
// signaling.Cluster that signaling places joins and relays audio with.
type clusterNode struct {
	reg    rooms.NodeRegistry
	id     rooms.NodeID
	ttl    time.Duration
	log    *slog.Logger
	closer func()

	mu   sync.Mutex // guards self
	self rooms.Node
}

var _ signaling.Cluster = (*clusterNode)(nil)

// openCluster makes this process a node of the cluster of every process
// sharing its Redis, or returns nil without one: a single node. It has
// its own Redis client, so the heartbeat never queues behind room traffic.
func openCluster(ctx context.Context, cfg serveConfig, log *slog.Logger) (*clusterNode, error) {
	if cfg.RedisURL == "" {
		return nil, nil
	}
	opts, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("redis url: %w", err)
	}
	client := redis.NewClient(opts)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := client.Ping(pctx).Err(); err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("redis at %s: %w", opts.Addr, err)
	}
	id := rooms.NewNodeID()
	return &clusterNode{
		reg: rooms.NewRedisNodes(client, cfg.RedisPrefix), id: id, ttl: cfg.Cluster.NodeTTL,
		log: log.With("node", id), closer: func() { _ = client.Close() },
		self: rooms.Node{ID: id, Capacity: cfg.Cluster.NodeCapacity, Started: time.Now()},
	}, nil
}

// clusterKey derives the key that authenticates nodes to each other from
// the token secret, which every node of a cluster shares anyway (a token
// signed by one node must be valid on all). The label keeps the two uses
// apart: a relay token can never pass as a sign-in token, or the reverse.
func clusterKey(tokenSecret []byte) []byte {
	mac := hmac.New(sha256.New, tokenSecret)
	mac.Write([]byte("parley cluster key v1"))
	return mac.Sum(nil)
}

// Self implements signaling.Cluster.
func (c *clusterNode) Self() rooms.NodeID { return c.id }

// Nodes implements signaling.Cluster and api.NodeLister.
func (c *clusterNode) Nodes(ctx context.Context) ([]rooms.Node, error) {
	return c.reg.Nodes(ctx, time.Now())
}

// RoomNodes implements signaling.Cluster.
func (c *clusterNode) RoomNodes(ctx context.Context, room rooms.RoomID) ([]rooms.RoomNode, error) {
	return c.reg.RoomNodes(ctx, room, time.Now())
}

// HoldRoom implements signaling.Cluster. A hold lasts as long as a node.
func (c *clusterNode) HoldRoom(ctx context.Context, room rooms.RoomID, publishing bool) error {
	return c.reg.HoldRoom(ctx, room, c.id, publishing, time.Now(), c.ttl)
}

// ReleaseRoom implements signaling.Cluster.
func (c *clusterNode) ReleaseRoom(ctx context.Context, room rooms.RoomID) error {
	return c.reg.ReleaseRoom(ctx, room, c.id)
}

// loadMeter measures the process's load between two heartbeats.
type loadMeter struct {
	media    *sfu.SFU
	sessions func() int

	mu      sync.Mutex // guards the fields below
	lastAt  time.Time
	lastCPU time.Duration
	lastOut uint64
}

func (m *loadMeter) sample(now time.Time) rooms.NodeLoad {
	m.mu.Lock()
	defer m.mu.Unlock()
	cpu := processCPU()
	out := m.media.Stats().PacketsOut
	l := rooms.NodeLoad{Participants: m.sessions()}
	if !m.lastAt.IsZero() {
		if wall := now.Sub(m.lastAt); wall > 0 {
			l.CPU = min(1, (cpu-m.lastCPU).Seconds()/wall.Seconds()/float64(runtime.NumCPU()))
			l.PPS = float64(out-m.lastOut) / wall.Seconds()
		}
	}
	m.lastAt, m.lastCPU, m.lastOut = now, cpu, out
	return l
}

// processCPU is the CPU time the process has used, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// beat sends one heartbeat and reports whether the registry's epoch
// changed since the last one: Redis lost its data.
func (c *clusterNode) beat(ctx context.Context, load rooms.NodeLoad, draining bool, epoch *string) (lost bool, err error) {
	c.mu.Lock()
	c.self.Load, c.self.Draining = load, draining
	n := c.self
	c.mu.Unlock()
	e, err := c.reg.Heartbeat(ctx, n, time.Now(), c.ttl)
	if err != nil {
		return false, err
	}
	lost = *epoch != "" && e != *epoch
	*epoch = e
	return lost, nil
}

// run sends a heartbeat every fifth of the TTL until ctx ends. When the
// registry's epoch changes, Redis has lost its data: rebuild puts back
// what this node holds. The first heartbeat has been sent when start
// returns, so that placement sees this node at once.
func (c *clusterNode) start(ctx context.Context, url string, meter *loadMeter, draining func() bool, rebuild func(context.Context)) (stop func(), err error) {
	c.mu.Lock()
	c.self.URL = url
	c.mu.Unlock()
	var epoch string
	if _, err := c.beat(ctx, meter.sample(time.Now()), false, &epoch); err != nil {
		return nil, fmt.Errorf("first heartbeat: %w", err)
	}
	c.log.Info("joined the cluster", "url", url, "epoch", epoch)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(c.ttl / 5)
		defer t.Stop()
		failing := false
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			bctx, bcancel := context.WithTimeout(ctx, c.ttl/2)
			lost, err := c.beat(bctx, meter.sample(time.Now()), draining(), &epoch)
			bcancel()
			switch {
			case err != nil && !failing:
				failing = true
				c.log.Warn("heartbeat failed; placement and relays use what they last read", "err", err)
			case err == nil && failing:
				failing = false
				c.log.Info("heartbeat back")
			}
			if lost {
				c.log.Warn("Redis lost the cluster's data: rebuilding the live state this node holds", "epoch", epoch)
				rebuild(ctx)
			}
		}
	}()
	return func() { cancel(); <-done }, nil
}

// heartbeatNow sends one heartbeat outside the loop, so that a change of
// state (draining) is seen by the other nodes at once.
func (c *clusterNode) heartbeatNow(ctx context.Context, meter *loadMeter, draining bool) {
	var epoch string
	if _, err := c.beat(ctx, meter.sample(time.Now()), draining, &epoch); err != nil {
		c.log.Warn("heartbeat", "err", err)
	}
}

// leave takes the node out of the registry on a clean exit and closes
// its Redis client.
func (c *clusterNode) leave(ctx context.Context) {
	if err := c.reg.Remove(ctx, c.id); err != nil && !errors.Is(err, context.Canceled) {
		c.log.Warn("leave the cluster", "err", err)
	}
	c.closer()
}
