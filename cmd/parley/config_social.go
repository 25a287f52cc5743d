package main

import (
	"strconv"

	"github.com/parley-audio/parley/internal/ratelimit"
)

// socialConfig is the settings of room access, joins and guests.
type socialConfig struct {
	// GuestListening lets people without an account listen to open rooms.
	GuestListening bool
	// GuestRate limits guest passes per client address.
	GuestRate ratelimit.Rate
	// JoinRate limits joins of other rooms per member.
	JoinRate ratelimit.Rate
	// DirectoryRate limits member searches and follower lists per member.
	DirectoryRate ratelimit.Rate
}

func socialOptions() []option {
	return []option{
		{"guest-listening", "PARLEY_GUEST_LISTENING", "false", "let people without an account listen to open rooms by link (listen only)", func(c *serveConfig, v string) error {
			b, err := strconv.ParseBool(v)
			c.Social.GuestListening = b
			return err
		}},
		{"guest-rate-limit", "PARLEY_GUEST_RATE_LIMIT", "10/10m", "guest passes per client address: N/period, in bursts of up to N", rateSetter(func(c *serveConfig, r ratelimit.Rate) { c.Social.GuestRate = r })},
		{"join-rate-limit", "PARLEY_JOIN_RATE_LIMIT", "10/10m", "joins of another room per member: N/period, in bursts of up to N (rejoining one's room is free)", rateSetter(func(c *serveConfig, r ratelimit.Rate) { c.Social.JoinRate = r })},
		{"directory-rate-limit", "PARLEY_DIRECTORY_RATE_LIMIT", "30/1m", "member searches and follower-list pages per member: N/period, in bursts of up to N", rateSetter(func(c *serveConfig, r ratelimit.Rate) { c.Social.DirectoryRate = r })},
	}
}
