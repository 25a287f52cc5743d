// One visit to a room: the signaling socket, the PeerConnection and the
// room's state as the server tells it (docs/protocol.md, docs/stage.md).
// The UI reads the fields below and re-renders on onUpdate.

import { Signal } from './signal.js';
import { Rtc } from './rtc.js';
import { isOnStage, handQueue, handRaised } from './stage.js';

export { isOnStage };

const MAX_RETRIES = 8;
const LEAVE_TIMEOUT_MS = 1500;
const ACTION_TIMEOUT_MS = 10000;
// How long an optimistic change of our own (mute, hand) waits for the
// server's event before the server's record wins again. Audience events
// come in batches about once a second.
const PENDING_MS = 5000;

// Join errors after which trying again cannot help.
const JOIN_FATAL = {
  room_not_found: 'That room does not exist, or is not open to you.',
  room_ended: 'This room has ended.',
  blocked: "You were removed from this room and can't rejoin it.",
  // A guest's pass is for another room, or the server stopped allowing guests.
  forbidden: "You can't join this room.",
  // Too many rooms joined too fast: the message says when to try again.
  rate_limited: 'You joined too many rooms too fast. Try again in a few minutes.',
};

// Room events that carry seq (docs/protocol.md, "Ordering").
const ROOM_EVENTS = new Set(['participant_joined', 'participant_updated', 'participant_left', 'room_updated', 'room_ended']);

// Friendlier words for the errors a stage action can get; the server's
// message is used for anything else.
const ACTION_ERRORS = {
  forbidden: 'You are not allowed to do that.',
  not_in_room: 'They are no longer in the room.',
  stage_full: 'The stage is full.',
  hands_disabled: 'Hand-raising is turned off.',
  not_invited: 'The invitation is no longer open.',
  already_on_stage: 'They are already on stage.',
  not_on_stage: 'That needs someone on stage.',
  room_ended: 'The room has ended.',
  rate_limited: 'Too fast. Try again in a moment.',
  chat_disabled: 'Chat is turned off.',
  message_not_found: 'That message is gone.',
  not_connected: 'Not connected to the room right now.',
  timeout: 'The server did not answer in time.',
};

const ACTION_VERBS = {
  raise_hand: 'raise your hand', lower_hand: 'lower your hand',
  accept_invite: 'accept the invitation', decline_invite: 'decline the invitation',
  invite: 'invite them', move_to_audience: 'move them to the audience', make_moderator: 'make them a moderator',
  remove: 'remove them', mute: 'mute', unmute: 'unmute', mute_all: 'mute everyone',
  set_hands: 'change hand-raising', step_down: 'step down', end_room: 'end the room',
  chat_send: 'send the message', chat_delete: 'delete the message', set_chat: 'change the chat',
};

/** A refused or failed action: code is the protocol's error code, or a local one. */
export class ActionError extends Error {
  constructor(code, message) {
    super(message || code);
    this.code = code;
  }
}

export class RoomSession {
  /**
   * hooks: onUpdate(), onStatus(text), onError(code, message) for every
   * signaling error and local failure ('microphone', 'negotiation'),
   * onNotice(text) for short news (someone invited you, muted you…),
   * onEnd({reason, message}) when the visit is over for good,
   * onAuthFailed(code) when the token is refused,
   * onAutoplayBlocked() when audio needs a tap to start.
   *
   * makeRtc and makeSignal are for tests.
   */
  constructor({ roomId, token, sink, hooks, makeRtc = (o) => new Rtc(o), makeSignal = (t, o) => new Signal(t, o) }) {
    Object.assign(this, { roomId, token, sink, hooks, makeRtc, makeSignal });
    this.room = null;
    this.self = null;
    this.participants = new Map(); // user_id -> participant, in join order
    this.speaking = new Set(); // user_ids
    this.handsEnabled = true;
    this.stageCap = 0; // 0: not told
    this.seq = 0;
    this.signal = null;
    this.rtc = null;
    this.phase = 'idle'; // connecting | joining | joined | resyncing | waiting (to retry) | leaving | done
    this.retries = 0;
    this.retryTimer = 0;
    this.pingTimer = 0;
    this.resyncTimer = 0;
    this.actions = new Map(); // message id -> {type, resolve, reject, timer}
    // Our own changes shown before the server confirms them: muted, hand.
    this.pending = { muted: null, hand: null };
    this.pendingTimers = { muted: 0, hand: 0 };
    this.mutedBy = ''; // who muted us, when a moderator did
    this.invitedBy = ''; // who invited us to speak
    this.endedByUs = false;
    this.updateQueued = false;
  }

  get pcState() { return this.rtc ? this.rtc.state : 'new'; }
  get onStage() { return isOnStage(this.self); }
  get isModerator() { return this.self?.role === 'moderator'; }
  /** We listen as a guest (a gst_ ID): we can only listen. */
  get isGuest() { return !!this.self && this.self.user_id.startsWith('gst_'); }
  get isCreator() { return !!this.self && this.self.user_id === this.room?.created_by?.id; }
  /** Our microphone is off: muted by us or a moderator (always false off stage). */
  get muted() {
    if (!this.onStage) return false;
    return this.pending.muted ?? !!this.self.muted;
  }
  /** Our hand is up, as far as we know (optimistic while the server confirms). */
  get handUp() {
    if (this.onStage) return false;
    return this.pending.hand ?? handRaised(this.self);
  }
  get invited() { return !!this.self?.invited && !this.onStage; }
  get hasMic() { return !!this.rtc?.hasMic; }
  /** Raised hands, in queue order. */
  get hands() { return handQueue(this.participants.values()); }
  get stageCount() {
    let n = 0;
    for (const p of this.participants.values()) if (isOnStage(p)) n++;
    return n;
  }
  get stageFull() { return this.stageCap > 0 && this.stageCount >= this.stageCap; }

  start() { this.connect(); }

  /** Leaves politely (leave, wait for left) and closes everything. */
  async leave() {
    if (this.phase === 'done') return;
    const wasJoined = this.phase === 'joined' && this.signal?.open;
    this.phase = 'leaving';
    clearTimeout(this.retryTimer);
    this.closeRtc(); // silence at once; the socket can take a moment more
    if (wasJoined) {
      await new Promise((resolve) => {
        this.onLeft = resolve;
        setTimeout(resolve, LEAVE_TIMEOUT_MS);
        this.signal.send('leave');
      });
    }
    this.finish();
  }

  /**
   * Sends a stage action (docs/protocol.md, "The stage"). Resolves with the
   * ok payload; rejects with an ActionError carrying the error code. Every
   * failure is also reported through onError, so the page shows it.
   */
  act(type, payload = {}) {
    return new Promise((resolve, reject) => {
      // room_ended then says "You ended the room."
      if (type === 'end_room') this.endedByUs = true;
      const fail = (code, message, quiet = false) => {
        if (type === 'end_room') this.endedByUs = false;
        const friendly = ACTION_ERRORS[code] || message || code;
        if (!quiet) this.hooks.onError(code, `Could not ${ACTION_VERBS[type] || type}: ${friendly}`);
        reject(new ActionError(code, message || friendly));
      };
      const id = (this.phase === 'joined' || this.phase === 'resyncing') && this.signal?.open
        ? this.signal.send(type, payload) : null;
      if (!id) return fail('not_connected');
      const timer = setTimeout(() => {
        this.actions.delete(id);
        fail('timeout');
      }, ACTION_TIMEOUT_MS);
      this.actions.set(id, { type, resolve, fail, timer });
    });
  }

  /** Mutes or unmutes us, on the server (only we can unmute ourselves). */
  async setMuted(muted) {
    if (!this.onStage) return;
    if (!muted && !this.hasMic) {
      // No microphone (denied, or gone): ask again before unmuting.
      if (!(await this.rtc?.retryMic())) return;
    }
    this.setPending('muted', muted);
    try {
      await this.act(muted ? 'mute' : 'unmute');
      if (!!this.self?.muted === muted) this.setPending('muted', null);
    } catch {
      this.setPending('muted', null);
    }
  }

  async toggleHand() {
    const up = !this.handUp;
    this.setPending('hand', up);
    try {
      await this.act(up ? 'raise_hand' : 'lower_hand');
      if (handRaised(this.self) === up) this.setPending('hand', null);
    } catch {
      this.setPending('hand', null);
    }
  }

  /** Ends the room for everyone (moderators). */
  endRoom() {
    return this.act('end_room');
  }

  /** The PeerConnection's audio stats, or null without one. */
  stats() {
    return this.rtc ? this.rtc.stats() : Promise.resolve(null);
  }

  /** A participant's display name, for notices. */
  nameOf(userId, fallback = 'Someone') {
    if (userId && userId === this.self?.user_id) return 'You';
    return this.participants.get(userId)?.display_name || fallback;
  }

  // --- connection lifecycle

  /**
   * Opens signaling: on this page's own server, or, after a redirect of a
   * cluster (docs/protocol.md, "Clusters"), on the node it named, whose
   * ticket goes with the join.
   */
  connect(url = null, ticket = null) {
    this.phase = 'connecting';
    this.goodbye = null;
    this.ticket = ticket;
    this.hooks.onStatus(this.retries ? 'Reconnecting…' : 'Connecting…');
    // token may be a function, asked on every (re)connect for a fresh one.
    const token = typeof this.token === 'function' ? this.token() : this.token;
    const opts = {
      onMessage: (m) => this.handle(m),
      onClose: (ev) => this.onSocketClosed(ev),
    };
    if (url) opts.url = url;
    this.signal = this.makeSignal(token, opts);
  }

  /**
   * Follows a redirect: another node serves the room (in reply to our
   * join), or this one is draining. Our place in the room waits for us
   * through the reconnection, role and hand included.
   */
  follow(p) {
    if (typeof p.url !== 'string' || !/^wss?:\/\//.test(p.url)) return;
    this.signal?.close(1000);
    clearInterval(this.pingTimer);
    this.closeRtc();
    this.failActions('not_connected');
    this.connect(p.url, typeof p.ticket === 'string' ? p.ticket : null);
  }

  onSocketClosed(ev) {
    clearInterval(this.pingTimer);
    this.closeRtc();
    this.failActions('not_connected');
    // Nobody is speaking as far as we can know; the next joined says who is.
    this.speaking.clear();
    this.changed();
    if (this.phase === 'leaving' || this.phase === 'done') return this.finish();
    if (ev.code === 4401) {
      this.finish();
      return this.hooks.onAuthFailed('unauthorized');
    }
    if (ev.code === 4409 || this.goodbye === 'replaced') {
      return this.end('replaced', 'You joined this room from another window, so this one left.');
    }
    // server_shutdown (1001), slow_consumer (4429), a dropped network:
    // all worth another try after a pause.
    this.retry(this.goodbye === 'server_shutdown' ? 'The server is restarting.' : 'Connection lost.');
  }

  retry(why) {
    if (this.retries >= MAX_RETRIES) return this.end('connection_lost', why + ' Could not reconnect.');
    // 0.5 s, 1 s, 2 s … capped at 10 s, with jitter so a restarted server
    // is not hit by everyone at once.
    const delay = Math.min(10000, 500 * 2 ** this.retries) * (0.75 + Math.random() / 2);
    this.retries++;
    this.phase = 'waiting';
    this.hooks.onStatus(`${why} Reconnecting in ${Math.ceil(delay / 1000)} s…`);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  /** Tears the socket and the PC down and connects again after the backoff. */
  reconnect(why) {
    this.signal?.close(1000);
    clearInterval(this.pingTimer);
    this.closeRtc();
    this.failActions('not_connected');
    this.retry(why);
  }

  end(reason, message) {
    this.finish();
    this.hooks.onEnd({ reason, message });
  }

  finish() {
    this.phase = 'done';
    clearTimeout(this.retryTimer);
    clearTimeout(this.resyncTimer);
    clearInterval(this.pingTimer);
    for (const k of Object.keys(this.pendingTimers)) clearTimeout(this.pendingTimers[k]);
    this.closeRtc();
    this.signal?.close(1000);
    this.failActions('not_connected', true);
  }

  closeRtc() {
    this.rtc?.close();
    this.rtc = null;
  }

  // Rejects the actions still waiting for an answer; quietly when we are
  // leaving anyway.
  failActions(code, quiet = false) {
    const list = [...this.actions.values()];
    this.actions.clear();
    for (const a of list) {
      clearTimeout(a.timer);
      a.fail(code, '', quiet);
    }
  }

  /** Re-renders once for everything handled in this turn (a batch of events, say). */
  changed() {
    if (this.updateQueued) return;
    this.updateQueued = true;
    queueMicrotask(() => {
      this.updateQueued = false;
      if (this.phase !== 'done') this.hooks.onUpdate();
    });
  }

  notice(text) {
    this.hooks.onNotice?.(text);
  }

  // --- messages

  handle(m) {
    if (this.phase === 'done') return;
    const p = m.payload || {};
    switch (m.type) {
      case 'welcome': {
        const every = p.ping_interval_ms > 0 ? p.ping_interval_ms : 20000;
        clearInterval(this.pingTimer);
        // The browser answers the server's WebSocket pings by itself; this
        // application-level ping also tells us the socket still works.
        this.pingTimer = setInterval(() => this.signal.send('ping'), every);
        this.sendJoin();
        break;
      }
      case 'joined': return this.onJoined(m, p);
      case 'events':
        // A batch of audience events, each a whole message with its own
        // seq, applied in order with the same checks. A gap (resync), or
        // our own removal, stops the rest.
        for (const inner of Array.isArray(p.events) ? p.events : []) {
          if (this.phase !== 'joined') break;
          if (inner && (ROOM_EVENTS.has(inner.type) || inner.type === 'speaking')) this.handle(inner);
        }
        break;
      case 'participant_joined':
        if (this.inSeq(m.seq) && p.participant) {
          this.participants.set(p.participant.user_id, p.participant);
          this.changed();
        }
        break;
      case 'participant_updated':
        if (this.inSeq(m.seq)) this.onUpdated(p);
        break;
      case 'participant_left':
        if (this.inSeq(m.seq)) this.onParticipantLeft(p);
        break;
      case 'room_updated':
        if (this.inSeq(m.seq)) this.onRoomUpdated(p);
        break;
      case 'speaking':
        if (p.speaking) this.speaking.add(p.user_id);
        else this.speaking.delete(p.user_id);
        this.changed();
        break;
      case 'room_ended':
        // Whatever the seq: the room is over either way.
        if (this.endedByUs) return this.end('room_ended', 'You ended the room.');
        return this.end('room_ended',
          p.reason === 'empty_stage' ? 'The room ended: no one was on stage.'
            : p.reason === 'ended_by_host' ? 'The host ended the room.' : 'The room has ended.');
      case 'ok': {
        const a = this.actions.get(m.reply_to);
        if (a) {
          this.actions.delete(m.reply_to);
          clearTimeout(a.timer);
          a.resolve(p);
        }
        break;
      }
      case 'offer':
        this.rtc?.onOffer(p.sdp);
        break;
      case 'answer':
        this.rtc?.onAnswer(p.sdp);
        break;
      case 'candidate':
        this.rtc?.onCandidate(p);
        break;
      case 'left':
        this.onLeft?.();
        break;
      case 'error': return this.onErrorMessage(m, p);
      case 'goodbye':
        // The close follows; onSocketClosed decides what to do.
        this.goodbye = p.reason;
        break;
      case 'redirect':
        if (this.phase === 'leaving') break;
        return this.follow(p);
      case 'pong':
        break;
      case 'chat_message':
      case 'chat_deleted':
      case 'chat_settings':
        // Chat has its own order (the message's seq), not the room's;
        // chat.js keeps it.
        if (this.phase === 'joined' || this.phase === 'resyncing') this.hooks.onChat?.(m.type, p);
        break;
      default:
        console.debug('parley: ignored message', m.type);
    }
  }

  sendJoin() {
    this.phase = 'joining';
    this.hooks.onStatus('Joining…');
    const payload = { room_id: this.roomId };
    if (this.ticket) payload.ticket = this.ticket;
    this.joinId = this.signal.send('join', payload);
  }

  onJoined(m, p) {
    // A resync (join of the room we are in) refreshes the snapshot only;
    // the server left our media alone, so ours stays too.
    const resync = this.phase === 'resyncing' && !!this.rtc;
    clearTimeout(this.resyncTimer);
    this.phase = 'joined';
    this.room = p.room;
    const prev = this.self;
    this.self = p.self;
    this.seq = typeof m.seq === 'number' ? m.seq : 0;
    if (typeof p.hands_enabled === 'boolean') this.handsEnabled = p.hands_enabled;
    if (typeof p.stage_cap === 'number') this.stageCap = p.stage_cap;
    this.participants = new Map();
    for (const x of p.participants || []) this.participants.set(x.user_id, x);
    // The snapshot may or may not list us; make sure it does.
    if (p.self) this.participants.set(p.self.user_id, p.self);
    this.speaking = new Set(p.speaking || []);
    this.hooks.onChat?.('joined', { chat_enabled: p.chat_enabled !== false, resync });
    if (!this.self?.muted) this.mutedBy = '';
    if (!this.self?.invited) this.invitedBy = '';
    this.settlePending();
    if (resync) {
      this.hooks.onStatus(this.rtc.state === 'connected' ? 'Connected' : 'Connecting audio…');
      if (isOnStage(prev) !== this.onStage) this.onStageChanged();
      this.syncMedia();
      this.changed();
      return;
    }
    // A fresh join: nothing of ours is in flight any more.
    this.setPending('muted', null);
    this.setPending('hand', null);
    this.hooks.onStatus('Connecting audio…');
    this.changed();
    this.startRtc();
  }

  onUpdated(p) {
    const next = p.participant;
    if (!next) return;
    const prev = this.participants.get(next.user_id);
    this.participants.set(next.user_id, next);
    if (next.user_id === this.self?.user_id) this.onSelfUpdated(this.self, next, p.cause, p.by);
    else if (this.isModerator && p.cause === 'invite_declined') {
      this.notice(`${next.display_name} declined the invitation to speak.`);
    } else if (this.isModerator && p.cause === 'invite_accepted' && prev?.invited) {
      this.notice(`${next.display_name} is on stage now.`);
    }
    this.changed();
  }

  onSelfUpdated(prev, next, cause, by) {
    this.self = next;
    const byOther = by && by !== next.user_id;
    const who = this.nameOf(by, 'A moderator');
    if (next.muted && cause === 'muted' && byOther) this.mutedBy = who;
    if (!next.muted) this.mutedBy = '';
    if (next.invited && cause === 'invited') this.invitedBy = byOther ? who : '';
    if (!next.invited) this.invitedBy = '';
    switch (cause) {
      case 'invited': this.notice(byOther ? `${who} invited you to speak.` : 'You are invited to speak.'); break;
      case 'moved_to_audience': if (byOther) this.notice(`${who} moved you to the audience.`); break;
      case 'made_moderator': this.notice(byOther ? `${who} made you a moderator.` : 'You are a moderator now.'); break;
      case 'succession': this.notice('You are a moderator now.'); break;
      case 'muted': if (byOther) this.notice(`${who} muted you.`); break;
      default:
    }
    this.settlePending();
    if (isOnStage(prev) !== isOnStage(next)) this.onStageChanged();
    this.syncMedia();
  }

  onStageChanged() {
    // Whatever we had pending belonged to the old place.
    this.setPending('muted', null);
    this.setPending('hand', null);
    if (!this.onStage) this.mutedBy = '';
  }

  onParticipantLeft(p) {
    if (p.user_id === this.self?.user_id && p.reason === 'moved') {
      // We joined another room, elsewhere: a member is in one at a time.
      return this.end('moved', 'You joined another room, so you left this one.');
    }
    if (p.user_id === this.self?.user_id) {
      if (p.reason === 'removed') {
        return this.end(p.blocked ? 'blocked' : 'removed', p.blocked
          ? "A moderator removed you from the room and you can't rejoin it."
          : 'A moderator removed you from the room.');
      }
      // Our place ran out while we thought we were here: join afresh.
      return this.reconnect('You were disconnected from the room.');
    }
    this.participants.delete(p.user_id);
    this.speaking.delete(p.user_id);
    this.changed();
  }

  onRoomUpdated(p) {
    if (typeof p.hands_enabled !== 'boolean' || p.hands_enabled === this.handsEnabled) return;
    this.handsEnabled = p.hands_enabled;
    // News for the audience; moderators flipped the switch, or see it.
    if (!this.onStage) this.notice(p.hands_enabled ? 'Hand-raising is on.' : 'Hand-raising is turned off.');
    if (!p.hands_enabled) this.setPending('hand', null);
    this.changed();
  }

  // --- our own media

  startRtc() {
    this.closeRtc();
    let lastState = 'new';
    const rtc = this.makeRtc({
      send: (type, payload) => this.signal.send(type, payload),
      sink: this.sink,
      onAutoplayBlocked: () => this.hooks.onAutoplayBlocked(),
      onError: (kind, err) => {
        if (rtc !== this.rtc) return;
        if (kind === 'mic') this.onMicFailed(err);
        else this.hooks.onError('negotiation', 'Audio setup failed: ' + err.message);
      },
      onChange: () => {
        if (rtc !== this.rtc) return;
        const s = rtc.state;
        if (s !== lastState) {
          lastState = s;
          if (s === 'connected') {
            this.retries = 0; // only a working call resets the backoff
            this.hooks.onStatus('Connected');
          } else if (s === 'failed') {
            return this.reconnect('Audio connection lost.');
          } else if (s === 'disconnected') {
            this.hooks.onStatus('Audio interrupted…');
          }
        }
        this.changed();
      },
    });
    this.rtc = rtc;
    rtc.setMuted(this.muted);
    rtc.start(this.onStage).then(
      () => {
        if (rtc !== this.rtc) return;
        this.syncMedia();
        this.changed(); // the mic is there now
      },
      (err) => rtc === this.rtc && this.hooks.onError('negotiation', 'Audio setup failed: ' + err.message),
    );
  }

  /** Tells the PeerConnection what our record says: on stage or not, muted or not. */
  syncMedia() {
    if (!this.rtc) return;
    this.rtc.setMuted(this.muted);
    this.rtc.setSending(this.onStage);
  }

  // On stage without a microphone: stay there, muted on the server so
  // everyone sees it, and say so.
  onMicFailed(err) {
    if (!this.onStage) return;
    this.hooks.onError('microphone', `Microphone unavailable (${err.message}). You are on stage, muted.`);
    if (!this.self.muted) {
      this.setPending('muted', true);
      this.act('mute').catch(() => this.setPending('muted', null));
    }
  }

  // --- optimistic changes of our own

  setPending(key, value) {
    clearTimeout(this.pendingTimers[key]);
    this.pending[key] = value;
    if (value !== null) {
      this.pendingTimers[key] = setTimeout(() => {
        this.pending[key] = null;
        this.syncMedia();
        this.changed();
      }, PENDING_MS);
    }
    this.syncMedia();
    this.changed();
  }

  // Drops a pending change once the server's record agrees with it.
  settlePending() {
    if (this.pending.muted !== null && this.pending.muted === !!this.self?.muted) this.setPending('muted', null);
    if (this.pending.hand !== null && this.pending.hand === handRaised(this.self)) this.setPending('hand', null);
  }

  /**
   * Checks an event's seq against ours. Returns true to apply it. A stale
   * event (already in our snapshot) is skipped; a gap means we missed one,
   * so we re-join for a fresh snapshot.
   */
  inSeq(seq) {
    if (this.phase !== 'joined') return false;
    if (typeof seq !== 'number') return true;
    if (seq <= this.seq) return false;
    if (seq !== this.seq + 1) {
      this.resync();
      return false;
    }
    this.seq = seq;
    return true;
  }

  // A resync: `join` of the room we are in returns a fresh snapshot and
  // leaves media alone (docs/protocol.md, Ordering), so audio keeps playing.
  resync() {
    this.phase = 'resyncing';
    this.hooks.onStatus('Catching up…');
    this.joinId = this.signal.send('join', { room_id: this.roomId });
    // Should `joined` never come, a new connection gives a fresh snapshot too.
    clearTimeout(this.resyncTimer);
    this.resyncTimer = setTimeout(() => this.phase === 'resyncing' && this.reconnect('Could not catch up.'), 5000);
  }

  onErrorMessage(m, p) {
    const code = p.code || 'unknown';
    const action = m.reply_to ? this.actions.get(m.reply_to) : null;
    if (action) {
      // The action's own error: reported once, by its fail().
      this.actions.delete(m.reply_to);
      clearTimeout(action.timer);
      return action.fail(code, p.message);
    }
    this.hooks.onError(code, p.message || code);
    if (code === 'unauthorized' || code === 'token_expired') {
      this.finish();
      return this.hooks.onAuthFailed(code);
    }
    if (m.reply_to && this.rtc && m.reply_to === this.rtc.offerId) {
      this.rtc.onOfferRefused();
      return;
    }
    if (m.reply_to && m.reply_to === this.joinId && (this.phase === 'joining' || this.phase === 'resyncing')) {
      // A resync refused with not_joined means we are no longer in the
      // room (removed, or the room ended); its event says which, but
      // should it not come, a fresh connection finds out.
      if (code in JOIN_FATAL) this.end(code, JOIN_FATAL[code]);
      else this.reconnect(`Could not join (${code}).`);
    }
  }
}
