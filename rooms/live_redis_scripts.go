package rooms

import (
	"context"
	"embed"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// The Lua scripts of the Redis live store, one per transition. Each is
// lua/lib.lua (the shared keys, arguments and rules) followed by its own
// file, so a script is a single EVAL and every transition is atomic.
//
//go:embed lua/*.lua
var redisLua embed.FS

var (
	redisOpen       = loadRedisScript("open")
	redisJoin       = loadRedisScript("join")
	redisLeave      = loadRedisScript("leave")
	redisDisconnect = loadRedisScript("disconnect")
	redisRenew      = loadRedisScript("renew")
	redisAct        = loadRedisScript("act")
	redisSnapshot   = loadRedisScript("snapshot")
	redisCounts     = loadRedisScript("counts")
	redisEnd        = loadRedisScript("end")
	redisExpire     = loadRedisScript("expire")
	redisOne        = loadRedisScript("participant")
	redisRestore    = loadRedisScript("restore")
)

func loadRedisScript(name string) *redis.Script {
	lib, err := redisLua.ReadFile("lua/lib.lua")
	if err != nil {
		panic(err) // embedded: cannot happen in a built binary
	}
	body, err := redisLua.ReadFile("lua/" + name + ".lua")
	if err != nil {
		panic(err)
	}
	return redis.NewScript(string(lib) + "\n" + string(body))
}

// redisCodes map the codes scripts return to the package's sentinels.
var redisCodes = map[string]error{
	"not_found":        ErrRoomNotFound,
	"ended":            ErrRoomEnded,
	"blocked":          ErrBlocked,
	"not_in_room":      ErrNotParticipant,
	"forbidden":        ErrForbidden,
	"stage_full":       ErrStageFull,
	"hands_disabled":   ErrHandsDisabled,
	"not_invited":      ErrNotInvited,
	"already_on_stage": ErrAlreadyOnStage,
	"not_on_stage":     ErrNotOnStage,
	"invalid":          ErrInvalid,
}

// redisRefusal is a script's refusal: a sentinel and the detail the memory
// store would give.
type redisRefusal struct {
	err    error
	detail string
}

// run runs a room script: KEYS are the room's keys, and ARGV starts with
// the arguments every script shares (lua/lib.lua), then args. It returns
// the reply after its status, or the refusal the script returned.
func (r *RedisLive) run(ctx context.Context, s *redis.Script, room RoomID, now time.Time, l Limits, args ...any) ([]any, *redisRefusal, error) {
	argv := make([]any, 0, 7+len(args))
	argv = append(argv, string(room), r.channel(room), now.UnixMilli(), l.StageCap,
		l.LeaseTTL.Milliseconds(), l.ReconnectGrace.Milliseconds(), l.EmptyStageGrace.Milliseconds())
	argv = append(argv, args...)
	// Run tries EVALSHA and falls back to EVAL when Redis lost the script
	// (a restart, SCRIPT FLUSH, a failover).
	reply, err := s.Run(ctx, r.client, r.keys(room), argv...).Slice()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: redis: %w", ErrUnavailable, err)
	}
	if len(reply) == 0 {
		return nil, nil, fmt.Errorf("%w: redis: empty script reply", ErrUnavailable)
	}
	code, _ := reply[0].(string)
	if code == "ok" {
		return reply[1:], nil, nil
	}
	sentinel, ok := redisCodes[code]
	if !ok {
		return nil, nil, fmt.Errorf("%w: redis: unknown script reply %q", ErrUnavailable, code)
	}
	ref := &redisRefusal{err: sentinel}
	if len(reply) > 1 {
		ref.detail, _ = reply[1].(string)
	}
	return nil, ref, nil
}

// replyInt reads an integer a script returned.
func replyInt(reply []any, i int) (int64, error) {
	if i >= len(reply) {
		return 0, fmt.Errorf("%w: redis: short script reply", ErrUnavailable)
	}
	switch v := reply[i].(type) {
	case int64:
		return v, nil
	case string:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%w: redis: script reply %d: %w", ErrUnavailable, i, err)
		}
		return n, nil
	}
	return 0, fmt.Errorf("%w: redis: script reply %d is %T", ErrUnavailable, i, reply[i])
}

// replySnapshot reads seq, hands_off and the records that follow them, and
// puts the participants in join order.
func replySnapshot(reply []any) (Snapshot, error) {
	seq, err := replyInt(reply, 0)
	if err != nil {
		return Snapshot{}, err
	}
	off, err := replyInt(reply, 1)
	if err != nil {
		return Snapshot{}, err
	}
	recs := make([]redisParticipant, 0, len(reply)-2)
	for _, v := range reply[2:] {
		rec, err := decodeRecord(v)
		if err != nil {
			return Snapshot{}, err
		}
		recs = append(recs, rec)
	}
	return Snapshot{Participants: participantsInOrder(recs), HandsEnabled: off == 0, Seq: uint64(seq)}, nil
}

func decodeRecord(v any) (redisParticipant, error) {
	s, ok := v.(string)
	if !ok {
		return redisParticipant{}, fmt.Errorf("%w: redis: a participant record is %T", ErrUnavailable, v)
	}
	var rec redisParticipant
	if err := rec.unmarshal([]byte(s)); err != nil {
		return redisParticipant{}, fmt.Errorf("%w: redis: participant record: %w", ErrUnavailable, err)
	}
	return rec, nil
}
