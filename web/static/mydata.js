// "Your data", on your own profile page: download everything the server
// keeps about you (GET /api/v1/me/export), and delete your account
// (DELETE /api/v1/me), as docs/api.md ("Your data") describes.
//
// Test hooks (element ids, each also a data-testid):
//   data-card (shown on your own profile only); data-export (the download
//   button), data-export-status (what the download did: "Downloaded
//   parley-export-….zip (12 KB)."); delete-open (shows the form),
//   delete-form with delete-password (hidden for an account without a
//   password), delete-confirm (the checkbox), delete-submit, delete-cancel,
//   delete-error; after a deletion the view 'deleted' (view-deleted, with
//   deleted-note).
// window.__parley.lastExport: {name, size} of the last archive downloaded.

import { $, h, setText } from './ui.js';

/**
 * Makes the panel. api is the REST client (api.js), auth its session
 * store; onDeleted(pending) is called once the account is gone, to sign
 * out here and say so (pending: some of its data is still being erased).
 */
export function createMyData({ api, auth, onDeleted }) {
  let lastExport = null;

  /** Shows the panel on your own profile, hides it on anyone else's. */
  function show(own) {
    $('data-card').hidden = !own;
    if (!own) return;
    closeForm();
    setText('data-export-status', '');
    // An account of the development sign-in has no password (and no
    // refresh token): its token alone deletes it.
    const hasPassword = !!auth.get()?.refresh_token;
    $('delete-password-row').hidden = !hasPassword;
  }

  async function onExport() {
    const btn = $('data-export');
    btn.disabled = true;
    setText('data-export-status', 'Preparing your archive…');
    try {
      const { blob, name } = await download();
      save(blob, name);
      lastExport = { name, size: blob.size };
      setText('data-export-status', `Downloaded ${name} (${size(blob.size)}).`);
    } catch (err) {
      if (err.status === 401) return;
      setText('data-export-status', 'Could not download your data: ' + err.message);
    } finally {
      btn.disabled = false;
    }
  }

  // The archive comes with the bearer token in a header, never in a URL,
  // so it is fetched here and handed to the browser as a file.
  async function download() {
    const get = async () => fetch('/api/v1/me/export', {
      headers: { Authorization: 'Bearer ' + (await api.token()) }, cache: 'no-store',
    });
    let res = await get().catch(() => null);
    if (res?.status === 401 && (await api.refresh())) res = await get().catch(() => null);
    if (!res) throw Object.assign(new Error('Cannot reach the server.'), { status: 0 });
    if (!res.ok) {
      const e = (await res.json().catch(() => null))?.error;
      throw Object.assign(new Error(e?.message || res.statusText), { status: res.status, code: e?.code });
    }
    const blob = await res.blob();
    const m = /filename="([^"]+)"/.exec(res.headers.get('Content-Disposition') || '');
    return { blob, name: m ? m[1] : 'parley-export.zip' };
  }

  function save(blob, name) {
    const url = URL.createObjectURL(blob);
    const a = h('a', { href: url, download: name, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    // The download has its own copy once it started.
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }

  function openForm() {
    $('delete-form').hidden = false;
    $('delete-open').hidden = true;
    $('delete-confirm').checked = false;
    $('delete-password').value = '';
    showError('');
    ($('delete-password-row').hidden ? $('delete-confirm') : $('delete-password')).focus();
  }

  function closeForm() {
    $('delete-form').hidden = true;
    $('delete-open').hidden = false;
    $('delete-password').value = '';
  }

  function showError(text) {
    const el = $('delete-error');
    el.textContent = text;
    el.hidden = !text;
  }

  async function onDelete(e) {
    e.preventDefault();
    const needsPassword = !$('delete-password-row').hidden;
    const password = $('delete-password').value;
    if (needsPassword && !password) return showError('Enter your password to confirm.');
    if (!$('delete-confirm').checked) return showError('Tick the box to confirm that you understand.');
    const btn = $('delete-submit');
    btn.disabled = true;
    try {
      // 204 (null): all erased; 202: deleted, the rest erased shortly.
      const pending = (await api.deleteAccount(needsPassword ? password : '')) !== null;
      $('delete-password').value = '';
      onDeleted(pending);
    } catch (err) {
      if (err.status === 401) return; // signed out already; the app says why
      showError({
        wrong_password: 'That is not your password. Nothing was deleted.',
        rate_limited: `Too many attempts. Try again in ${err.retryAfter || 60} seconds.`,
      }[err.code] || (err.fields?.[0]?.message ? 'Password ' + err.fields[0].message + '.' : err.message));
    } finally {
      btn.disabled = false;
    }
  }

  $('data-export').addEventListener('click', onExport);
  $('delete-open').addEventListener('click', openForm);
  $('delete-cancel').addEventListener('click', closeForm);
  $('delete-form').addEventListener('submit', onDelete);

  return {
    show,
    get lastExport() { return lastExport; },
  };
}

function size(bytes) {
  if (bytes < 1024) return bytes + ' bytes';
  if (bytes < 1024 * 1024) return Math.round(bytes / 1024) + ' KB';
  return (bytes / 1024 / 1024).toFixed(1) + ' MB';
}
