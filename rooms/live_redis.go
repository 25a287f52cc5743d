package rooms

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisLive is the LiveStore and Bus of many server processes sharing one
// Redis. Every transition is one Lua script (lua/*.lua) that checks the
// rules of docs/stage.md, changes the room, advances its seq and publishes
// the events on the room's channel, all in one atomic step: two processes
// acting on one room cannot corrupt it, and every subscriber, on every
// process, sees one room's events in seq order.
//
// Keys, with P the prefix and B the room's bucket (0–15):
//
//	P:{rB}:ROOM:meta     HASH  seq, creator, ended, hands_off, deadline, order, n, mods, spk
//	P:{rB}:ROOM:p        HASH  user -> participant record (JSON)
//	P:{rB}:ROOM:leases   ZSET  user -> end of lease or reconnect grace (unix ms)
//	P:{rB}:ROOM:stage    ZSET  user -> join order, everyone on stage
//	P:{rB}:ROOM:hands    ZSET  user -> join order, every raised hand
//	P:{rB}:ROOM:blocked  SET   users removed with block
//	P:{rB}:due           ZSET  room -> when Expire next has work (unix ms)
//	P:events:ROOM        the room's pub/sub channel
//
// The due index is what lets Due find work without scanning rooms, and each
// script keeps it exact in the same step as the change. A script can only
// touch keys of one cluster slot, so rather than one global index the
// rooms are spread over redisBuckets hash tags, each with its own index:
// a room's keys and its bucket's index share a slot, and Due reads every
// bucket. So the scripts are valid on Redis Cluster as on one Redis or
// Sentinel (the tests run on one Redis).
//
// A room is several keys that must change together, so Redis must never
// evict them: run it with maxmemory-policy noeviction (the default).
//
// End deletes every key of the room except meta, which stays for
// redisTombstoneTTL as a tombstone (seq, ended) so that a late join gets
// ErrRoomEnded; after that the durable record is what says the room ended.
//
// Times are the callers' (now), as unix milliseconds, never Redis's clock,
// so every process applies one rule and tests can use a fake clock. Times
// come back from Redis at millisecond precision, in UTC.
//
// Its zero value is not usable; call NewRedisLive, and Close when done.
type RedisLive struct {
	client redis.UniversalClient
	prefix string

	bus *redisBus
}

var (
	_ LiveStore = (*RedisLive)(nil)
	_ Bus       = (*RedisLive)(nil)
)

// redisBuckets is how many hash slots rooms are spread over. Every process
// sharing a prefix must use the same number: changing it moves rooms to
// other buckets and strands their entries in the old due indexes.
const redisBuckets = 16

// redisTombstoneTTL is how long an ended room's tombstone stays in Redis.
const redisTombstoneTTL = 24 * time.Hour

// NewRedisLive returns a live store and bus on client, with every key and
// channel under prefix (such as "parley"; it must not contain braces). It
// starts the goroutines that read the shared pub/sub connection; Close
// stops them. The client stays the caller's to close, after Close.
func NewRedisLive(client redis.UniversalClient, prefix string) *RedisLive {
	r := &RedisLive{client: client, prefix: prefix}
	r.bus = newRedisBus(client, r.channel, r.roomOf)
	return r
}

// Close stops delivering events and waits for the bus's goroutines to end.
// Idempotent. It does not close the Redis client.
func (r *RedisLive) Close() error { return r.bus.close() }

func redisBucket(room RoomID) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(room)) // a hash.Hash never fails to write
	return int(h.Sum32() % redisBuckets)
}

func (r *RedisLive) bucketTag(b int) string { return r.prefix + ":{r" + strconv.Itoa(b) + "}" }

// keys are the KEYS of every room script, in the order lua/lib.lua names.
func (r *RedisLive) keys(room RoomID) []string {
	tag := r.bucketTag(redisBucket(room))
	base := tag + ":" + string(room)
	return []string{base + ":meta", base + ":p", base + ":leases", base + ":stage", base + ":hands", base + ":blocked", tag + ":due"}
}

func (r *RedisLive) channel(room RoomID) string { return r.prefix + ":events:" + string(room) }

func (r *RedisLive) roomOf(channel string) RoomID {
	return RoomID(strings.TrimPrefix(channel, r.prefix+":events:"))
}

// Open implements LiveStore.
func (r *RedisLive) Open(ctx context.Context, room RoomID, creator UserID, cohosts []UserID, now time.Time, l Limits) error {
	if _, _, err := r.run(ctx, redisOpen, room, now, l, string(creator), joinIDs(cohosts)); err != nil {
		return fmt.Errorf("open %s: %w", room, err)
	}
	return nil
}

// Join implements LiveStore.
func (r *RedisLive) Join(ctx context.Context, room RoomID, p Participant, now time.Time, l Limits) (JoinResult, error) {
	reply, ref, err := r.run(ctx, redisJoin, room, now, l,
		string(p.UserID), string(p.Session), p.DisplayName, redisMillis(p.JoinedAt))
	switch {
	case err != nil:
		return JoinResult{}, fmt.Errorf("join %s: %w", room, err)
	case ref != nil && errors.Is(ref.err, ErrRoomNotFound):
		return JoinResult{}, fmt.Errorf("room %s: %w", room, ErrRoomNotFound)
	case ref != nil:
		return JoinResult{}, fmt.Errorf("join %s: %w", room, ref.err)
	case len(reply) < 4:
		return JoinResult{}, fmt.Errorf("join %s: %w: redis: short script reply", room, ErrUnavailable)
	}
	self, err := decodeRecord(reply[0])
	if err != nil {
		return JoinResult{}, fmt.Errorf("join %s: %w", room, err)
	}
	replaced, _ := reply[1].(string)
	snap, err := replySnapshot(reply[2:])
	if err != nil {
		return JoinResult{}, fmt.Errorf("join %s: %w", room, err)
	}
	return JoinResult{Participant: self.participant(), Replaced: SessionID(replaced), Snapshot: snap}, nil
}

// Leave implements LiveStore.
func (r *RedisLive) Leave(ctx context.Context, room RoomID, user UserID, session SessionID, reason string, now time.Time, l Limits) error {
	if _, _, err := r.run(ctx, redisLeave, room, now, l, string(user), string(session), reason); err != nil {
		return fmt.Errorf("leave %s: %w", room, err)
	}
	return nil
}

// Disconnect implements LiveStore.
func (r *RedisLive) Disconnect(ctx context.Context, room RoomID, user UserID, session SessionID, now time.Time, l Limits) error {
	if _, _, err := r.run(ctx, redisDisconnect, room, now, l, string(user), string(session)); err != nil {
		return fmt.Errorf("disconnect %s: %w", room, err)
	}
	return nil
}

// Renew implements LiveStore.
func (r *RedisLive) Renew(ctx context.Context, room RoomID, held []Held, now time.Time, l Limits) error {
	if len(held) == 0 {
		return nil
	}
	args := make([]any, 0, 2*len(held))
	for _, h := range held {
		args = append(args, string(h.User), string(h.Session))
	}
	if _, _, err := r.run(ctx, redisRenew, room, now, l, args...); err != nil {
		return fmt.Errorf("renew leases in %s: %w", room, err)
	}
	return nil
}

// Act implements LiveStore. A refusal carries the same sentinel and detail
// as the memory store's.
func (r *RedisLive) Act(ctx context.Context, room RoomID, a Action, now time.Time, l Limits) error {
	_, ref, err := r.run(ctx, redisAct, room, now, l,
		string(a.Kind), string(a.Actor), string(a.Target), redisFlag(a.Block), redisFlag(a.Enabled))
	switch {
	case err != nil:
		return fmt.Errorf("%s: %w", a.Kind, err)
	case ref != nil && errors.Is(ref.err, ErrRoomNotFound):
		return fmt.Errorf("room %s: %w", room, ErrRoomNotFound)
	case ref != nil:
		return fmt.Errorf("%s: %s: %w", a.Kind, ref.detail, ref.err)
	}
	return nil
}

func redisFlag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// Snapshot implements LiveStore.
func (r *RedisLive) Snapshot(ctx context.Context, room RoomID) (Snapshot, error) {
	reply, ref, err := r.run(ctx, redisSnapshot, room, time.Time{}, Limits{})
	switch {
	case err != nil:
		return Snapshot{}, fmt.Errorf("snapshot of %s: %w", room, err)
	case ref != nil:
		return Snapshot{}, fmt.Errorf("room %s: %w", room, ref.err)
	}
	snap, err := replySnapshot(reply)
	if err != nil {
		return Snapshot{}, fmt.Errorf("snapshot of %s: %w", room, err)
	}
	return snap, nil
}

// Participant implements LiveStore.
func (r *RedisLive) Participant(ctx context.Context, room RoomID, user UserID) (Participant, error) {
	reply, ref, err := r.run(ctx, redisOne, room, time.Time{}, Limits{}, string(user))
	switch {
	case err != nil:
		return Participant{}, fmt.Errorf("participant of %s: %w", room, err)
	case ref != nil && errors.Is(ref.err, ErrNotParticipant):
		return Participant{}, fmt.Errorf("%s: %w", user, ErrNotParticipant)
	case ref != nil:
		return Participant{}, fmt.Errorf("room %s: %w", room, ref.err)
	case len(reply) < 1:
		return Participant{}, fmt.Errorf("participant of %s: %w: redis: short script reply", room, ErrUnavailable)
	}
	rec, err := decodeRecord(reply[0])
	if err != nil {
		return Participant{}, fmt.Errorf("participant of %s: %w", room, err)
	}
	return rec.participant(), nil
}

// Counts implements LiveStore. A room that does not exist, or has ended,
// counts nobody.
func (r *RedisLive) Counts(ctx context.Context, room RoomID) (Counts, error) {
	reply, _, err := r.run(ctx, redisCounts, room, time.Time{}, Limits{})
	if err != nil {
		return Counts{}, fmt.Errorf("counts of %s: %w", room, err)
	}
	stage, err := replyInt(reply, 0)
	if err != nil {
		return Counts{}, fmt.Errorf("counts of %s: %w", room, err)
	}
	listeners, err := replyInt(reply, 1)
	if err != nil {
		return Counts{}, fmt.Errorf("counts of %s: %w", room, err)
	}
	guests, err := replyInt(reply, 2)
	if err != nil {
		return Counts{}, fmt.Errorf("counts of %s: %w", room, err)
	}
	return Counts{Speakers: int(stage), Listeners: int(listeners), Guests: int(guests)}, nil
}

// End implements LiveStore. It takes the room out of the due index and
// leaves a tombstone for redisTombstoneTTL.
func (r *RedisLive) End(ctx context.Context, room RoomID, reason string, now time.Time) error {
	if _, _, err := r.run(ctx, redisEnd, room, now, Limits{}, reason, redisTombstoneTTL.Milliseconds()); err != nil {
		return fmt.Errorf("end %s: %w", room, err)
	}
	return nil
}

// Expire implements LiveStore.
func (r *RedisLive) Expire(ctx context.Context, room RoomID, now time.Time, l Limits) (bool, error) {
	reply, _, err := r.run(ctx, redisExpire, room, now, l)
	if err != nil {
		return false, fmt.Errorf("expire %s: %w", room, err)
	}
	endNow, err := replyInt(reply, 0)
	if err != nil {
		return false, fmt.Errorf("expire %s: %w", room, err)
	}
	return endNow == 1, nil
}

// Due implements LiveStore. It reads every bucket's index in one pipeline
// and returns the rooms due longest ago first. A limit of zero or less
// means no limit, as in the memory store.
func (r *RedisLive) Due(ctx context.Context, now time.Time, limit int) ([]RoomID, error) {
	by := &redis.ZRangeBy{Min: "-inf", Max: strconv.FormatInt(now.UnixMilli(), 10)}
	if limit > 0 {
		by.Count = int64(limit)
	}
	cmds := make([]*redis.ZSliceCmd, redisBuckets)
	_, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for b := range cmds {
			cmds[b] = p.ZRangeByScoreWithScores(ctx, r.bucketTag(b)+":due", by)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("due rooms: %w: redis: %w", ErrUnavailable, err)
	}
	var due []redis.Z
	for _, c := range cmds {
		due = append(due, c.Val()...)
	}
	slices.SortFunc(due, func(a, b redis.Z) int { return cmp.Compare(a.Score, b.Score) })
	if limit > 0 && len(due) > limit {
		due = due[:limit]
	}
	out := make([]RoomID, len(due))
	for i, z := range due {
		id, _ := z.Member.(string)
		out[i] = RoomID(id)
	}
	return out, nil
}

// Ping implements LiveStore.
func (r *RedisLive) Ping(ctx context.Context) error {
	if err := r.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("%w: redis: %w", ErrUnavailable, err)
	}
	return nil
}

// Publish implements Bus: it sends ev on the room's channel, to the
// subscribers of every process. Use it for events that change no state
// (speaking); the scripts publish the others.
func (r *RedisLive) Publish(ctx context.Context, ev Event) error {
	b, err := encodeEvent(ev)
	if err != nil {
		return fmt.Errorf("publish to %s: %w", ev.Room, err)
	}
	if err := r.client.Publish(ctx, r.channel(ev.Room), b).Err(); err != nil {
		return fmt.Errorf("publish to %s: %w: redis: %w", ev.Room, ErrUnavailable, err)
	}
	return nil
}

// Subscribe implements Bus. It returns once Redis has confirmed the room's
// subscription (or after redisSubscribeWait if Redis cannot be reached;
// the subscription is then made on reconnection), so every event
// published after it returns is delivered. fn runs on the bus's one
// delivery goroutine, shared by every room of this RedisLive: it must not
// block, or every room's delivery waits for it. It may subscribe and
// unsubscribe. Pub/sub loses what is published while the connection is
// down; subscribers see the gap in seq and take a snapshot.
func (r *RedisLive) Subscribe(room RoomID, fn func(Event)) (unsubscribe func()) {
	return r.bus.subscribe(room, fn)
}
