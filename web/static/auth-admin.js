// The waitlist page for admins (/admin/waitlist): who is waiting, oldest
// first, and Approve. Hooks for tests are listed in auth.js.

import { day, formError } from './auth-ui.js';
import { $, h, reconcile, toast } from './ui.js';

export function createWaitlistView(app) {
  const { api } = app;
  let gen = 0;

  async function show() {
    app.setView('waitlist');
    document.title = 'Waitlist · Parley';
    formError('waitlist-error', '');
    await load();
  }

  async function load() {
    const my = ++gen;
    try {
      const data = await api.waitlist();
      if (my !== gen || app.view() !== 'waitlist') return;
      const list = data.accounts || [];
      $('waitlist-empty').hidden = list.length > 0;
      reconcile($('waitlist-list'), list, (a) => a.id, item, update);
    } catch (err) {
      if (my !== gen || err.status === 401) return;
      formError('waitlist-error', err.code === 'forbidden'
        ? 'Only admins see the waitlist.' : 'Could not load the waitlist: ' + err.message);
    }
  }

  function item(a) {
    return h('li', { class: 'invite-item', dataset: { testid: 'waitlist-item', userId: a.id, username: a.username } },
      h('div', { class: 'invite-main' }, h('p', { class: 'waitlist-name' }), h('p', { class: 'muted waitlist-since' })),
      h('button', { type: 'button', class: 'btn btn-small btn-primary', dataset: { testid: 'waitlist-approve', userId: a.id } }, 'Approve'));
  }

  function update(li, a) {
    li.querySelector('.waitlist-name').replaceChildren(h('strong', {}, a.display_name), ' @' + a.username);
    li.querySelector('.waitlist-since').textContent = 'Waiting since ' + day(a.created_at);
    li.querySelector('button').setAttribute('aria-label', `Approve ${a.display_name} (@${a.username})`);
  }

  async function onApprove(e) {
    const b = e.target.closest('button[data-testid=waitlist-approve]');
    if (!b) return;
    b.disabled = true;
    try {
      const a = await api.approve(b.dataset.userId);
      toast(`${a.display_name} (@${a.username}) can sign in now.`);
      await load();
    } catch (err) {
      if (err.status !== 401) toast('Could not approve: ' + err.message, 'error');
      b.disabled = false;
    }
  }

  function wire() {
    $('waitlist-list').addEventListener('click', onApprove);
  }

  return { show, wire };
}
