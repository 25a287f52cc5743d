package sfu

import (
	"slices"
)

// Loudest-N forwarding. A room may forward only its N loudest speakers at
// any moment, so a 20-person stage costs listeners (and the server) no
// more than an N-person one. Loudness is the mean RFC 6464 audio level of
// a track's packets over one speaking interval (100 ms by default), so
// the choice follows who is talking within a tenth of a second; a newly
// loud track must beat the quietest selected one by loudestMargin dB to
// take its place, so two speakers at the same level do not flap.
//
// The packet path only adds each packet's level to two counters and reads
// one flag; the choice is made on the router's speaking goroutine. Tracks
// that are not selected still count voice, so speaking events keep coming
// for everyone on stage. Their packets are counted as DropNotLoudest, and
// the sequence numbers of a track are shifted down by the packets it was
// not forwarded, so listeners see a paused stream, not a loss.

// loudestMargin is the hysteresis, in dB, of the selection.
const loudestMargin = 3

// levelSilent is what a track with no packets (or no audio level) in an
// interval counts as.
const levelSilent = maxAudioLevel

// loudness is one track's mean level in the last interval (lower is
// louder) and whether it was selected.
type loudness struct {
	src      *source
	level    float64
	selected bool
}

// selectLoudest decides which published tracks are forwarded, given n (0
// or less: all of them). It runs on the router's speaking goroutine after
// every tick, and reads and resets each track's level counters.
func (r *Router) selectLoudest(n int, published map[PeerID]*source, scratch []loudness) []loudness {
	scratch = scratch[:0]
	for _, src := range published {
		sum, cnt := src.levelSum.Swap(0), src.levelCount.Swap(0)
		l := loudness{src: src, level: levelSilent, selected: !src.muted.Load()}
		if cnt > 0 {
			l.level = float64(sum) / float64(cnt)
		}
		scratch = append(scratch, l)
	}
	if n <= 0 || len(scratch) <= n {
		for _, l := range scratch {
			l.src.muted.Store(false)
		}
		return scratch
	}
	// Selected tracks get the margin as a head start.
	key := func(l loudness) float64 {
		if l.selected {
			return l.level - loudestMargin
		}
		return l.level
	}
	slices.SortStableFunc(scratch, func(a, b loudness) int {
		ka, kb := key(a), key(b)
		switch {
		case ka < kb:
			return -1
		case ka > kb:
			return 1
		}
		return 0
	})
	for i, l := range scratch {
		l.src.muted.Store(i >= n)
	}
	return scratch
}

// loudestN is the room's setting: RouterParams.LoudestN, or the SFU's
// default when that is 0; 0 or less means all tracks.
func (r *Router) loudestN() int {
	if n := r.loudest.Load(); n != 0 {
		return int(n)
	}
	return r.sfu.cfg.LoudestN
}

// SetLoudestN changes how many of the loudest speakers are forwarded: n > 0
// forwards at most n; n < 0 forwards everyone; 0 returns to the SFU's
// default (Config.LoudestN). It takes effect at the next speaking
// interval.
func (r *Router) SetLoudestN(n int) { r.loudest.Store(int64(n)) }
