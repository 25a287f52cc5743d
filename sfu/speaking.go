package sfu

import "time"

// minVoicePackets is how many voice packets one evaluation interval must
// contain to start a speaker: a single loud packet is usually a click or a
// bumped microphone, not speech.
const minVoicePackets = 2

// speakingDetector decides, once per evaluation interval, whether one track
// is speaking. It is a pure state machine: the packet path only counts voice
// packets (an atomic add), and the router's goroutine feeds the running
// count and its own clock in here. Keeping time out of the packet path means
// an injected clock drives the whole decision in tests.
type speakingDetector struct {
	hangover time.Duration

	speaking  bool
	lastCount uint64    // voice packet count at the previous evaluation
	lastVoice time.Time // evaluation time at which voice was last seen
	lastEval  time.Time // time of the previous evaluation
}

func newSpeakingDetector(hangover time.Duration) speakingDetector {
	return speakingDetector{hangover: hangover}
}

// update evaluates one interval ending at now, given the track's cumulative
// voice packet count. It reports whether the speaking state changed; the
// new state is d.speaking.
func (d *speakingDetector) update(now time.Time, voiceCount uint64) (changed bool) {
	// A tick that brings no time closes no interval: its packets belong to
	// the next one. The clock of a router never stands still, but tests
	// tick it by zero to wait for the router, and the evaluation of such a
	// tick may run after packets meant for the next interval arrived.
	if !d.lastEval.IsZero() && !now.After(d.lastEval) {
		return false
	}
	d.lastEval = now
	delta := voiceCount - d.lastCount // wraps correctly on overflow
	d.lastCount = voiceCount

	switch {
	case delta >= minVoicePackets:
		d.lastVoice = now
		if !d.speaking {
			d.speaking = true
			return true
		}
	case delta > 0 && d.speaking:
		// One voice packet does not start a speaker, but it does keep an
		// active one alive: speech has quiet syllables.
		d.lastVoice = now
	}

	if d.speaking && now.Sub(d.lastVoice) >= d.hangover {
		d.speaking = false
		return true
	}
	return false
}

// trackSpeaking is the router goroutine's state for one published track.
type trackSpeaking struct {
	src *source
	det speakingDetector
}

// runSpeaking is the router's goroutine: it evaluates speaking state on
// every tick, reports a speaker as stopped as soon as their track is
// unpublished, and starts counting a track's voice when it is published.
// It owns all detector state, so none of it needs a lock, and
// OnSpeaking is only ever called from here.
func (r *Router) runSpeaking() {
	states := make(map[PeerID]*trackSpeaking)
	published := make(map[PeerID]*source)
	var loud []loudness
	for {
		select {
		case <-r.quit:
			// Every "started" gets its "stopped", even at shutdown.
			for id, st := range states {
				if st.det.speaking {
					r.reportSpeaking(st.src, id, false)
				}
			}
			return
		case <-r.ticks:
			r.evaluateSpeaking(states, published, true)
			loud = r.selectLoudest(r.loudestN(), published, loud)
		case <-r.changed:
			r.evaluateSpeaking(states, published, false)
		}
	}
}

// evaluateSpeaking drops the state of tracks no longer published (calling
// OnSpeaking false for those that were speaking), starts tracking newly
// published ones and, on a tick, updates every other track's detector.
func (r *Router) evaluateSpeaking(states map[PeerID]*trackSpeaking, published map[PeerID]*source, tick bool) {
	r.publishedSnapshot(published)
	for id, st := range states {
		if published[id] == st.src {
			continue
		}
		delete(states, id)
		if st.det.speaking {
			r.reportSpeaking(st.src, id, false)
		}
	}
	var now time.Time
	if tick {
		now = r.now()
	}
	for id, src := range published {
		st := states[id]
		if st == nil {
			// Count only voice from publication on: the counter also holds
			// any earlier publication of the same track.
			st = &trackSpeaking{src: src, det: newSpeakingDetector(r.sfu.cfg.SpeakingHangover)}
			st.det.lastCount = src.voice.Load()
			states[id] = st
			continue
		}
		if tick && st.det.update(now, src.voice.Load()) {
			r.reportSpeaking(src, id, st.det.speaking)
		}
	}
}

// reportSpeaking calls OnSpeaking for tracks that entered the room here.
// A relayed track's speaking is reported by the speaker's own node, once
// for the whole room; its detector still runs, for nothing but symmetry.
func (r *Router) reportSpeaking(src *source, id PeerID, speaking bool) {
	if !src.remote {
		r.onSpeaking(id, speaking)
	}
}
