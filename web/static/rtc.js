// The one RTCPeerConnection to the server's SFU (docs/protocol.md, "A
// session, step by step"): our own audio transceiver, the server's offers
// adding one m-line per speaker, and trickle ICE both ways.

const MIC_CONSTRAINTS = { audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true } };

export class Rtc {
  /**
   * send(type, payload): sends a signaling message, returns its id.
   * sink: the element that holds one <audio> per remote track.
   * onChange(): the connection state, the set of remote tracks or the
   *   microphone changed.
   * onAutoplayBlocked(): the browser refused to play without a user gesture.
   * onError(kind, err): kind is 'mic' (no microphone) or 'negotiation'.
   */
  constructor({ send, sink, onChange, onAutoplayBlocked, onError }) {
    Object.assign(this, { send, sink, onChange, onAutoplayBlocked, onError });
    this.pc = new RTCPeerConnection({ iceServers: [] });
    this.audios = new Map(); // transceiver mid -> <audio>
    this.pendingCandidates = []; // remote candidates that came before a remote description
    this.queue = Promise.resolve(); // every SDP/candidate step, one at a time, in arrival order
    this.own = null; // our first audio transceiver: the microphone goes here when on stage
    this.localTrack = null; // the microphone, while we have it
    this.wantSend = false; // whether we should be sending (we are on stage)
    this.muted = false;
    this.acquiring = null; // the getUserMedia in progress
    this.micError = null; // why the last getUserMedia failed
    this.offerWanted = false; // an offer of ours is due once signaling is stable
    this.offerId = null; // the id of our outstanding offer message
    this.blocked = false;
    this.closed = false;

    this.pc.onicecandidate = ({ candidate: c }) => {
      // null means gathering is done: send the protocol's end-of-candidates.
      // Skip the empty-string candidate some browsers fire just before it.
      if (!c) this.send('candidate', { candidate: '' });
      else if (c.candidate) this.send('candidate', candidateToWire(c));
    };
    this.pc.ontrack = (e) => this.attach(e);
    this.pc.onconnectionstatechange = () => this.onChange();
  }

  get state() { return this.pc.connectionState; }

  get hasMic() { return !!this.localTrack; }

  /**
   * Adds our own transceiver and sends the first offer. On stage (send), the
   * microphone goes on it from the start, so the first offer is sendrecv.
   */
  async start(send) {
    this.wantSend = send;
    const mic = send ? await this.acquireMic() : null;
    if (this.closed) {
      mic?.track.stop();
      return;
    }
    if (mic && this.wantSend && !this.localTrack) this.useTrack(mic.track);
    else mic?.track.stop();
    this.own = this.localTrack
      ? this.pc.addTransceiver(this.localTrack, { direction: 'sendrecv', streams: [mic.stream] })
      : this.pc.addTransceiver('audio', { direction: 'recvonly' });
    this.offerWanted = true;
    this.run(() => this.maybeOffer());
    // Put on stage while this started as a listener: get the microphone now.
    if (this.wantSend && !send) this.applySending();
  }

  /**
   * On stage or not (docs/protocol.md, "Going on stage"): the microphone
   * goes on our first transceiver, sendrecv, and we offer again on the same
   * PeerConnection; back in the audience it comes off, recvonly, and the
   * microphone is released.
   */
  setSending(send) {
    if (send === this.wantSend) return;
    this.wantSend = send;
    if (this.own) this.applySending(); // otherwise start() is under way and sees wantSend
  }

  /** Tries the microphone again (on stage without one). Resolves whether we have it. */
  async retryMic() {
    if (!this.wantSend || !this.own) return false;
    return this.applySending();
  }

  setMuted(muted) {
    this.muted = muted;
    if (this.localTrack) this.localTrack.enabled = !muted;
  }

  async applySending() {
    if (!this.wantSend) {
      // Release the microphone at once (its indicator goes off); the
      // sender follows in order with the other negotiation steps.
      const t = this.localTrack;
      this.localTrack = null;
      t?.stop();
      this.run(() => this.syncSender());
      this.onChange();
      return false;
    }
    if (!this.localTrack) {
      const mic = await this.acquireMic();
      if (!mic) return false;
      if (this.closed || !this.wantSend || this.localTrack) {
        mic.track.stop();
        return !!this.localTrack;
      }
      this.useTrack(mic.track);
    }
    this.run(() => this.syncSender());
    this.onChange();
    return true;
  }

  /** getUserMedia, one at a time; null (after onError) when it fails. */
  acquireMic() {
    this.acquiring ??= (async () => {
      try {
        if (!navigator.mediaDevices) throw new Error('this page is not a secure context (use HTTPS)');
        const stream = await navigator.mediaDevices.getUserMedia(MIC_CONSTRAINTS);
        const track = stream.getAudioTracks()[0];
        if (!track) throw new Error('no audio track');
        this.micError = null;
        return { stream, track };
      } catch (err) {
        this.micError = err;
        if (!this.closed) this.onError('mic', err);
        return null;
      } finally {
        this.acquiring = null;
      }
    })();
    return this.acquiring;
  }

  useTrack(track) {
    this.localTrack = track;
    track.enabled = !this.muted;
    track.addEventListener('ended', () => {
      // The device went away. Stay on stage; the user may try again.
      if (this.localTrack !== track || this.closed) return;
      this.localTrack = null;
      this.onError('mic', new Error('the microphone stopped'));
      this.run(() => this.syncSender());
      this.onChange();
    }, { once: true });
  }

  // A negotiation step: makes our transceiver match what we want (the
  // microphone and sendrecv, or nothing and recvonly), and offers if its
  // direction changed. Idempotent, so steps queued by quick changes of
  // mind simply converge on the last one.
  async syncSender() {
    if (!this.own) return;
    const track = this.wantSend ? this.localTrack : null;
    if (this.own.sender.track !== track) await this.own.sender.replaceTrack(track);
    const direction = track ? 'sendrecv' : 'recvonly';
    if (this.own.direction !== direction) {
      this.own.direction = direction;
      this.offerWanted = true;
    }
    await this.maybeOffer();
  }

  // Sends our offer when one is due and nothing is outstanding; otherwise
  // it goes after the answer in progress (see onAnswer and onOffer).
  async maybeOffer() {
    if (!this.offerWanted || this.pc.signalingState !== 'stable') return;
    this.offerWanted = false;
    await this.pc.setLocalDescription();
    this.offerId = this.send('offer', { sdp: this.pc.localDescription.sdp });
  }

  /** The server refused our offer (an error replying to it): roll it back. */
  onOfferRefused() {
    this.run(async () => {
      this.offerId = null;
      if (this.pc.signalingState === 'have-local-offer') await this.pc.setLocalDescription({ type: 'rollback' });
    });
  }

  /** A server offer: answer it, unless ours is outstanding (glare). */
  onOffer(sdp) {
    this.run(async () => {
      // On glare the server yields: it drops its offer, answers ours and
      // offers again afterwards. So we are the "impolite" peer and ignore it.
      if (this.pc.signalingState !== 'stable') return;
      await this.pc.setRemoteDescription({ type: 'offer', sdp });
      await this.flushCandidates();
      await this.pc.setLocalDescription();
      this.send('answer', { sdp: this.pc.localDescription.sdp });
      this.sweep();
      await this.maybeOffer();
    });
  }

  /** The server's answer to our offer. */
  onAnswer(sdp) {
    this.run(async () => {
      if (this.pc.signalingState !== 'have-local-offer') return; // stale: nothing of ours is outstanding
      this.offerId = null;
      await this.pc.setRemoteDescription({ type: 'answer', sdp });
      await this.flushCandidates();
      this.sweep();
      await this.maybeOffer();
    });
  }

  /** A remote candidate, in the protocol's shape. */
  onCandidate(c) {
    this.run(async () => {
      if (!this.pc.remoteDescription) this.pendingCandidates.push(c);
      else await this.addCandidate(c);
    });
  }

  /** Retries play() on every remote <audio>; call it from a user gesture. */
  async resumeAudio() {
    await Promise.all([...this.audios.values()].map((a) => a.play()));
    this.blocked = false;
    this.onChange();
  }

  /** Sums of the audio RTP stats, for tests (see app.js). */
  async stats() {
    const out = { inbound: { packetsReceived: 0, audioLevel: 0, totalAudioEnergy: 0 }, outbound: { packetsSent: 0 } };
    if (this.closed) return out;
    (await this.pc.getStats()).forEach((r) => {
      if (r.kind !== 'audio') return;
      if (r.type === 'inbound-rtp') {
        out.inbound.packetsReceived += r.packetsReceived || 0;
        out.inbound.audioLevel = Math.max(out.inbound.audioLevel, r.audioLevel || 0);
        out.inbound.totalAudioEnergy += r.totalAudioEnergy || 0;
      } else if (r.type === 'outbound-rtp') {
        out.outbound.packetsSent += r.packetsSent || 0;
      }
    });
    return out;
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    this.pc.close();
    this.localTrack?.stop();
    this.localTrack = null;
    for (const key of [...this.audios.keys()]) this.detach(key);
    this.pendingCandidates = [];
  }

  // --- internals

  run(step) {
    this.queue = this.queue.then(() => (this.closed ? undefined : step())).catch((err) => {
      if (!this.closed) this.onError('negotiation', err);
    });
  }

  async flushCandidates() {
    const list = this.pendingCandidates;
    this.pendingCandidates = [];
    for (const c of list) await this.addCandidate(c);
  }

  async addCandidate(c) {
    const init = { candidate: c.candidate || '' };
    if (c.sdp_mid != null) init.sdpMid = c.sdp_mid;
    if (c.sdp_mline_index != null) init.sdpMLineIndex = c.sdp_mline_index;
    if (c.username_fragment) init.usernameFragment = c.username_fragment;
    // The browser needs an m-line for a candidate. All m-lines are bundled on
    // one transport, so the first is right when the server names none.
    if (init.sdpMid == null && init.sdpMLineIndex == null) init.sdpMLineIndex = 0;
    try {
      await this.pc.addIceCandidate(init);
    } catch (err) {
      // A bad candidate costs one path, not the call; end-of-candidates is
      // optional and not every browser takes it in this form.
      if (init.candidate) console.warn('parley: candidate not applied', init.candidate, err);
    }
  }

  attach({ track, streams, transceiver }) {
    // Each m-line is one speaker; the server may reuse it for another, which
    // fires ontrack again for the same mid, so key by mid and refresh.
    const key = transceiver.mid ?? track.id;
    let a = this.audios.get(key);
    if (!a) {
      a = document.createElement('audio');
      a.autoplay = true;
      a.dataset.mid = key;
      this.sink.append(a);
      this.audios.set(key, a);
    }
    a.dataset.userId = streams[0]?.id || ''; // the msid is the speaker's user_id
    a.srcObject = new MediaStream([track]);
    track.addEventListener('ended', () => this.detach(key), { once: true });
    a.play().catch((err) => {
      if (err.name === 'NotAllowedError' && !this.blocked) {
        this.blocked = true;
        this.onAutoplayBlocked();
      }
    });
    this.onChange();
  }

  // After each negotiation, drop the <audio> of every m-line that no longer
  // receives: the server set it inactive or removed it (speaker left).
  sweep() {
    const receiving = new Set(
      this.pc.getTransceivers()
        .filter((t) => t.currentDirection === 'recvonly' || t.currentDirection === 'sendrecv')
        .map((t) => t.mid),
    );
    for (const key of [...this.audios.keys()]) if (!receiving.has(key)) this.detach(key);
  }

  detach(key) {
    const a = this.audios.get(key);
    if (!a) return;
    a.srcObject = null;
    a.remove();
    this.audios.delete(key);
    this.onChange();
  }
}

function candidateToWire(c) {
  // Only the fields that have values: the server decodes strictly, and a
  // null where it expects a string or a number would be an error.
  const p = { candidate: c.candidate };
  if (c.sdpMid != null) p.sdp_mid = c.sdpMid;
  if (c.sdpMLineIndex != null) p.sdp_mline_index = c.sdpMLineIndex;
  if (c.usernameFragment) p.username_fragment = c.usernameFragment;
  return p;
}
