package sfu

import (
	"slices"
	"sync"
	"sync/atomic"
)

// downList is the copy-on-write list of a source's downtracks. The
// forwarding goroutine loads the current slice with one atomic load per
// packet and iterates it without any lock, so a subscriber joining or
// leaving never waits for (or delays) a packet. Writers rebuild the slice
// under mu; they are rare (negotiation events), packets are not.
type downList struct {
	mu   sync.Mutex // serializes writers; readers never take it
	list atomic.Pointer[[]*downTrack]
}

// load returns the current snapshot. It must not be modified.
func (l *downList) load() []*downTrack {
	if p := l.list.Load(); p != nil {
		return *p
	}
	return nil
}

func (l *downList) add(d *downTrack) {
	l.mu.Lock()
	defer l.mu.Unlock()
	old := l.load()
	next := make([]*downTrack, 0, len(old)+1)
	next = append(next, old...)
	next = append(next, d)
	l.list.Store(&next)
}

func (l *downList) remove(d *downTrack) {
	l.mu.Lock()
	defer l.mu.Unlock()
	old := l.load()
	i := slices.Index(old, d)
	if i < 0 {
		return
	}
	next := make([]*downTrack, 0, len(old)-1)
	next = append(next, old[:i]...)
	next = append(next, old[i+1:]...)
	l.list.Store(&next)
}

func (l *downList) len() int { return len(l.load()) }
