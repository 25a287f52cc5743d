// A room's access, for its hosts: who can join (open, social, closed) and
// the members let in whatever it is (docs/api.md, "Who may see a room").
//
// Test hooks (ids, each also a data-testid): access-panel with
// room-visibility; invitees-panel (shown unless the room is open) with
// invitee-q, invitee-search, invitee-results (li[data-member-id] with
// button[data-action=let-in]) and invitee-list (li[data-member-id] with
// button[data-action=uninvite]).

import { $, h, toast } from './ui.js';

export function createAccess({ api, session }) {
  let loadedFor = ''; // the room whose invitees the list shows

  /** Renders the panel for the session's room; mod says whether we host. */
  function render(mod) {
    const s = session();
    const room = s?.room;
    if (!mod || !room) {
      loadedFor = '';
      return;
    }
    const sel = $('room-visibility');
    if (document.activeElement !== sel) sel.value = room.visibility || 'open';
    $('invitees-panel').hidden = (room.visibility || 'open') === 'open';
    if (loadedFor !== room.id && !$('invitees-panel').hidden) {
      loadedFor = room.id;
      loadInvitees(room.id);
    }
  }

  async function loadInvitees(roomId) {
    try {
      const data = await api.invitees(roomId);
      if (session()?.room?.id !== roomId) return;
      $('invitee-list').replaceChildren(...data.invitees.map((m) => item(m.id, m.display_name, 'uninvite', 'Remove')));
    } catch {
      // The panel works without the list.
    }
  }

  function item(id, name, action, label) {
    return h('li', { dataset: { memberId: id } }, name, ' ',
      h('button', { type: 'button', class: 'btn btn-small', dataset: { action, memberId: id } }, label));
  }

  async function onVisibility() {
    const s = session();
    if (!s?.room) return;
    const v = $('room-visibility').value;
    try {
      const room = await api.setVisibility(s.room.id, v);
      s.room = { ...s.room, visibility: room.visibility };
      loadedFor = '';
      toast(v === 'open' ? 'Every member can join now.' : v === 'social' ? 'Followers of the hosts can join now.' : 'Only people let in can join now.');
      s.changed();
    } catch (err) {
      if (err.status !== 401) toast('Could not change who can join: ' + err.message, 'error');
      $('room-visibility').value = s.room.visibility || 'open';
    }
  }

  async function onFind(e) {
    e.preventDefault();
    const q = $('invitee-q').value.trim();
    const msg = $('invitee-error');
    msg.hidden = true;
    try {
      const data = await api.searchMembers(q);
      $('invitee-results').replaceChildren(...data.members.map((m) => item(m.id, m.display_name + ' @' + m.username, 'let-in', 'Let in')));
      if (!data.members.length) {
        msg.textContent = 'No one found.';
        msg.hidden = false;
      }
    } catch (err) {
      if (err.status === 401) return;
      msg.textContent = err.code === 'validation_failed' ? 'Type at least 3 letters.' : err.message;
      msg.hidden = false;
    }
  }

  async function onClick(e) {
    const b = e.target.closest('button[data-action]');
    const s = session();
    if (!b || !s?.room) return;
    const on = b.dataset.action === 'let-in';
    try {
      const inv = await api.invite(s.room.id, b.dataset.memberId, on);
      if (on) {
        b.closest('li').remove();
        $('invitee-list').querySelector(`[data-member-id="${CSS.escape(inv.id)}"]`)?.remove();
        $('invitee-list').append(item(inv.id, inv.display_name, 'uninvite', 'Remove'));
        toast(inv.display_name + ' can join now.');
      } else {
        b.closest('li').remove();
      }
    } catch (err) {
      if (err.status !== 401) toast('Could not change who is let in: ' + err.message, 'error');
    }
  }

  $('room-visibility').addEventListener('change', onVisibility);
  $('invitee-form').addEventListener('submit', onFind);
  $('invitee-results').addEventListener('click', onClick);
  $('invitee-list').addEventListener('click', onClick);

  return { render };
}
