// Accounts in the browser: sign in with a password, sign up (with an invite
// code from a link, or onto the waitlist), keep the access token fresh with
// the refresh token, and the pages of a signed-in member (auth-invites.js,
// auth-admin.js).
//
// Views (window.__parley.state): 'signin', 'signup', 'invites', 'waitlist'.
// Paths: /signup, /join?invite=CODE (an invite link: sign-up with the code
// filled in), /invites, /admin/waitlist (admins).
//
// ---- Hooks for automated browser tests (keep them stable) ----
// Element ids (each also has the same data-testid):
//   signin-username, signin-password, signin-submit, password-error,
//   to-signup; dev-signin (the development sign-in form, shown only while
//   the server has it on: signin-name, signin-button)
//   signup-username, signup-display-name, signup-password, signup-invite,
//   signup-submit, signup-error, signup-<field>-error (username,
//   display-name, password, invite), signup-waitlisted, to-signin
//   nav-invites, nav-waitlist (admins only), signout
//   invites page: invite-quota, invite-create, invite-new holding
//     invite-link (the link, shown once) and invite-copy; invite-list of
//     li[data-testid=invite-item][data-invite-id][data-state], each active
//     one with button[data-testid=invite-revoke]; letin-username,
//     letin-submit, letin-error; signout-all
//   waitlist page: waitlist-list of li[data-testid=waitlist-item]
//     [data-user-id][data-username], each with
//     button[data-testid=waitlist-approve]; waitlist-empty
// -------------------------------------------------------------

import { auth } from './api.js';
import { createInvitesView } from './auth-invites.js';
import { createWaitlistView } from './auth-admin.js';
import { busy, formError } from './auth-ui.js';
import { $, toast, setText } from './ui.js';

// How often the tab checks whether its access token needs refreshing; the
// client refreshes it a minute before it expires.
const KEEP_FRESH_MS = 20 * 1000;

/**
 * Wires the account pages. app gives: api, setView(name), navigate(path),
 * route(), signedOut(message) (forget the session and show the sign-in).
 */
export function createAccounts(app) {
  const { api } = app;
  const invites = createInvitesView(app);
  const waitlist = createWaitlistView(app);

  // ---- sign in

  async function onPasswordSignIn(e) {
    e.preventDefault();
    const username = $('signin-username').value.trim();
    const password = $('signin-password').value;
    if (!username || !password) return formError('password-error', 'Enter your username and password.');
    await busy('signin-submit', async () => {
      try {
        await api.signInWithPassword(username, password);
        $('signin-password').value = '';
        formError('password-error', '');
        app.route();
      } catch (err) {
        formError('password-error', signInMessage(err));
      }
    });
  }

  function signInMessage(err) {
    switch (err.code) {
      case 'invalid_credentials': return 'Wrong username or password.';
      case 'waitlisted': return 'Your account is still on the waitlist. You can sign in once an admin or a member lets you in.';
      case 'rate_limited': return `Too many attempts. Try again in ${waitFor(err.retryAfter)}.`;
      case 'validation_failed': return 'Enter your username and password.';
      default: return err.message;
    }
  }

  // The development sign-in's form shows only while the server has it on.
  // An empty body tells without creating anyone: 400 when on, 404 when
  // off. A plain fetch, so that the answer is not counted as an error.
  async function probeDevSignIn() {
    try {
      const res = await fetch('/api/v1/auth/dev', {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}', cache: 'no-store',
      });
      $('signin-form').hidden = res.status === 404;
    } catch {
      // The server is unreachable; the sign-in form will say so.
    }
  }

  // ---- sign up

  function showSignUp() {
    app.setView('signup');
    document.title = 'Sign up · Parley';
    const params = new URLSearchParams(location.search);
    const code = (params.get('invite') || '').trim();
    if (code) {
      $('signup-invite').value = code;
      // The code stays in the form, not in the address bar or history.
      history.replaceState(null, '', location.pathname + location.hash);
    }
    const invited = !!$('signup-invite').value.trim();
    setText('signup-lede', invited
      ? 'You were invited. Choose a username and a password, and you are in.'
      : 'Parley is by invitation. With an invite code you are in at once; without one you join the waitlist, and your username is kept for you.');
    $('signup-form').hidden = false;
    $('signup-waitlisted').hidden = true;
  }

  const SIGNUP_FIELDS = ['username', 'display_name', 'password', 'invite_code'];

  function clearSignUpErrors() {
    for (const f of SIGNUP_FIELDS) fieldError(f, '');
    formError('signup-error', '');
  }

  async function onSignUp(e) {
    e.preventDefault();
    clearSignUpErrors();
    const req = {
      username: $('signup-username').value.trim(),
      display_name: $('signup-display-name').value.trim(),
      password: $('signup-password').value,
      invite_code: $('signup-invite').value.trim(),
    };
    await busy('signup-submit', async () => {
      try {
        const r = await api.signUp(req);
        $('signup-password').value = '';
        if (r.session) {
          $('signup-form').reset();
          toast(`Welcome, ${r.session.member.display_name}.`);
          app.navigate('/');
          return;
        }
        $('signup-form').hidden = true;
        $('signup-waitlisted').hidden = false;
        setText('signup-waitlisted-text', `Your username @${r.waitlisted.username} is kept for you. ` +
          'An admin, or a member with an invite to spare, can let you in; then sign in with your password.');
      } catch (err) {
        showSignUpError(err);
      }
    });
  }

  function showSignUpError(err) {
    if (err.code === 'validation_failed' && err.fields.length) {
      for (const f of err.fields) {
        if (SIGNUP_FIELDS.includes(f.field)) fieldError(f.field, capitalize(f.message));
        else formError('signup-error', err.message);
      }
      return;
    }
    const onField = {
      username_taken: ['username', 'That username is taken. Try another.'],
      invite_invalid: ['invite_code', 'This invite code is not valid. Check it for typos.'],
      invite_used: ['invite_code', 'This invite has already been used. Ask for a new one.'],
      invite_expired: ['invite_code', 'This invite has expired. Ask for a new one.'],
      invite_revoked: ['invite_code', 'This invite was withdrawn by the person who gave it.'],
    }[err.code];
    if (onField) fieldError(onField[0], onField[1]);
    else formError('signup-error', err.message);
  }

  function fieldError(field, text) {
    const el = $('signup-' + field + '-error');
    el.textContent = text;
    el.hidden = !text;
    const input = $('signup-' + field.replace('display_name', 'display-name').replace('invite_code', 'invite'));
    if (text) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  }

  // ---- signed in

  function updateNav(s) {
    $('nav-waitlist').hidden = !s?.member?.admin;
    for (const id of ['nav-invites', 'nav-waitlist']) {
      const a = $(id);
      if (a.getAttribute('href') === location.pathname) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
  }

  // The access token lives 15 minutes; the refresh token gets the next
  // one a minute before, so that REST and signaling always have a fresh
  // one. A tab asleep past that refreshes on its next request instead.
  function keepFresh() {
    if (auth.get()?.refresh_token) api.token().catch(() => {});
  }

  function wire() {
    $('password-form').addEventListener('submit', onPasswordSignIn);
    $('signup-form').addEventListener('submit', onSignUp);
    invites.wire();
    waitlist.wire();
    setInterval(keepFresh, KEEP_FRESH_MS);
    document.addEventListener('visibilitychange', () => !document.hidden && keepFresh());
    probeDevSignIn();
  }

  return {
    wire,
    updateNav,
    /** Shows the signed-out page for path, if it is one of ours. */
    routeSignedOut(path) {
      if (path === '/signup' || path === '/join') {
        showSignUp();
        return true;
      }
      return false;
    },
    /** Shows the signed-in page for path, if it is one of ours. */
    routeSignedIn(path) {
      if (path === '/signup' || path === '/join') {
        toast('You are signed in already. Sign out first to use an invite.');
        history.replaceState(null, '', '/');
        return false;
      }
      if (path === '/invites') {
        invites.show();
        return true;
      }
      if (path === '/admin/waitlist') {
        waitlist.show();
        return true;
      }
      return false;
    },
  };
}

function waitFor(secs) {
  if (!secs) return 'a moment';
  return secs < 90 ? `${secs} seconds` : `${Math.ceil(secs / 60)} minutes`;
}

function capitalize(s) {
  return s ? s[0].toUpperCase() + s.slice(1) + (/[.!?]$/.test(s) ? '' : '.') : s;
}
