// Profiles and people: a member's profile (yours, editable), following,
// blocking, and finding members by name (docs/api.md, "Members").
//
// Test hooks (element ids, each also a data-testid):
//   view-profile: profile-name, profile-username, profile-headline,
//     profile-bio, profile-avatar-url, profile-counts (text "N followers ·
//     M following"), follow-toggle (aria-pressed="true" while following),
//     block-toggle (aria-pressed="true" while blocking), profile-form with
//     profile-display-name, profile-username-input, profile-headline-input,
//     profile-bio-input, profile-avatar-input, profile-save, and for each
//     field an error line [data-field-error=<api field name>];
//     blocks-list (your blocks, each li with button[data-action=unblock])
//   view-people: people-q, people-search, people-list (li[data-member-id]
//     linking to the profile), people-more

import { $, h, setText, toast, initials } from './ui.js';

// The form's inputs by the API's field names.
const FIELDS = {
  display_name: 'profile-display-name',
  username: 'profile-username-input',
  headline: 'profile-headline-input',
  bio: 'profile-bio-input',
  avatar_url: 'profile-avatar-input',
};

/**
 * Makes the profile and people views. api is the REST client; me() returns
 * the signed-in member; navigate(path) changes the view.
 */
export function createProfiles({ api, me, navigate }) {
  let shown = null; // the profile on the page
  let gen = 0; // bumps to drop answers to an earlier show
  let peopleCursor = '';

  async function show(id) {
    const g = ++gen;
    shown = null;
    for (const el of ['profile-name', 'profile-username', 'profile-headline', 'profile-bio', 'profile-avatar-url', 'profile-counts']) setText(el, '');
    setText('profile-name', 'Loading…');
    $('profile-form').hidden = true;
    $('profile-actions').hidden = true;
    $('blocks-card').hidden = true;
    const own = id === me()?.id;
    try {
      const p = own ? await api.ownProfile() : await api.profile(id);
      if (g !== gen) return;
      render(p, own);
      if (own) fillForm(p);
      if (own) showBlocks(g);
    } catch (err) {
      if (g !== gen || err.status === 401) return;
      setText('profile-name', err.code === 'member_not_found' ? 'No such member' : 'Could not load the profile');
      setText('profile-headline', err.message);
    }
  }

  function render(p, own) {
    shown = { ...p, own };
    document.title = p.display_name + ' · Parley';
    setText('profile-name', p.display_name);
    setText('profile-username', '@' + p.username);
    setText('profile-headline', p.headline);
    setText('profile-bio', p.bio);
    setText('profile-counts', plural(p.follower_count, 'follower') + ' · ' + p.following_count + ' following');
    const av = $('profile-avatar-url');
    // Remote images are not loaded (the page's CSP allows only its own):
    // the avatar's address is shown as a link instead.
    av.replaceChildren(p.avatar_url ? h('a', { href: p.avatar_url, rel: 'noopener noreferrer', target: '_blank' }, 'Avatar') : '');
    $('profile-avatar').textContent = initials(p.display_name);
    $('profile-form').hidden = !own;
    $('profile-actions').hidden = own;
    if (!own) renderRelation();
  }

  function renderRelation() {
    const r = shown.relationship || {};
    const follow = $('follow-toggle');
    follow.textContent = r.following ? 'Following' : 'Follow';
    follow.setAttribute('aria-pressed', String(!!r.following));
    follow.disabled = !!r.blocking;
    const block = $('block-toggle');
    block.textContent = r.blocking ? 'Unblock' : 'Block';
    block.setAttribute('aria-pressed', String(!!r.blocking));
    setText('profile-relation', [r.follows_you && 'Follows you', r.blocking && 'You block them'].filter(Boolean).join(' · '));
  }

  async function onFollow() {
    if (!shown || shown.own) return;
    const on = !shown.relationship.following;
    try {
      await api.follow(shown.id, on);
      await show(shown.id);
    } catch (err) {
      if (err.status !== 401) toast('Could not ' + (on ? 'follow' : 'unfollow') + ': ' + err.message, 'error');
    }
  }

  async function onBlock() {
    if (!shown || shown.own) return;
    const on = !shown.relationship.blocking;
    try {
      await api.block(shown.id, on);
      toast(on ? `You block ${shown.display_name}.` : `You no longer block ${shown.display_name}.`);
      await show(shown.id);
    } catch (err) {
      if (err.status !== 401) toast('Could not ' + (on ? 'block' : 'unblock') + ': ' + err.message, 'error');
    }
  }

  function fillForm(p) {
    for (const [field, id] of Object.entries(FIELDS)) $(id).value = p[field] || '';
    fieldErrors([]);
  }

  function fieldErrors(list) {
    for (const el of document.querySelectorAll('[data-field-error]')) {
      const f = list.find((x) => x.field === el.dataset.fieldError);
      el.textContent = f ? f.message : '';
      el.hidden = !f;
      $(FIELDS[el.dataset.fieldError])?.setAttribute('aria-invalid', String(!!f));
    }
  }

  async function onSave(e) {
    e.preventDefault();
    if (!shown?.own) return;
    // Only what changed goes: a PATCH keeps the rest.
    const changes = {};
    for (const [field, id] of Object.entries(FIELDS)) {
      const v = $(id).value;
      if (v !== (shown[field] || '')) changes[field] = v;
    }
    const msg = $('profile-error');
    if (!Object.keys(changes).length) {
      msg.textContent = 'Nothing to save.';
      msg.hidden = false;
      return;
    }
    $('profile-save').disabled = true;
    try {
      const p = await api.updateProfile(changes);
      msg.hidden = true;
      render(p, true);
      fillForm(p);
      toast('Profile saved.');
    } catch (err) {
      if (err.status === 401) return;
      fieldErrors(err.fields || []);
      msg.textContent = err.code === 'username_taken' ? 'That username is taken.' : err.message;
      msg.hidden = false;
    } finally {
      $('profile-save').disabled = false;
    }
  }

  async function showBlocks(g) {
    try {
      const data = await api.blocks();
      if (g !== gen) return;
      const list = $('blocks-list');
      list.replaceChildren(...data.members.map((m) => h('li', { dataset: { memberId: m.id } },
        h('a', { href: '/members/' + encodeURIComponent(m.id), 'data-nav': true }, m.display_name), ' ',
        h('button', { type: 'button', class: 'btn btn-small', dataset: { action: 'unblock', memberId: m.id } }, 'Unblock'))));
      $('blocks-card').hidden = data.members.length === 0;
    } catch {
      // the profile stands without its block list
    }
  }

  async function onBlocksClick(e) {
    const b = e.target.closest('button[data-action=unblock]');
    if (!b) return;
    try {
      await api.block(b.dataset.memberId, false);
      b.closest('li').remove();
      $('blocks-card').hidden = !$('blocks-list').children.length;
    } catch (err) {
      if (err.status !== 401) toast('Could not unblock: ' + err.message, 'error');
    }
  }

  // ---- people

  function showPeople() {
    document.title = 'People · Parley';
    $('people-q').focus({ preventScroll: true });
  }

  async function search(more) {
    const q = $('people-q').value.trim();
    const err = $('people-error');
    if ([...q].length < 3) {
      err.textContent = 'Type at least 3 letters of a name or username.';
      err.hidden = false;
      return;
    }
    err.hidden = true;
    try {
      const data = await api.searchMembers(q, more ? peopleCursor : '');
      peopleCursor = data.next_cursor || '';
      const items = data.members.map((m) => h('li', { class: 'person card', dataset: { memberId: m.id } },
        h('a', { href: '/members/' + encodeURIComponent(m.id), 'data-nav': true }, m.display_name),
        h('span', { class: 'muted' }, ' @' + m.username),
        m.headline ? h('p', { class: 'muted person-headline' }, m.headline) : null));
      if (more) $('people-list').append(...items);
      else $('people-list').replaceChildren(...items);
      $('people-more').hidden = !peopleCursor;
      if (!more && !items.length) {
        err.textContent = 'No one found.';
        err.hidden = false;
      }
    } catch (e) {
      if (e.status === 401) return;
      err.textContent = e.code === 'rate_limited' ? 'Too many searches. Try again in a minute.' : e.message;
      err.hidden = false;
    }
  }

  $('follow-toggle').addEventListener('click', onFollow);
  $('block-toggle').addEventListener('click', onBlock);
  $('profile-form').addEventListener('submit', onSave);
  $('blocks-list').addEventListener('click', onBlocksClick);
  $('people-form').addEventListener('submit', (e) => { e.preventDefault(); search(false); });
  $('people-more').addEventListener('click', () => search(true));

  return { show, showPeople, get shown() { return shown; }, navigate };
}

function plural(n, word) {
  return n + ' ' + word + (n === 1 ? '' : 's');
}
