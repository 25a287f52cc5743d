package rooms

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisNodes is the NodeRegistry of a cluster sharing one Redis. Keys,
// with P the prefix; they share the {cluster} hash tag, so that the
// heartbeat script's keys are in one slot on Redis Cluster too:
//
//	P:{cluster}:epoch     STRING  random, set by the first heartbeat after Redis lost its data
//	P:{cluster}:nodes     ZSET    node -> end of its heartbeat TTL (unix ms)
//	P:{cluster}:node:N    STRING  the node's record (JSON), expiring with its TTL
//	P:{cluster}:room:R    ZSET    node -> end of its hold on room R (unix ms)
//	P:{cluster}:pub:R     ZSET    the same, for the nodes where audio of R enters
//
// Lapsed entries are filtered by score when read and pruned when written;
// every key also carries a TTL, so nothing outlives the nodes that wrote
// it. Its zero value is not usable; call NewRedisNodes.
type RedisNodes struct {
	client redis.UniversalClient
	prefix string
}

var _ NodeRegistry = (*RedisNodes)(nil)

// NewRedisNodes returns the registry under prefix on client. The client
// stays the caller's to close.
func NewRedisNodes(client redis.UniversalClient, prefix string) *RedisNodes {
	return &RedisNodes{client: client, prefix: prefix}
}

func (r *RedisNodes) key(parts ...string) string {
	k := r.prefix + ":{cluster}"
	for _, p := range parts {
		k += ":" + p
	}
	return k
}

// redisNode is a node's record in Redis.
type redisNode struct {
	ID           NodeID  `json:"id"`
	URL          string  `json:"url"`
	Draining     bool    `json:"draining,omitempty"`
	Capacity     int     `json:"capacity,omitempty"`
	CPU          float64 `json:"cpu"`
	Participants int     `json:"participants"`
	PPS          float64 `json:"pps"`
	Started      int64   `json:"started"`
	Seen         int64   `json:"seen"`
}

// redisHeartbeat stores a node's record and returns the epoch, creating
// it when Redis has none (first start, or after losing its data).
// KEYS[1] epoch  KEYS[2] nodes  KEYS[3] the node's record
// ARGV[1] a new epoch  ARGV[2] node ID  ARGV[3] record  ARGV[4] TTL ms
// ARGV[5] now ms.
var redisHeartbeat = redis.NewScript(`
local e = redis.call('GET', KEYS[1])
if not e then
  e = ARGV[1]
  redis.call('SET', KEYS[1], e)
end
local now, ttl = tonumber(ARGV[5]), tonumber(ARGV[4])
redis.call('SET', KEYS[3], ARGV[3], 'PX', ttl)
redis.call('ZADD', KEYS[2], now + ttl, ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
return e
`)

// Heartbeat implements NodeRegistry.
func (r *RedisNodes) Heartbeat(ctx context.Context, n Node, now time.Time, ttl time.Duration) (string, error) {
	if err := validNodeURL(n.URL); err != nil {
		return "", err
	}
	rec, err := json.Marshal(redisNode{
		ID: n.ID, URL: n.URL, Draining: n.Draining, Capacity: n.Capacity,
		CPU: n.Load.CPU, Participants: n.Load.Participants, PPS: n.Load.PPS,
		Started: redisMillis(n.Started), Seen: now.UnixMilli(),
	})
	if err != nil {
		return "", fmt.Errorf("heartbeat: %w", err)
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	epoch, err := redisHeartbeat.Run(ctx, r.client,
		[]string{r.key("epoch"), r.key("nodes"), r.key("node", string(n.ID))},
		hex.EncodeToString(b[:]), string(n.ID), rec, ttl.Milliseconds(), now.UnixMilli()).Text()
	if err != nil {
		return "", fmt.Errorf("heartbeat: %w: redis: %w", ErrUnavailable, err)
	}
	return epoch, nil
}

// Nodes implements NodeRegistry.
func (r *RedisNodes) Nodes(ctx context.Context, now time.Time) ([]Node, error) {
	ids, err := r.client.ZRangeByScore(ctx, r.key("nodes"), &redis.ZRangeBy{
		Min: "(" + strconv.FormatInt(now.UnixMilli(), 10), Max: "+inf",
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("nodes: %w: redis: %w", ErrUnavailable, err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = r.key("node", id)
	}
	vals, err := r.client.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("nodes: %w: redis: %w", ErrUnavailable, err)
	}
	out := make([]Node, 0, len(vals))
	for _, v := range vals {
		s, ok := v.(string)
		if !ok {
			continue // expired between the two reads
		}
		var rec redisNode
		if err := json.Unmarshal([]byte(s), &rec); err != nil {
			return nil, fmt.Errorf("nodes: %w: redis: node record: %w", ErrUnavailable, err)
		}
		out = append(out, Node{
			ID: rec.ID, URL: rec.URL, Draining: rec.Draining, Capacity: rec.Capacity,
			Load:    NodeLoad{CPU: rec.CPU, Participants: rec.Participants, PPS: rec.PPS},
			Started: redisTime(luaInt(rec.Started)), Seen: redisTime(luaInt(rec.Seen)),
		})
	}
	// ZRANGEBYSCORE orders by expiry; callers want a stable order.
	sortNodes(out)
	return out, nil
}

// Remove implements NodeRegistry.
func (r *RedisNodes) Remove(ctx context.Context, id NodeID) error {
	_, err := r.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZRem(ctx, r.key("nodes"), string(id))
		p.Del(ctx, r.key("node", string(id)))
		return nil
	})
	if err != nil {
		return fmt.Errorf("remove node %s: %w: redis: %w", id, ErrUnavailable, err)
	}
	return nil
}

// HoldRoom implements NodeRegistry.
func (r *RedisNodes) HoldRoom(ctx context.Context, room RoomID, node NodeID, publishing bool, now time.Time, ttl time.Duration) error {
	until := float64(now.Add(ttl).UnixMilli())
	past := strconv.FormatInt(now.UnixMilli(), 10)
	rk, pk := r.key("room", string(room)), r.key("pub", string(room))
	_, err := r.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZAdd(ctx, rk, redis.Z{Score: until, Member: string(node)})
		p.ZRemRangeByScore(ctx, rk, "-inf", past)
		p.PExpire(ctx, rk, ttl)
		if publishing {
			p.ZAdd(ctx, pk, redis.Z{Score: until, Member: string(node)})
			p.ZRemRangeByScore(ctx, pk, "-inf", past)
			p.PExpire(ctx, pk, ttl)
		} else {
			p.ZRem(ctx, pk, string(node))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("hold room %s: %w: redis: %w", room, ErrUnavailable, err)
	}
	return nil
}

// ReleaseRoom implements NodeRegistry.
func (r *RedisNodes) ReleaseRoom(ctx context.Context, room RoomID, node NodeID) error {
	_, err := r.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZRem(ctx, r.key("room", string(room)), string(node))
		p.ZRem(ctx, r.key("pub", string(room)), string(node))
		return nil
	})
	if err != nil {
		return fmt.Errorf("release room %s: %w: redis: %w", room, ErrUnavailable, err)
	}
	return nil
}

// RoomNodes implements NodeRegistry.
func (r *RedisNodes) RoomNodes(ctx context.Context, room RoomID, now time.Time) ([]RoomNode, error) {
	by := &redis.ZRangeBy{Min: "(" + strconv.FormatInt(now.UnixMilli(), 10), Max: "+inf"}
	var held, pub *redis.StringSliceCmd
	_, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		held = p.ZRangeByScore(ctx, r.key("room", string(room)), by)
		pub = p.ZRangeByScore(ctx, r.key("pub", string(room)), by)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("nodes of room %s: %w: redis: %w", room, ErrUnavailable, err)
	}
	publishing := make(map[string]bool, len(pub.Val()))
	for _, id := range pub.Val() {
		publishing[id] = true
	}
	out := make([]RoomNode, 0, len(held.Val()))
	for _, id := range held.Val() {
		out = append(out, RoomNode{Node: NodeID(id), Publishing: publishing[id]})
	}
	sortRoomNodes(out)
	return out, nil
}
