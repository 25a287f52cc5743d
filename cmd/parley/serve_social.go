package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-audio/parley/api"
	"github.com/parley-audio/parley/internal/ratelimit"
	"github.com/parley-audio/parley/signaling"
)

// limiters are the rate limits of joins, the member directory and guest
// passes.
type limiters struct {
	joins, directory, guests ratelimit.Limiter
}

// openLimiters chooses where rate limits are kept: in this process, or,
// with Redis configured, in Redis, so that every process enforces one
// limit and a cluster cannot multiply anyone's allowance. This is the one
// place that chooses.
func openLimiters(ctx context.Context, cfg serveConfig) (limiters, func(), error) {
	s := cfg.Social
	if cfg.RedisURL == "" {
		return limiters{
			joins: ratelimit.NewMemory(s.JoinRate), directory: ratelimit.NewMemory(s.DirectoryRate),
			guests: ratelimit.NewMemory(s.GuestRate),
		}, func() {}, nil
	}
	opts, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return limiters{}, nil, fmt.Errorf("redis url: %w", err)
	}
	client := redis.NewClient(opts)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := client.Ping(pctx).Err(); err != nil {
		_ = client.Close()
		return limiters{}, nil, fmt.Errorf("redis at %s: %w", opts.Addr, err)
	}
	p := cfg.RedisPrefix + ":rl:"
	return limiters{
		joins: ratelimit.NewRedis(client, p+"joins", s.JoinRate), directory: ratelimit.NewRedis(client, p+"directory", s.DirectoryRate),
		guests: ratelimit.NewRedis(client, p+"guests", s.GuestRate),
	}, func() { _ = client.Close() }, nil
}

// authenticate checks a member's token, or else a guest's pass, which
// admits its guest to one room.
func (a tokenAuth) authenticate(token string) (signaling.Identity, error) {
	id, err := a.Authenticate(token)
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

// memberOrGuest is the Authenticator signaling gets: members and guests.
type memberOrGuest struct{ tokenAuth }

func (a memberOrGuest) Authenticate(token string) (signaling.Identity, error) {
	return a.authenticate(token)
}
