package rooms

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// The presence scripts stand alone: they touch one member's key, not a
// room's, so they do not include lua/lib.lua.
var (
	redisLineup          = loadRedisScript("lineup")
	redisPresenceClaim   = loadStandaloneScript("presence_claim")
	redisPresenceRelease = loadStandaloneScript("presence_release")
	redisPresenceRenew   = loadStandaloneScript("presence_renew")
)

func loadStandaloneScript(name string) *redis.Script {
	body, err := redisLua.ReadFile("lua/" + name + ".lua")
	if err != nil {
		panic(err) // embedded: cannot happen in a built binary
	}
	return redis.NewScript(string(body))
}

// presenceKey is a member's whereabouts: P:at:USER, holding
// "room|session|until" (unix ms). One key per member, so each script
// touches one key, in whatever cluster slot it falls.
func (r *RedisLive) presenceKey(user UserID) string { return r.prefix + ":at:" + string(user) }

func encodeWhereabouts(w Whereabouts) string { return string(w.Room) + "|" + string(w.Session) }

// decodeWhereabouts reads "room|session", or "room|session|until" when
// now is given (non-zero), which it must be before.
func decodeWhereabouts(s string, now time.Time) Whereabouts {
	if !now.IsZero() {
		i := strings.LastIndexByte(s, '|')
		if i < 0 {
			return Whereabouts{}
		}
		ms, err := strconv.ParseInt(s[i+1:], 10, 64)
		if err != nil || now.UnixMilli() >= ms {
			return Whereabouts{}
		}
		s = s[:i]
	}
	room, session, ok := strings.Cut(s, "|")
	if !ok {
		return Whereabouts{}
	}
	return Whereabouts{Room: RoomID(room), Session: SessionID(session)}
}

// ClaimPresence implements PresenceStore.
func (r *RedisLive) ClaimPresence(ctx context.Context, user UserID, w Whereabouts, ttl time.Duration, now time.Time) (Whereabouts, error) {
	old, err := redisPresenceClaim.Run(ctx, r.client, []string{r.presenceKey(user)},
		encodeWhereabouts(w), now.UnixMilli(), ttl.Milliseconds()).Text()
	if err != nil {
		return Whereabouts{}, fmt.Errorf("claim whereabouts of %s: %w: redis: %w", user, ErrUnavailable, err)
	}
	return decodeWhereabouts(old, time.Time{}), nil
}

// Presence implements PresenceStore.
func (r *RedisLive) Presence(ctx context.Context, user UserID, now time.Time) (Whereabouts, error) {
	s, err := r.client.Get(ctx, r.presenceKey(user)).Result()
	if errors.Is(err, redis.Nil) {
		return Whereabouts{}, nil
	}
	if err != nil {
		return Whereabouts{}, fmt.Errorf("whereabouts of %s: %w: redis: %w", user, ErrUnavailable, err)
	}
	return decodeWhereabouts(s, now), nil
}

// ReleasePresence implements PresenceStore.
func (r *RedisLive) ReleasePresence(ctx context.Context, user UserID, w Whereabouts) error {
	if err := redisPresenceRelease.Run(ctx, r.client, []string{r.presenceKey(user)}, encodeWhereabouts(w)).Err(); err != nil {
		return fmt.Errorf("release whereabouts of %s: %w: redis: %w", user, ErrUnavailable, err)
	}
	return nil
}

// RenewPresence implements PresenceStore: one script per member, in one
// pipeline. EVAL, not EVALSHA: a pipeline cannot fall back when Redis has
// lost a script, and the script is a few hundred bytes.
func (r *RedisLive) RenewPresence(ctx context.Context, room RoomID, held []Held, ttl time.Duration, now time.Time) error {
	if len(held) == 0 {
		return nil
	}
	_, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, h := range held {
			w := encodeWhereabouts(Whereabouts{Room: room, Session: h.Session})
			redisPresenceRenew.Eval(ctx, p, []string{r.presenceKey(h.User)}, w, now.UnixMilli(), ttl.Milliseconds())
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("renew whereabouts: %w: redis: %w", ErrUnavailable, err)
	}
	return nil
}

// Lineup implements LiveStore.
func (r *RedisLive) Lineup(ctx context.Context, room RoomID) (Lineup, error) {
	reply, _, err := r.run(ctx, redisLineup, room, time.Time{}, Limits{})
	if err != nil {
		return Lineup{}, fmt.Errorf("lineup of %s: %w", room, err)
	}
	var l Lineup
	for i, n := range []*int{&l.Speakers, &l.Listeners, &l.Guests} {
		v, err := replyInt(reply, i)
		if err != nil {
			return Lineup{}, fmt.Errorf("lineup of %s: %w", room, err)
		}
		*n = int(v)
	}
	recs := make([]redisParticipant, 0, len(reply)-3)
	for _, v := range reply[3:] {
		rec, err := decodeRecord(v)
		if err != nil {
			return Lineup{}, fmt.Errorf("lineup of %s: %w", room, err)
		}
		recs = append(recs, rec)
	}
	l.OnStage = participantsInOrder(recs)
	return l, nil
}
