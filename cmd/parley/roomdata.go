package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/parley-audio/parley/api"
	"github.com/parley-audio/parley/members"
	"github.com/parley-audio/parley/rooms"
)

// memberAdmins tells the API who the instance admins are: members keeps
// them (members.Account.Admin), and an admin whose account is not active
// (waitlisted, deleted) is not one.
type memberAdmins struct{ store *members.SQLStore }

var _ api.Admins = memberAdmins{}

func (a memberAdmins) IsAdmin(ctx context.Context, id rooms.UserID) (bool, error) {
	acc, err := a.store.Account(ctx, id)
	if errors.Is(err, members.ErrAccountNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("admin check: %w", err)
	}
	return acc.Admin && acc.Status == members.StatusActive, nil
}

// newChatLimiter chooses where the chat rate is counted: in Redis when
// there is one, so that a member's limit holds across every process, and
// in this process otherwise.
func newChatLimiter(cfg serveConfig, client *redis.Client) rooms.ChatLimiter {
	r := rooms.ChatRate{PerMinute: cfg.ChatRate, Burst: cfg.ChatBurst}
	if client != nil {
		return rooms.NewRedisChatLimiter(client, cfg.RedisPrefix, r)
	}
	return rooms.NewMemoryChatLimiter(r)
}
