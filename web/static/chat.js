// The room's text chat (docs/api.md and docs/protocol.md, "Chat"): its
// history over REST, new messages, deletions and the chat switch over the
// room's signaling, and the panel that shows them.
//
// One controller for the page; attach(session) for each visit to a room.
// Messages are kept by their seq (the room's chat order), so an event that
// arrives late, or twice, lands where it belongs.

import { $, h, reconcile, initials } from './ui.js';

const PAGE = 50;

// A person keeps their colour, as on their tile (app.js).
function hue(userId) {
  let n = 0;
  for (const c of userId) n = (n * 31 + c.charCodeAt(0)) % 360;
  return n;
}
const MAX_LEN = 1000;

/** Sorts and keeps a room's messages by seq; pure, for tests. */
export class ChatLog {
  constructor() {
    this.bySeq = new Map(); // seq -> message
    this.older = ''; // the cursor of older messages, '' when none
  }

  get messages() {
    return [...this.bySeq.values()].sort((a, b) => a.seq - b.seq);
  }

  get lastSeq() {
    let n = 0;
    for (const s of this.bySeq.keys()) n = Math.max(n, s);
    return n;
  }

  add(m) {
    if (m && typeof m.seq === 'number' && typeof m.id === 'string') this.bySeq.set(m.seq, m);
  }

  remove(id, seq) {
    if (typeof seq === 'number' && this.bySeq.get(seq)?.id === id) this.bySeq.delete(seq);
    else for (const [s, m] of this.bySeq) if (m.id === id) this.bySeq.delete(s);
  }
}

/**
 * createChat({api, onError, onNotice}) returns the page's chat controller.
 * onError(code, message) reports failures; onNotice(text) news such as
 * "Chat is turned off".
 */
export function createChat({ api, onError, onNotice }) {
  let session = null; // the RoomSession of the room we are in
  let roomId = null;
  let log = new ChatLog();
  let enabled = true;
  let gen = 0; // bumps on every attach/detach, to drop stale answers

  const panel = $('chat-panel');
  const list = $('chat-log');
  const form = $('chat-form');
  const input = $('chat-input');

  function canModerate() {
    return !!session && (session.isModerator || session.isCreator);
  }

  function mine(m) {
    return !!session?.self && m.author?.id === session.self.user_id;
  }

  function nearBottom() {
    return list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  }

  function render() {
    if (!session) return;
    const stick = nearBottom();
    reconcile(list, log.messages, (m) => m.id, item, update);
    $('chat-empty').hidden = log.bySeq.size > 0;
    $('chat-older').hidden = !log.older;
    const mod = canModerate();
    const toggle = $('chat-toggle');
    toggle.hidden = !mod;
    toggle.setAttribute('aria-pressed', String(enabled));
    input.disabled = !enabled || !session.self;
    $('chat-send').disabled = !enabled || !session.self;
    const note = $('chat-note');
    note.textContent = enabled ? '' : 'Chat is turned off in this room.';
    note.hidden = enabled;
    if (stick) list.scrollTop = list.scrollHeight;
  }

  function item(m) {
    return h('li', { class: 'chat-item', dataset: { testid: 'chat-message', messageId: m.id } },
      h('span', { class: 'avatar avatar-xs', 'aria-hidden': 'true' }),
      h('div', { class: 'chat-main' },
        h('p', { class: 'chat-meta' }, h('strong', { class: 'chat-author' }), ' ', h('time', { class: 'muted chat-time' })),
        h('p', { class: 'chat-body' })),
      h('button', { type: 'button', class: 'btn btn-quiet btn-small chat-delete', hidden: true, dataset: { testid: 'chat-delete', messageId: m.id } }, 'Delete'));
  }

  function update(el, m) {
    const name = m.author ? m.author.display_name : 'Deleted member';
    el.dataset.seq = String(m.seq);
    el.dataset.author = m.author?.id || '';
    const avatar = el.querySelector('.avatar');
    avatar.textContent = initials(name);
    avatar.style.setProperty('--hue', String(hue(m.author?.id || ''))); // CSSOM, which the CSP allows
    el.querySelector('.chat-author').textContent = name;
    const t = el.querySelector('.chat-time');
    t.textContent = new Date(m.created_at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    t.setAttribute('datetime', m.created_at);
    el.querySelector('.chat-body').textContent = m.body;
    const del = el.querySelector('.chat-delete');
    del.hidden = !(mine(m) || canModerate());
    del.setAttribute('aria-label', `Delete ${name}'s message`);
  }

  /** Reads a page of history; older pages go before, newer after. */
  async function fetchPage(query) {
    const g = gen;
    const page = await api.request('GET', '/rooms/' + encodeURIComponent(roomId) + '/chat' + query);
    if (g !== gen) return null;
    for (const m of page.messages || []) log.add(m);
    enabled = page.chat_enabled !== false;
    return page;
  }

  // On joined: a first visit reads the newest page; a reconnection reads
  // what came after the last message we have, page by page.
  async function catchUp() {
    try {
      if (log.bySeq.size === 0) {
        const page = await fetchPage('?limit=' + PAGE);
        if (page) log.older = page.next_cursor || '';
      } else {
        let query = '?limit=' + PAGE + '&after=' + log.lastSeq;
        for (let i = 0; i < 20; i++) {
          const page = await fetchPage(query);
          if (!page?.next_cursor) break;
          query = '?limit=' + PAGE + '&cursor=' + encodeURIComponent(page.next_cursor);
        }
      }
    } catch (err) {
      if (err.status !== 401) onError('chat', 'Could not load the chat: ' + err.message);
    }
    render();
  }

  async function loadOlder() {
    if (!log.older) return;
    const cursor = log.older;
    try {
      const page = await fetchPage('?limit=' + PAGE + '&cursor=' + encodeURIComponent(cursor));
      if (page) log.older = page.next_cursor || '';
    } catch (err) {
      if (err.status !== 401) onError('chat', 'Could not load older messages: ' + err.message);
    }
    const top = list.scrollHeight - list.scrollTop;
    render();
    list.scrollTop = list.scrollHeight - top; // keep what was in view in view
  }

  async function send(e) {
    e.preventDefault();
    const body = input.value.trim();
    if (!body || !session) return;
    if (body.length > MAX_LEN) return onError('chat', `A message is at most ${MAX_LEN} characters.`);
    $('chat-send').disabled = true;
    try {
      const ok = await session.act('chat_send', { body });
      log.add(ok.message);
      input.value = '';
      list.scrollTop = list.scrollHeight;
    } catch {
      // shown already
    }
    render();
    input.focus();
  }

  function onListClick(e) {
    const b = e.target.closest('button[data-testid=chat-delete]');
    if (!b || !session) return;
    session.act('chat_delete', { message_id: b.dataset.messageId }).then(() => {
      log.remove(b.dataset.messageId);
      render();
    }, () => {});
  }

  function onToggle() {
    if (!session) return;
    session.act('set_chat', { enabled: !enabled }).then(() => {}, () => {});
  }

  form.addEventListener('submit', send);
  input.addEventListener('keydown', (e) => {
    // Enter sends; Shift+Enter is a new line.
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) send(e);
  });
  list.addEventListener('click', onListClick);
  $('chat-older').addEventListener('click', loadOlder);
  $('chat-toggle').addEventListener('click', onToggle);

  return {
    /** Starts showing the chat of the session's room. */
    attach(s) {
      gen++;
      session = s;
      roomId = s.roomId;
      log = new ChatLog();
      enabled = true;
      list.replaceChildren();
      input.value = '';
      panel.hidden = false;
      render();
    },
    detach() {
      gen++;
      session = null;
      roomId = null;
      log = new ChatLog();
      list.replaceChildren();
    },
    /** A chat event, or 'joined', from the room's signaling. */
    onSignal(type, p) {
      if (!session) return;
      switch (type) {
        case 'joined':
          enabled = p.chat_enabled;
          catchUp();
          break;
        case 'chat_message':
          log.add(p.message);
          break;
        case 'chat_deleted':
          log.remove(p.message_id, p.seq);
          break;
        case 'chat_settings':
          if (enabled !== p.enabled) onNotice(p.enabled ? 'Chat is on.' : 'Chat is turned off.');
          enabled = p.enabled;
          break;
      }
      render();
    },
    render,
    /** For tests: what the panel holds. */
    state() {
      return {
        enabled,
        messages: log.messages.map((m) => ({ id: m.id, seq: m.seq, author: m.author?.id ?? null, body: m.body })),
      };
    },
  };
}
