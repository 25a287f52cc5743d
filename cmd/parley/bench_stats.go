package main

import (
	"sync"
	"sync/atomic"
	"time"
)

// rtpClock is Opus's RTP clock rate, for jitter in timestamp units.
const rtpClock = 48000

// streamRx is what one listener received of one speaker's stream. One
// goroutine at a time calls observe (the listener's reader); received is
// also read by the progress line while it runs, the rest only after the
// run has stopped.
type streamRx struct {
	speaker string // the stream's msid: the speaker's user ID

	received atomic.Uint64
	highest  atomic.Int64 // maxExt+1 once started, for window snapshots
	started  bool
	firstSeq uint16 // the first sequence number received
	maxExt   int64  // highest extended sequence number, relative to firstSeq
	cycles   int64  // wraps of the 16-bit sequence number
	lastSeq  uint16
	window   [dupWindow / 64]uint64 // seen bits of the last dupWindow ext seqs
	dups     uint64
	reorder  uint64

	// RFC 3550 A.8 interarrival jitter, in RTP timestamp units.
	jitter      float64
	lastTransit int64
	base        time.Time
}

// dupWindow is how far back duplicates are recognised.
const dupWindow = 1024

// observe records one packet. It allocates nothing.
func (s *streamRx) observe(seq uint16, ts uint32, at time.Time) {
	s.received.Add(1)
	if !s.started {
		s.started, s.firstSeq, s.lastSeq, s.base = true, seq, seq, at
		s.highest.Store(1)
		s.mark(0)
		s.lastTransit = -int64(ts)
		return
	}
	// Extend the sequence number around the highest seen (RFC 3550 A.1).
	delta := int64(int16(seq - s.lastSeq))
	ext := s.maxExt + delta
	switch {
	case ext > s.maxExt:
		if seq < s.lastSeq {
			s.cycles++
		}
		for e := s.maxExt + 1; e < ext && e <= s.maxExt+dupWindow; e++ {
			s.unmark(e)
		}
		s.maxExt, s.lastSeq = ext, seq
		s.highest.Store(ext + 1)
		s.mark(ext)
	case ext < 0 || s.maxExt-ext >= dupWindow:
		// Older than the first packet or the window: late, not counted as a
		// duplicate.
		s.reorder++
	case s.seen(ext):
		s.dups++
		s.received.Add(^uint64(0)) // a duplicate is not a received packet
		return
	default:
		s.reorder++
		s.mark(ext)
	}
	transit := int64(at.Sub(s.base)*rtpClock/time.Second) - int64(ts)
	d := transit - s.lastTransit
	if d < 0 {
		d = -d
	}
	s.jitter += (float64(d) - s.jitter) / 16
	s.lastTransit = transit
}

func (s *streamRx) mark(ext int64)      { s.window[(ext/64)%(dupWindow/64)] |= 1 << (ext % 64) }
func (s *streamRx) unmark(ext int64)    { s.window[(ext/64)%(dupWindow/64)] &^= 1 << (ext % 64) }
func (s *streamRx) seen(ext int64) bool { return s.window[(ext/64)%(dupWindow/64)]&(1<<(ext%64)) != 0 }

// listenerRx is one listener's streams and join timing. The streams slice
// is appended to by the listener's setup (under mu) and its entries
// written by its reader.
type listenerRx struct {
	joinStart  time.Time
	firstAudio atomic.Int64 // unix nanoseconds of the first packet; 0 = none yet
	joinedAt   atomic.Int64 // unix nanoseconds when media was up; 0 = not (yet)
	failed     atomic.Bool

	mu      sync.Mutex // guards streams' length, not their contents
	streams []*streamRx
}

// stream returns the stats of the stream of speaker, creating it.
func (l *listenerRx) stream(speaker string) *streamRx {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.streams {
		if s.speaker == speaker {
			return s
		}
	}
	s := &streamRx{speaker: speaker}
	l.streams = append(l.streams, s)
	return s
}

// gotAudio records the first packet's arrival.
func (l *listenerRx) gotAudio(at time.Time) {
	if l.firstAudio.Load() == 0 {
		l.firstAudio.CompareAndSwap(0, at.UnixNano())
	}
}

// received is the listener's packet count so far, safe while running.
func (l *listenerRx) received() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var n uint64
	for _, s := range l.streams {
		n += s.received.Load()
	}
	return n
}

// speakerTx is what one speaker sent: its sequence numbers run from
// firstSeq for sent packets.
type speakerTx struct {
	id       string
	firstSeq uint16
	sent     atomic.Uint64
}

// lossTotals adds up expected and received packets over every listener's
// streams, against what the speakers sent: each stream is expected to
// have every packet from the first one it received to the speaker's
// last. A listener with no packet at all from a speaker expects all the
// packets sent after its media came up (plus a second's grace).
type lossTotals struct {
	expected, received, dups, reorder uint64
	missingStreams                    int
	jitterMs                          []float64
}

func computeLoss(speakers []*speakerTx, listeners []*listenerRx, sentAt func(sp *speakerTx, at time.Time) uint64) lossTotals {
	var t lossTotals
	for _, l := range listeners {
		if l.failed.Load() {
			continue
		}
		for _, sp := range speakers {
			var st *streamRx
			for _, s := range l.streams {
				if s.speaker == sp.id {
					st = s
				}
			}
			total := sp.sent.Load()
			if st == nil || !st.started {
				t.missingStreams++
				if up := l.joinedAt.Load(); up != 0 {
					t.expected += total - sentAt(sp, time.Unix(0, up).Add(time.Second))
				}
				continue
			}
			offset := uint64(uint16(st.firstSeq - sp.firstSeq))
			exp := uint64(0)
			if total > offset {
				exp = total - offset
			}
			got := st.received.Load()
			t.expected += max(exp, got)
			t.received += got
			t.dups += st.dups
			t.reorder += st.reorder
			t.jitterMs = append(t.jitterMs, st.jitter*1000/rtpClock)
		}
	}
	return t
}

// windowMark is one stream's counts at the start of the measuring window.
type windowMark struct {
	st       *streamRx
	highest  int64
	received uint64
}

// markWindow snapshots every started stream, safely while listeners run.
func markWindow(listeners []*listenerRx) []windowMark {
	var marks []windowMark
	for _, l := range listeners {
		l.mu.Lock()
		for _, s := range l.streams {
			marks = append(marks, windowMark{st: s, highest: s.highest.Load(), received: s.received.Load()})
		}
		l.mu.Unlock()
	}
	return marks
}

// windowLoss is the loss over the measuring window, from sequence
// numbers: for each stream that was flowing when the window opened, the
// packets the speaker numbered since then against those that arrived.
func windowLoss(marks []windowMark) (expected, received uint64) {
	for _, m := range marks {
		if m.highest == 0 {
			continue
		}
		exp := uint64(max(0, m.st.highest.Load()-m.highest))
		got := m.st.received.Load() - m.received
		expected += max(exp, got)
		received += got
	}
	return expected, received
}
