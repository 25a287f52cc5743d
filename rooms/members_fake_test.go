package rooms

import (
	"context"
	"fmt"
	"sync"
)

// memberDirectory is MemberRecords in memory, for the service's tests: the
// real one is the members package's, which imports rooms.
type memberDirectory struct {
	mu   sync.Mutex // guards byID
	byID map[UserID]Member
}

var _ MemberRecords = (*memberDirectory)(nil)

func newMemberDirectory() *memberDirectory { return &memberDirectory{byID: make(map[UserID]Member)} }

func (d *memberDirectory) CreateMember(_ context.Context, m Member) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.byID[m.ID]; ok {
		return fmt.Errorf("member %s exists", m.ID)
	}
	d.byID[m.ID] = m
	return nil
}

func (d *memberDirectory) Member(_ context.Context, id UserID) (Member, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	m, ok := d.byID[id]
	if !ok {
		return Member{}, fmt.Errorf("member %s: %w", id, ErrMemberNotFound)
	}
	return m, nil
}
