package main

import (
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/parley-audio/parley/api"
	"github.com/parley-audio/parley/internal/ratelimit"
	"github.com/parley-audio/parley/rooms"
	"github.com/parley-audio/parley/signaling"
)

// limiters are the rate limits of sign-in (per username and per client
// address), joins, the member directory, guest passes and chat.
type limiters struct {
	signInUser, signInAddr   ratelimit.Limiter
	joins, directory, guests ratelimit.Limiter
	chat                     ratelimit.Limiter
}

// openLimiters chooses where rate limits are kept: in this process, or,
// with Redis configured (client not nil), in Redis, so that every process
// enforces one limit and a cluster cannot multiply anyone's allowance.
// This is the one place that chooses.
func openLimiters(cfg serveConfig, client *redis.Client) limiters {
	s := cfg.Social
	chat := rooms.ChatRate{PerMinute: cfg.ChatRate, Burst: cfg.ChatBurst}.Rate()
	if client == nil {
		return limiters{
			signInUser: ratelimit.NewMemory(cfg.SignInPerUser), signInAddr: ratelimit.NewMemory(cfg.SignInPerAddr),
			joins: ratelimit.NewMemory(s.JoinRate), directory: ratelimit.NewMemory(s.DirectoryRate),
			guests: ratelimit.NewMemory(s.GuestRate), chat: ratelimit.NewMemory(chat),
		}
	}
	p := cfg.RedisPrefix + ":rl:"
	return limiters{
		signInUser: ratelimit.NewRedis(client, p+"signin:user", cfg.SignInPerUser),
		signInAddr: ratelimit.NewRedis(client, p+"signin:addr", cfg.SignInPerAddr),
		joins:      ratelimit.NewRedis(client, p+"joins", s.JoinRate), directory: ratelimit.NewRedis(client, p+"directory", s.DirectoryRate),
		guests: ratelimit.NewRedis(client, p+"guests", s.GuestRate), chat: ratelimit.NewRedis(client, p+"chat", chat),
	}
}

// memberOrGuest is the Authenticator signaling gets: a member's token, or
// else a guest's pass, which admits its guest to one room.
type memberOrGuest struct {
	members tokenAuth
	guests  *api.GuestTokens
}

func (a memberOrGuest) Authenticate(token string) (signaling.Identity, error) {
	id, err := a.members.Authenticate(token)
	if err == nil || a.guests == nil || errors.Is(err, signaling.ErrTokenExpired) {
		return id, err
	}
	pass, gerr := a.guests.Verify(token)
	if errors.Is(gerr, api.ErrTokenExpired) {
		return signaling.Identity{}, fmt.Errorf("%w: %w", signaling.ErrTokenExpired, gerr)
	}
	if gerr != nil {
		return signaling.Identity{}, err // say what was wrong with it as a member's token
	}
	return signaling.Identity{User: pass.Guest, Name: "Guest", Room: pass.Room}, nil
}
