// Parley's browser client: sign in, the room list, and a room.
//
// Views: sign-in, the list of live rooms ("/"), a room ("/rooms/{id}"), and
// the account pages of auth.js (sign-up, invites, the admin's waitlist).
// Modules: api.js (REST), auth*.js (accounts), signal.js (WebSocket), rtc.js (PeerConnection),
// room.js (one visit to a room), stage.js (the stage's rules: queue, order,
// which actions to offer), menus.js (the moderators' tile menus and the
// removal's confirm dialog), ui.js (DOM helpers).
//
// ---- Hooks for automated browser tests (keep them stable) ----
//
// window.__parley, read-only, always current:
//   state         'signin' | 'signup' | 'list' | 'room' | 'invites' | 'waitlist' |
//                 'profile' | 'people' | 'deleted' (after deleting your account)
//   self          our participant record in the room, as the server last sent
//                 it ({user_id, display_name, role, joined_at, muted, invited,
//                 hand_raised_seq}), or null
//   participants  array of participants in the room (us included), [] outside one
//   speaking      array of user_ids speaking now (from `speaking` events)
//   pcState       RTCPeerConnection.connectionState, 'new' when there is none
//   errors        array of error codes seen so far on this page: signaling `error`
//                 codes (action refusals included), REST error codes (and
//                 'network'), the local 'microphone' / 'negotiation' failures,
//                 and 'not_connected' / 'timeout' for actions that got no answer
//   member        the signed-in member ({id, display_name, created_at}, and for an
//                 account also username, status, admin) or null
//   room          the room as `joined` sent it, or null
//   muted         whether our microphone track is disabled: on stage and muted
//                 (by us, at once, or by a moderator); false off stage
//   stats()       Promise of {inbound: {packetsReceived, audioLevel, totalAudioEnergy},
//                 outbound: {packetsSent}}: audio inbound-rtp/outbound-rtp from
//                 pc.getStats(), packets and energy summed, audioLevel the max
//                 over streams; all 0 without a PeerConnection.
//   hands         array of user_ids with a raised hand, in queue order
//                 (hand_raised_seq, lowest first); [] outside a room
//   handsEnabled  whether hand-raising is on in the room (false outside one)
//   invited       whether we hold an invitation to speak
//   notices       array of the short notices shown so far ("Ann invited you
//                 to speak.", "Ann muted you.", …)
//   act(type, payload)  sends a stage action (docs/protocol.md, "The stage"),
//                 e.g. act('invite', {user_id}), act('set_hands', {enabled: false});
//                 a Promise resolving to true on `ok`, rejecting with the error
//                 code (a string: 'forbidden', 'stage_full', … or the local
//                 'not_connected' / 'timeout'). Refusals also show a notice.
//   chat          {enabled, messages: [{id, seq, author (user_id or null), body}]}:
//                 the room's chat as the panel holds it, in seq order (chat.js)
//   events        [{id, title, rsvped, rsvp_count}]: the upcoming events listed (events.js)
//
// Element ids (each also has the same data-testid):
//   signin-name, signin-button (the development sign-in), signout, whoami;
//   the account pages' ids are listed in auth.js
//   create-title, create-description, create-room
//   room-list; each room is li[data-testid=room-item][data-room-id], with a
//     button[data-testid=join-room][data-room-id] (its title is a link too)
//   list-notice: why we left the last room (removed, room ended), on the list
//   leave-room, copy-link, tap-to-listen, room-status
//   end-room (moderators, and the creator), step-down (on stage)
//   mute-toggle (on stage; aria-pressed="true" and data-muted="true" when
//     muted; without a microphone, unmuting asks for it again), mute-note
//     ("Muted by Ann", or that the microphone is missing)
//   raise-hand (in the audience; aria-pressed="true" while the hand is up;
//     disabled while hand-raising is off and the hand is down), hand-note
//     (place in the queue, or that hands are off)
//   invite-prompt, with accept-invite and decline-invite (when invited)
//   mod-panel (moderators): hands-toggle (aria-pressed="true" while hands
//     are on), mute-all, stage-note (the stage is full), hand-queue: an
//     ol of li[data-testid=hand-item][data-user-id] in queue order, each
//     with button[data-testid=invite]
//   stage, audience: lists of li[data-testid=participant] with data-user-id,
//     data-role, and "true"|"false" in data-speaking, data-muted, data-hand,
//     data-invited. Stage: moderators first, then speakers; audience in
//     join order. For moderators, a tile they may act on has
//     button[data-testid=participant-menu] (aria-expanded) opening
//     [data-testid=participant-actions], whose buttons carry data-action and
//     data-testid: invite, move-to-audience, make-moderator,
//     mute-participant, remove, remove-block (only the allowed ones are
//     shown; the buttons exist, hidden, on every tile). remove and
//     remove-block open confirm-dialog: confirm-ok / confirm-cancel.
//   #audio-sink holds one <audio data-mid data-user-id> per remote track
//   chat-panel: chat-log, an ol of li[data-testid=chat-message][data-message-id]
//     [data-seq][data-author], each with button[data-testid=chat-delete]
//     (shown on our own messages, and on all for moderators); chat-input,
//     chat-send, chat-older (loads older messages), chat-note (chat is off),
//     chat-toggle (moderators; aria-pressed="true" while chat is on)
//   list view: event-list of li[data-testid=event-item][data-event-id], each
//     with event-rsvp (aria-pressed when going), event-start (hosts and
//     co-hosts), event-cancel (the host); event-form: event-title,
//     event-description, event-starts-at, event-cohosts, event-create,
//     event-error; my-member-id
//
// Profiles, people and guests (profile.js, social.js; ids as listed there):
//   state 'profile' (/me, /members/{id}) and 'people' (/members), reached
//   by the top bar's profile-link and people-link; create-visibility (open,
//   social, closed) on the create form; copy-guest-link in an open room;
//   /listen/{room id} joins as a guest when not signed in (self.user_id
//   starts gst_, member is null), with guest-note shown and no hand.
//
// Your data (mydata.js; ids as listed there): data-card on your own
//   profile, to download the export and delete the account; lastExport
//   is {name, size} of the last archive downloaded, or null.
//
// URL parameters (consumed, then removed from the address bar):
//   ?name=Ann                 sign in as Ann (a new member, unless this tab is
//                             already signed in as Ann)
//   /rooms/{id}?name=Bob      sign in as Bob, then join room {id}
//   ?name=Ann&create=Title    sign in, create a room called Title (optionally
//                             &description=...) and join it
// -------------------------------------------------------------

import { auth, createApi } from './api.js';
import { createAccounts } from './auth.js';
import { RoomSession } from './room.js';
import { isOnStage, handRaised, stageOrder, audienceOf, actionsOn, ACTION_UI, ordinal } from './stage.js';
import { $, h, reconcile, toast, initials, setText, showView } from './ui.js';
import { createChat } from './chat.js';
import { createEvents } from './events.js';
import { createProfiles } from './profile.js';
import { createMyData } from './mydata.js';
import { createAccess } from './invitees.js';
import { createTileMenus } from './menus.js';
import { guestPathRoom, guestLink, guestRefusal, memberPath, visibilityLabel } from './social.js';

const LIST_REFRESH_MS = 5000;
const ZERO_STATS = () => ({ inbound: { packetsReceived: 0, audioLevel: 0, totalAudioEnergy: 0 }, outbound: { packetsSent: 0 } });

const app = {
  view: 'signin',
  session: null, // the RoomSession while in a room
  errors: [],
  listGen: 0, // bumps to cancel the room list's refresh loop
  notice: '', // shown on the sign-in form, e.g. why you were signed out
  notices: [], // the room's notices shown so far (test hook)
  guestGen: 0, // bumps to drop a guest pass that came too late
};

const api = createApi({
  onError: (err) => app.errors.push(err.code),
  onUnauthorized: (code) => toSignIn({
    token_expired: 'Your session expired. Please sign in again.',
    session_revoked: 'You were signed out. Please sign in again.',
  }[code] || 'Please sign in again.'),
});

const accounts = createAccounts({
  api, setView, navigate, route, view: () => app.view,
  signedOut: (message) => toSignIn(message),
});

// The room's chat and the list's events, each in its own module.
const chat = createChat({
  api,
  onError: (code, message) => { app.errors.push(code); toast(message, 'error'); },
  onNotice: (text) => { app.notices.push(text); toast(text); },
});
const events = createEvents({ api, me: () => auth.get()?.member ?? null, navigate: (p) => navigate(p), toast });
const profiles = createProfiles({ api, me: () => auth.get()?.member ?? null, navigate: (p) => navigate(p) });
const mydata = createMyData({ api, auth, onDeleted: accountDeleted });
const access = createAccess({ api, session: () => app.session });
const menus = createTileMenus({ session: () => app.session });

window.__parley = {
  get state() { return app.view; },
  get self() { return app.session?.self ?? null; },
  get participants() { return app.session ? [...app.session.participants.values()] : []; },
  get speaking() { return app.session ? [...app.session.speaking] : []; },
  get pcState() { return app.session?.pcState ?? 'new'; },
  get errors() { return app.errors.slice(); },
  get member() { return auth.get()?.member ?? null; },
  get room() { return app.session?.room ?? null; },
  get muted() { return app.session?.muted ?? false; },
  async stats() { return (await app.session?.stats()) ?? ZERO_STATS(); },
  get hands() { return app.session ? app.session.hands.map((p) => p.user_id) : []; },
  get handsEnabled() { return app.session?.handsEnabled ?? false; },
  get invited() { return app.session?.invited ?? false; },
  get notices() { return app.notices.slice(); },
  get chat() { return chat.state(); },
  get events() { return events.state(); },
  get lastExport() { return mydata.lastExport; },
  act(type, payload = {}) {
    if (!app.session) return Promise.reject('not_connected');
    return app.session.act(type, payload).then(() => true, (err) => Promise.reject(err.code));
  },
};

// ---- routing

function roomIdFromPath() {
  const m = location.pathname.match(/^\/rooms\/([^/]+)\/?$/);
  return m ? decodeURIComponent(m[1]) : null;
}

function navigate(path) {
  if (location.pathname !== path) history.pushState(null, '', path);
  route();
}

function route() {
  const s = auth.get();
  $('who').hidden = !s;
  setText('whoami', s ? s.member.display_name : '');
  accounts.updateNav(s);
  // A guest link: members join as themselves, others listen as guests.
  const guestRoom = guestPathRoom(location.pathname);
  if (guestRoom && s) history.replaceState(null, '', '/rooms/' + encodeURIComponent(guestRoom));
  const roomId = roomIdFromPath() ?? (s ? null : guestRoom);
  if (app.session && (app.session.roomId !== roomId || (!s && !app.session.isGuest))) leaveRoom();
  if (guestRoom && !s) return showGuestRoom(guestRoom);
  if (!s) return accounts.routeSignedOut(location.pathname) || showSignIn();
  if (roomId) return showRoom(roomId);
  if (accounts.routeSignedIn(location.pathname)) return;
  const member = memberPath(location.pathname);
  if (member) {
    setView('profile', false);
    const id = member === 'me' ? s.member.id : member;
    mydata.show(id === s.member.id);
    return profiles.show(id);
  }
  if (location.pathname === '/members') {
    setView('people', false);
    return profiles.showPeople();
  }
  if (location.pathname !== '/') history.replaceState(null, '', '/');
  showList();
}

function setView(name, focus = true) {
  app.view = name;
  if (name !== 'list') app.listGen++;
  showView(name, focus);
}

// ---- sign in

function showSignIn() {
  setView('signin');
  document.title = 'Sign in · Parley';
  formError('signin-error', app.notice);
  app.notice = '';
}

/** Back to the sign-in form (keeping the URL, so a deep link still works after). */
function toSignIn(message) {
  auth.clear();
  app.notice = message;
  route();
}

async function onSignIn(e) {
  e.preventDefault();
  const name = $('signin-name').value.trim();
  if (!name) return formError('signin-error', 'Enter a name.');
  await busy('signin-button', async () => {
    try {
      await api.signIn(name);
      formError('signin-error', '');
      route();
    } catch (err) {
      formError('signin-error', err.message);
    }
  });
}

async function onSignOut() {
  // The session ends on the server too; whatever it answers, it ends here.
  await api.signOut().catch(() => {});
  history.pushState(null, '', '/');
  route();
}

/** The account is deleted: forget the session here and say so. */
function accountDeleted(pending) {
  if (app.session) leaveRoom();
  setText('deleted-note', 'You are signed out everywhere, and your personal data ' +
    (pending ? 'is being erased: the server finishes it within minutes. ' : 'is erased. ') +
    'Thank you for having been part of the conversation.');
  auth.clear();
  history.pushState(null, '', '/');
  $('who').hidden = true;
  accounts.updateNav(null);
  setView('deleted');
  document.title = 'Account deleted · Parley';
}

// ---- room list

function showList() {
  setView('list');
  document.title = 'Parley';
  refreshRooms(++app.listGen);
  events.refresh();
}

async function refreshRooms(gen) {
  if (gen !== app.listGen) return;
  if (!document.hidden) {
    try {
      const data = await api.listRooms();
      if (gen !== app.listGen) return;
      renderRooms(data.rooms || [], !!data.next_cursor);
    } catch (err) {
      if (gen !== app.listGen || err.status === 401) return;
      setText('list-status', 'Could not load the rooms: ' + err.message);
    }
  }
  setTimeout(() => refreshRooms(gen), LIST_REFRESH_MS);
}

function renderRooms(rooms, more) {
  setText('list-status', more ? `Showing the ${rooms.length} newest rooms.` : '');
  $('rooms-empty').hidden = rooms.length > 0;
  reconcile($('room-list'), rooms, (r) => r.id, roomItem, updateRoomItem);
}

function roomItem(r) {
  return h('li', { class: 'room card', dataset: { testid: 'room-item', roomId: r.id } },
    h('div', { class: 'room-main' },
      h('h2', { class: 'room-name' }, h('a', { href: '/rooms/' + encodeURIComponent(r.id), 'data-nav': true })),
      h('p', { class: 'muted room-host' }),
      h('p', { class: 'room-about' }),
      h('p', { class: 'room-counts' })),
    h('button', { type: 'button', class: 'btn btn-primary', dataset: { testid: 'join-room', roomId: r.id } }, 'Join'));
}

function updateRoomItem(li, r) {
  li.querySelector('.room-name a').textContent = r.title;
  li.querySelector('.room-host').textContent = ['Hosted by ' + r.created_by.display_name, visibilityLabel(r.visibility)].filter(Boolean).join(' · ');
  li.querySelector('.room-about').textContent = r.description || '';
  li.querySelector('.room-counts').textContent =
    plural(r.speaker_count, 'speaker') + ' · ' + plural(r.listener_count, 'listener');
  li.querySelector('button').setAttribute('aria-label', 'Join ' + r.title);
}

function onRoomListClick(e) {
  const li = e.target.closest('li[data-room-id]');
  // The link navigates by itself (see the data-nav handler).
  if (!li || e.target.closest('a')) return;
  navigate('/rooms/' + encodeURIComponent(li.dataset.roomId));
}

async function onCreate(e) {
  e.preventDefault();
  const title = $('create-title').value.trim();
  const description = $('create-description').value.trim();
  if (!title) return formError('create-error', 'Give the room a title.');
  await busy('create-room', async () => {
    try {
      const room = await api.createRoom(title, description, $('create-visibility').value);
      formError('create-error', '');
      $('create-form').reset();
      navigate('/rooms/' + encodeURIComponent(room.id));
    } catch (err) {
      if (err.status !== 401) formError('create-error', err.message);
    }
  });
}

// ---- room

/** A guest link, for someone not signed in: a guest pass, then the room. */
async function showGuestRoom(roomId) {
  if (app.session?.roomId === roomId) return; // already there
  setView('room');
  document.title = 'Joining… · Parley';
  setText('room-title', 'Joining as a guest…');
  for (const id of ['room-host', 'room-desc', 'room-status']) setText(id, '');
  for (const id of ROOM_ONLY_CONTROLS) $(id).hidden = true;
  const gen = ++app.guestGen;
  try {
    const pass = await api.guestToken(roomId);
    if (gen !== app.guestGen || guestPathRoom(location.pathname) !== roomId) return;
    showRoom(roomId, pass.token);
  } catch (err) {
    if (gen !== app.guestGen) return;
    setText('room-title', 'Cannot listen to this room');
    setText('room-status', guestRefusal(err));
  }
}

function showRoom(roomId, token = () => auth.get()?.token) {
  if (app.session?.roomId === roomId) return; // already there
  setView('room');
  document.title = 'Joining… · Parley';
  setText('room-title', 'Joining…');
  for (const id of ['room-host', 'room-desc', 'room-status', 'stage-count', 'audience-count']) setText(id, '');
  for (const id of ['stage', 'audience', 'audio-sink', 'hand-queue']) $(id).replaceChildren();
  for (const id of ROOM_ONLY_CONTROLS) $(id).hidden = true;
  formError('list-notice', '');

  const session = new RoomSession({
    roomId,
    // A function: a reconnect takes the token as it is then, kept fresh by
    // the refresh token (a guest's pass is a string, and does not change).
    token,
    sink: $('audio-sink'),
    hooks: {
      onUpdate: () => app.session === session && renderRoom(),
      onStatus: (text) => app.session === session && setText('room-status', text),
      onError: (code, message) => {
        app.errors.push(code);
        if (app.session === session) toast(message, 'error');
      },
      onNotice: (text) => {
        if (app.session !== session) return;
        app.notices.push(text);
        toast(text);
      },
      onEnd: ({ message }) => {
        if (app.session !== session) return;
        app.session = null;
        closeRoomOverlays();
        toast(message, 'info', 10000);
        formError('list-notice', message); // stays on the list until the next room
        if (!auth.get()) app.notice = message; // a guest goes to the sign-in form
        navigate('/');
      },
      onAuthFailed: async (code) => {
        if (app.session !== session) return;
        app.session = null;
        closeRoomOverlays();
        // An access token that lapsed (a tab asleep): refresh it and join again.
        if (code === 'token_expired' && (await api.refresh())) return route();
        toSignIn(code === 'token_expired' ? 'Your session expired. Please sign in again.' : 'Please sign in again.');
      },
      onAutoplayBlocked: () => {
        if (app.session === session) $('tap-to-listen').hidden = false;
      },
      onChat: (type, p) => app.session === session && chat.onSignal(type, p),
    },
  });
  app.session = session;
  chat.attach(session);
  session.start();
}

// Controls that only some people see, all hidden until the room says who we are.
const ROOM_ONLY_CONTROLS = ['mute-toggle', 'raise-hand', 'step-down', 'end-room', 'tap-to-listen',
  'invite-prompt', 'mod-panel', 'hand-note', 'mute-note', 'guest-note', 'copy-guest-link'];

function renderRoom() {
  const s = app.session;
  const room = s.room;
  if (room) {
    setText('room-title', room.title);
    setText('room-host', 'Hosted by ' + room.created_by.display_name);
    setText('room-desc', room.description || '');
    document.title = room.title + ' · Parley';
  }
  const joined = !!s.self;
  const mod = s.isModerator;
  $('end-room').hidden = !(mod || isCreator(room));
  $('step-down').hidden = !s.onStage;

  // Our microphone, on stage.
  const mute = $('mute-toggle');
  mute.hidden = !s.onStage;
  mute.setAttribute('aria-pressed', String(s.muted));
  mute.dataset.muted = String(s.muted);
  let muteNote = '';
  if (s.onStage && s.rtc && !s.hasMic && s.rtc.micError) muteNote = 'No microphone. Press the microphone button to try again.';
  else if (s.muted && s.mutedBy) muteNote = 'Muted by ' + s.mutedBy;
  note('mute-note', muteNote);

  // Our hand, in the audience.
  const hand = $('raise-hand');
  hand.hidden = !joined || s.onStage || s.isGuest; // guests only listen
  $('guest-note').hidden = !s.isGuest;
  $('copy-guest-link').hidden = s.isGuest || !room || room.visibility !== 'open';
  hand.setAttribute('aria-pressed', String(s.handUp));
  hand.disabled = !s.handsEnabled && !s.handUp;
  let handNote = '';
  if (joined && !s.onStage) {
    if (!s.handsEnabled) handNote = 'Hand-raising is turned off in this room.';
    else if (s.handUp) {
      const place = s.hands.findIndex((p) => p.user_id === s.self.user_id);
      handNote = place >= 0 ? `Your hand is up, ${ordinal(place + 1)} in line.` : 'Your hand is up.';
    }
  }
  note('hand-note', handNote);

  // An invitation to speak.
  $('invite-prompt').hidden = !s.invited;
  setText('invite-text', s.invitedBy ? `${s.invitedBy} invited you to speak` : 'You are invited to speak');

  renderModeration(s, mod);

  const everyone = [...s.participants.values()];
  const stage = stageOrder(everyone);
  const audience = audienceOf(everyone);
  const update = (el, p) => updateTile(el, p, s);
  reconcile($('stage'), stage, (p) => p.user_id, tile, update);
  reconcile($('audience'), audience, (p) => p.user_id, tile, update);
  setText('stage-count', s.stageCap ? `${stage.length}/${s.stageCap}` : String(stage.length));
  setText('audience-count', String(audience.length));
  $('audience-empty').hidden = audience.length > 0;
  menus.closeIfGone();
  chat.render();
}

function renderModeration(s, mod) {
  $('mod-panel').hidden = !mod;
  access.render(mod);
  if (!mod) {
    if ($('hand-queue').firstChild) $('hand-queue').replaceChildren();
    return;
  }
  const toggle = $('hands-toggle');
  toggle.setAttribute('aria-pressed', String(s.handsEnabled));
  const hands = s.hands;
  reconcile($('hand-queue'), hands, (p) => p.user_id, queueItem, (el, p) => updateQueueItem(el, p, s));
  setText('hand-count', hands.length ? String(hands.length) : '');
  $('queue-empty').hidden = hands.length > 0;
  setText('queue-empty', s.handsEnabled ? 'No hands raised.' : 'Hand-raising is turned off.');
  note('stage-note', s.stageFull ? `The stage is full (${s.stageCap} people). Move someone to the audience to invite more.` : '');
}

function queueItem(p) {
  return h('li', { class: 'queue-item', dataset: { testid: 'hand-item', userId: p.user_id } },
    h('span', { class: 'avatar avatar-sm', 'aria-hidden': 'true' }),
    h('span', { class: 'queue-name' }),
    h('button', { type: 'button', class: 'btn btn-small btn-primary', dataset: { testid: 'invite', action: 'invite', userId: p.user_id } }, 'Invite'));
}

function updateQueueItem(el, p, s) {
  setHue(el.querySelector('.avatar'), p.user_id);
  el.querySelector('.avatar').textContent = initials(p.display_name);
  el.querySelector('.queue-name').textContent = p.display_name;
  const b = el.querySelector('button');
  const can = actionsOn(s.self, p, s.room?.created_by?.id).includes('invite');
  b.textContent = p.invited ? 'Invited' : 'Invite';
  b.disabled = p.invited || !can || s.stageFull;
  b.setAttribute('aria-label', p.invited ? `${p.display_name} is invited` : `Invite ${p.display_name} to speak`);
}

const ROLE_LABEL = { moderator: 'Moderator', speaker: 'Speaker', listener: 'Listener' };

function tile(p) {
  const menuId = 'menu-' + p.user_id;
  const el = h('li', { class: 'tile', dataset: { testid: 'participant', userId: p.user_id } },
    h('span', { class: 'avatar', 'aria-hidden': 'true' }),
    h('span', { class: 'tile-name' }),
    h('span', { class: 'badge' }),
    h('span', { class: 'tile-flag', 'aria-hidden': 'true' }),
    h('span', { class: 'visually-hidden tile-state' }),
    h('button', {
      type: 'button', class: 'tile-more', hidden: true, 'aria-expanded': 'false', 'aria-controls': menuId,
      dataset: { testid: 'participant-menu' },
    }, h('span', { 'aria-hidden': 'true' }, '⋯')),
    h('div', { class: 'tile-menu', id: menuId, hidden: true, dataset: { testid: 'participant-actions' } },
      ...Object.entries(ACTION_UI).map(([action, ui]) =>
        h('button', { type: 'button', class: 'menu-item', hidden: true, dataset: { testid: ui.testid, action, userId: p.user_id } }, ui.label))));
  setHue(el, p.user_id);
  return el;
}

function updateTile(el, p, s) {
  const me = p.user_id === s.self?.user_id;
  const speaking = s.speaking.has(p.user_id);
  const muted = isOnStage(p) && (me ? s.muted : !!p.muted);
  const hand = me ? s.handUp : handRaised(p);
  const invited = !!p.invited && !isOnStage(p);
  el.dataset.role = p.role;
  el.dataset.speaking = String(speaking);
  el.dataset.muted = String(muted);
  el.dataset.hand = String(hand);
  el.dataset.invited = String(invited);
  el.querySelector('.avatar').textContent = initials(p.display_name);
  el.querySelector('.tile-name').replaceChildren(p.display_name, me ? h('span', { class: 'tile-you' }, ' (you)') : '');
  const badge = el.querySelector('.badge');
  badge.textContent = ROLE_LABEL[p.role] || p.role;
  badge.className = 'badge badge-' + p.role;
  el.querySelector('.tile-flag').textContent = invited ? 'Invited' : '';
  const state = [speaking && 'speaking', muted && 'muted', hand && 'hand raised', invited && 'invited to speak'].filter(Boolean);
  el.querySelector('.tile-state').textContent = state.length ? ', ' + state.join(', ') : '';

  const actions = actionsOn(s.self, p, s.room?.created_by?.id);
  const more = el.querySelector('.tile-more');
  more.hidden = actions.length === 0;
  more.setAttribute('aria-label', 'Actions for ' + p.display_name);
  for (const b of el.querySelectorAll('.menu-item')) {
    b.hidden = !actions.includes(b.dataset.action);
    if (b.dataset.action === 'invite') b.disabled = s.stageFull;
  }
  if (!actions.length) menus.closeOn(el);
}

// A person keeps their colour: the avatar's hue comes from the user id.
function setHue(el, userId) {
  let hue = 0;
  for (const c of userId) hue = (hue * 31 + c.charCodeAt(0)) % 360;
  el.style.setProperty('--hue', String(hue)); // CSSOM, which the CSP allows
}

function isCreator(room) {
  const me = auth.get()?.member;
  return !!(room && me && room.created_by.id === me.id);
}

/** Leaves the current room, if any, without waiting for the server. */
function leaveRoom() {
  const s = app.session;
  app.session = null;
  closeRoomOverlays();
  s?.leave();
}

// ---- room actions

function onMuteToggle() {
  const s = app.session;
  if (s) s.setMuted(!s.muted);
}

function onRaiseHand() {
  app.session?.toggleHand();
}

async function onInviteAnswer(type) {
  const s = app.session;
  if (!s) return;
  const buttons = [$('accept-invite'), $('decline-invite')];
  buttons.forEach((b) => { b.disabled = true; });
  try {
    await s.act(type);
  } catch {
    // shown already
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
  }
}

/** Runs a room action from a button; errors are shown by the session. */
async function roomAction(id, type, payload, done) {
  const s = app.session;
  if (!s) return;
  await busy(id, async () => {
    try {
      await s.act(type, payload);
      if (done) toast(done);
    } catch {
      // shown already
    }
  });
}

async function onEndRoom() {
  const s = app.session;
  if (!s) return;
  await busy('end-room', async () => {
    try {
      // room_ended arrives over signaling and takes us back to the list.
      await s.endRoom();
    } catch (err) {
      // The creator may end the room from anywhere, over REST too.
      if (!isCreator(s.room) || (err.code !== 'not_connected' && err.code !== 'timeout')) return;
      try {
        await api.endRoom(s.roomId);
        setTimeout(() => {
          if (app.session !== s) return;
          leaveRoom();
          toast('You ended the room.');
          navigate('/');
        }, 3000);
      } catch (e) {
        if (e.status !== 401) toast('Could not end the room: ' + e.message, 'error');
      }
    }
  });
}

function closeRoomOverlays() {
  menus.close();
  chat.detach();
}

async function onTapToListen() {
  try {
    await app.session?.rtc?.resumeAudio();
    $('tap-to-listen').hidden = true;
  } catch (err) {
    toast('Could not start audio: ' + err.message, 'error');
  }
}

async function onCopyGuestLink() {
  const url = guestLink(app.session?.roomId || '');
  try {
    await navigator.clipboard.writeText(url);
    toast('Guest link copied: people without an account can listen with it, if the server allows guests.');
  } catch {
    toast('Share this guest link: ' + url, 'info', 15000);
  }
}

async function onCopyLink() {
  const url = location.origin + '/rooms/' + encodeURIComponent(app.session?.roomId || '');
  try {
    await navigator.clipboard.writeText(url);
    toast('Link copied.');
  } catch {
    toast('Share this link: ' + url, 'info', 15000); // no clipboard outside secure contexts
  }
}

// ---- helpers

/** Sets an element's text and hides it when there is none. */
function formError(id, text) {
  const el = $(id);
  el.textContent = text || '';
  el.hidden = !text;
}
const note = formError;

/** Disables the button while fn runs, so a double click does not do it twice. */
async function busy(id, fn) {
  const b = $(id);
  b.disabled = true;
  try {
    await fn();
  } finally {
    b.disabled = false;
  }
}

function plural(n, word) {
  return n + ' ' + word + (n === 1 ? '' : 's');
}

// ---- start

function wire() {
  $('signin-form').addEventListener('submit', onSignIn);
  accounts.wire();
  $('signout').addEventListener('click', onSignOut);
  $('create-form').addEventListener('submit', onCreate);
  $('room-list').addEventListener('click', onRoomListClick);
  $('leave-room').addEventListener('click', () => navigate('/'));
  $('end-room').addEventListener('click', onEndRoom);
  $('mute-toggle').addEventListener('click', onMuteToggle);
  $('raise-hand').addEventListener('click', onRaiseHand);
  $('accept-invite').addEventListener('click', () => onInviteAnswer('accept_invite'));
  $('decline-invite').addEventListener('click', () => onInviteAnswer('decline_invite'));
  $('step-down').addEventListener('click', () => roomAction('step-down', 'step_down'));
  $('mute-all').addEventListener('click', () => roomAction('mute-all', 'mute_all', {}, 'Everyone else on stage is muted.'));
  $('hands-toggle').addEventListener('click', () =>
    roomAction('hands-toggle', 'set_hands', { enabled: !app.session?.handsEnabled }));
  menus.wire(['stage', 'audience', 'hand-queue']);
  $('tap-to-listen').addEventListener('click', onTapToListen);
  $('copy-link').addEventListener('click', onCopyLink);
  $('copy-guest-link').addEventListener('click', onCopyGuestLink);
  window.addEventListener('popstate', route);
  // Same-origin links marked data-nav change the view without a page load.
  document.addEventListener('click', (e) => {
    const a = e.target.closest('a[data-nav]');
    if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(new URL(a.href).pathname);
  });
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && app.view === 'list') refreshRooms(++app.listGen);
  });
  // Tell the room we are gone when the tab closes; leave() sends at once.
  window.addEventListener('pagehide', () => leaveRoom());
  // Back from the back/forward cache: the room was left on pagehide, so join again.
  window.addEventListener('pageshow', (e) => e.persisted && route());
}

async function start() {
  wire();
  const params = new URLSearchParams(location.search);
  const name = (params.get('name') || '').trim();
  const create = (params.get('create') || '').trim();
  if (['name', 'create', 'description'].some((k) => params.has(k))) {
    // Consume them, so a reload does not sign in or create a room again.
    history.replaceState(null, '', location.pathname + location.hash);
  }
  if (name && auth.get()?.member.display_name !== name) {
    try {
      await api.signIn(name);
    } catch (err) {
      $('signin-name').value = name;
      app.notice = 'Could not sign in: ' + err.message;
    }
  }
  if (create && auth.get()) {
    try {
      const room = await api.createRoom(create, (params.get('description') || '').trim());
      history.replaceState(null, '', '/rooms/' + encodeURIComponent(room.id));
    } catch (err) {
      toast('Could not create the room: ' + err.message, 'error');
    }
  }
  route();
}

start();
