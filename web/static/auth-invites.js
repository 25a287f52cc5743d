// The invites page (/invites): your quota, a new invite link to copy, your
// invites to revoke, letting someone in from the waitlist, and signing out
// everywhere. Hooks for tests are listed in auth.js.

import { busy, day, formError } from './auth-ui.js';
import { $, h, reconcile, toast, setText } from './ui.js';

const STATE_LABEL = { active: 'Unused', used: 'Used', revoked: 'Revoked', expired: 'Expired' };

export function createInvitesView(app) {
  const { api } = app;
  let gen = 0; // bumps when the page is left or reloaded, so a late answer is dropped

  async function show() {
    app.setView('invites');
    document.title = 'Invites · Parley';
    $('invite-new').hidden = true;
    $('invite-link').value = '';
    formError('invite-error', '');
    formError('letin-error', '');
    await load();
  }

  async function load() {
    const my = ++gen;
    try {
      const data = await api.listInvites();
      if (my !== gen || app.view() !== 'invites') return;
      render(data);
    } catch (err) {
      if (my === gen && err.status !== 401) formError('invite-error', 'Could not load your invites: ' + err.message);
    }
  }

  function render(data) {
    const q = data.quota;
    setText('invite-quota', q.left === 1 ? `You have 1 of ${q.limit} invites left.` : `You have ${q.left} of ${q.limit} invites left.`);
    $('invite-create').disabled = q.left < 1;
    const list = data.invites || [];
    $('invites-empty').hidden = list.length > 0;
    reconcile($('invite-list'), list, (i) => i.id, item, update);
  }

  function item(inv) {
    return h('li', { class: 'invite-item', dataset: { testid: 'invite-item', inviteId: inv.id } },
      h('div', { class: 'invite-main' }, h('p', { class: 'state' }), h('p', { class: 'muted invite-when' })),
      h('button', { type: 'button', class: 'btn btn-small btn-danger', dataset: { testid: 'invite-revoke', inviteId: inv.id } }, 'Revoke'));
  }

  function update(li, inv) {
    li.dataset.state = inv.state;
    const state = li.querySelector('.state');
    state.textContent = inv.direct ? 'Let in from the waitlist' : STATE_LABEL[inv.state] || inv.state;
    state.className = 'state state-' + inv.state;
    const when = {
      active: `Made ${day(inv.created_at)}, works until ${day(inv.expires_at)}`,
      used: `Used ${day(inv.used_at)}`,
      revoked: `Revoked ${day(inv.revoked_at)}`,
      expired: `Expired ${day(inv.expires_at)}`,
    }[inv.state];
    li.querySelector('.invite-when').textContent = when || '';
    const revoke = li.querySelector('button');
    revoke.hidden = inv.state !== 'active';
    revoke.setAttribute('aria-label', 'Revoke the invite made ' + day(inv.created_at));
  }

  async function onCreate() {
    formError('invite-error', '');
    await busy('invite-create', async () => {
      try {
        const made = await api.createInvite();
        $('invite-link').value = made.link;
        $('invite-new').hidden = false;
        $('invite-link').focus();
        $('invite-link').select();
        await load();
      } catch (err) {
        if (err.status === 401) return;
        formError('invite-error', err.code === 'invite_quota_exhausted'
          ? 'You have no invites left. Revoke an unused one, or wait for one to expire.' : err.message);
      }
    });
  }

  async function onCopy() {
    const link = $('invite-link').value;
    try {
      await navigator.clipboard.writeText(link);
      toast('Invite link copied.');
    } catch {
      // No clipboard outside secure contexts: leave it selected to copy by hand.
      $('invite-link').select();
      toast('Press Ctrl+C (or ⌘C) to copy the selected link.');
    }
  }

  async function onRevoke(e) {
    const b = e.target.closest('button[data-testid=invite-revoke]');
    if (!b) return;
    b.disabled = true;
    try {
      await api.revokeInvite(b.dataset.inviteId);
      toast('Invite revoked. Its link no longer works.');
      await load();
    } catch (err) {
      if (err.status !== 401) toast('Could not revoke it: ' + err.message, 'error');
    } finally {
      b.disabled = false;
    }
  }

  async function onLetIn(e) {
    e.preventDefault();
    const username = $('letin-username').value.trim();
    if (!username) return formError('letin-error', 'Enter their username.');
    formError('letin-error', '');
    await busy('letin-submit', async () => {
      try {
        const a = await api.letIn(username);
        $('letin-username').value = '';
        toast(`${a.display_name} (@${a.username}) can sign in now.`);
        await load();
      } catch (err) {
        if (err.status === 401) return;
        formError('letin-error', {
          account_not_found: 'No one has that username.',
          not_waitlisted: 'They are not on the waitlist: they are in already.',
          invite_quota_exhausted: 'You have no invites left to spend.',
          validation_failed: 'That is not a username (3 to 30 letters a-z, digits and _).',
        }[err.code] || err.message);
      }
    });
  }

  async function onSignOutAll() {
    await busy('signout-all', async () => {
      try {
        await api.signOut(true);
        app.signedOut('You are signed out everywhere.');
      } catch (err) {
        if (err.status !== 401) toast('Could not sign out everywhere: ' + err.message, 'error');
      }
    });
  }

  function wire() {
    $('invite-create').addEventListener('click', onCreate);
    $('invite-copy').addEventListener('click', onCopy);
    $('invite-list').addEventListener('click', onRevoke);
    $('letin-form').addEventListener('submit', onLetIn);
    $('signout-all').addEventListener('click', onSignOutAll);
  }

  return { show, wire };
}
