package main

import (
	"context"
	"errors"
	"fmt"

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
