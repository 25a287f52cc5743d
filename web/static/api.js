// REST client for /api/v1 (docs/api.md) and the sign-in session.

import { accountCalls } from './auth-api.js';

const SESSION_KEY = 'parley.session';

// Refresh the access token this long before it expires, so that a request
// or a signaling reconnect never carries one about to lapse.
const REFRESH_AHEAD_MS = 60 * 1000;

/** An API failure: HTTP status (0 when the server could not be reached) and the error code. */
export class ApiError extends Error {
  constructor(status, code, message, fields, retryAfter) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.fields = fields || []; // validation_failed: [{field, message}]
    this.retryAfter = retryAfter || 0; // rate_limited: seconds to wait
  }
}

// The session lives in sessionStorage, which is per tab: two windows can be
// two different people, which is how you try a room on your own.
//
// A signed-in session is {token, expires_at, refresh_token,
// refresh_expires_at, session_id, member}; the development sign-in's has
// no refresh token, and ends with its token.
export const auth = {
  /** @returns {{token: string, expires_at: string, refresh_token?: string, member: {id: string, display_name: string, admin?: boolean}} | null} */
  get() {
    try {
      const s = JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null');
      if (!s || !s.token) return null;
      const ends = s.refresh_token ? s.refresh_expires_at : s.expires_at;
      if (ends && Date.parse(ends) <= Date.now()) {
        sessionStorage.removeItem(SESSION_KEY);
        return null;
      }
      return s;
    } catch {
      return null;
    }
  },
  set(s) { sessionStorage.setItem(SESSION_KEY, JSON.stringify(s)); },
  clear() { sessionStorage.removeItem(SESSION_KEY); },
  /** Whether the access token is expired, or will be within ms. */
  stale(s, ms = 0) { return !!s && Date.parse(s.expires_at) - ms <= Date.now(); },
};

/**
 * Makes the API client. onError(err) sees every failure (the app records the
 * codes for tests); onUnauthorized(code) is called on any 401 of a signed-in
 * request that a refresh could not mend, after which the session is gone.
 */
export function createApi({ onError, onUnauthorized }) {
  let refreshing = null; // the refresh in flight, shared by everyone who needs it

  /** Exchanges the refresh token for new tokens, once however many ask. Resolves to whether it worked. */
  function refresh() {
    const s = auth.get();
    if (!s?.refresh_token) return Promise.resolve(false);
    if (!refreshing) {
      refreshing = (async () => {
        try {
          const next = await send('POST', '/auth/refresh', { refresh_token: s.refresh_token }, false);
          // Another sign-in may have replaced the session meanwhile.
          if (auth.get()?.session_id === s.session_id) auth.set(next);
          return true;
        } catch (err) {
          if (err.status === 401 && auth.get()?.session_id === s.session_id) {
            auth.clear();
            onUnauthorized(err.code);
          }
          return false;
        } finally {
          refreshing = null;
        }
      })();
    }
    return refreshing;
  }

  /** The access token, refreshed first when it is about to expire; null when signed out. */
  async function token() {
    let s = auth.get();
    if (s && s.refresh_token && auth.stale(s, REFRESH_AHEAD_MS)) {
      await refresh();
      s = auth.get();
    }
    return s ? s.token : null;
  }

  async function send(method, path, body, signedIn) {
    const headers = { Accept: 'application/json' };
    if (signedIn) {
      const t = await token();
      if (t) headers.Authorization = 'Bearer ' + t;
    }
    const init = { method, headers, cache: 'no-store' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch('/api/v1' + path, init);
    } catch {
      throw new ApiError(0, 'network', 'Cannot reach the server.');
    }
    if (res.status === 204) return null;
    const data = await res.json().catch(() => null);
    if (res.ok) return data;
    const e = data && data.error;
    throw new ApiError(res.status, e?.code || 'http_' + res.status, e?.message || res.statusText, e?.fields,
      Number(res.headers.get('Retry-After')) || 0);
  }

  /** A request as the signed-in member (signedIn), or as no one. */
  async function request(method, path, body, signedIn = true) {
    try {
      return await send(method, path, body, signedIn);
    } catch (err) {
      // An access token that expired in flight: refresh once and retry.
      if (signedIn && err.code === 'token_expired' && (await refresh())) {
        try {
          return await send(method, path, body, signedIn);
        } catch (again) {
          err = again;
        }
      }
      if (signedIn && err.status === 401 && auth.get()) {
        auth.clear();
        onUnauthorized(err.code);
      }
      onError(err);
      throw err;
    }
  }

  return {
    /** Any request under /api/v1, for the modules that own their routes (chat.js, events.js). */
    request,
    /** POST /auth/dev; stores and returns the session. */
    async signIn(displayName) {
      const s = await request('POST', '/auth/dev', { display_name: displayName }, false);
      auth.set({ token: s.token, expires_at: s.expires_at, member: s.member });
      return auth.get();
    },
    /** The access token to use now, refreshed if it is about to expire (signaling). */
    token,
    refresh,
    listRooms: () => request('GET', '/rooms?limit=100'),
    getRoom: (id) => request('GET', '/rooms/' + encodeURIComponent(id)),
    createRoom: (title, description, visibility = 'open') =>
      request('POST', '/rooms', description ? { title, description, visibility } : { title, visibility }),
    // No body: the endpoint takes none, and a JSON body of {} would need a
    // Content-Type for nothing.
    endRoom: (id) => request('POST', '/rooms/' + encodeURIComponent(id) + '/end'),
    // Profiles, follows, blocks and the member directory (docs/api.md, "Members").
    ownProfile: () => request('GET', '/me/profile'),
    updateProfile: (fields) => request('PATCH', '/me/profile', fields),
    profile: (id) => request('GET', '/members/' + encodeURIComponent(id)),
    follow: (id, on) => request(on ? 'POST' : 'DELETE', '/members/' + encodeURIComponent(id) + '/follow'),
    block: (id, on) => request(on ? 'POST' : 'DELETE', '/members/' + encodeURIComponent(id) + '/block'),
    blocks: () => request('GET', '/me/blocks?limit=100'),
    searchMembers: (q, cursor) =>
      request('GET', '/members?q=' + encodeURIComponent(q) + (cursor ? '&cursor=' + encodeURIComponent(cursor) : '')),
    // Who may enter a room (its hosts only).
    setVisibility: (roomId, visibility) => request('PUT', '/rooms/' + encodeURIComponent(roomId) + '/visibility', { visibility }),
    invitees: (roomId) => request('GET', '/rooms/' + encodeURIComponent(roomId) + '/invitees?limit=100'),
    invite: (roomId, memberId, on) =>
      request(on ? 'PUT' : 'DELETE', '/rooms/' + encodeURIComponent(roomId) + '/invitees/' + encodeURIComponent(memberId)),
    // A guest pass to an open room, for someone without an account.
    guestToken: (roomId) => request('POST', '/rooms/' + encodeURIComponent(roomId) + '/guest-token', undefined, false),
    ...accountCalls(request, auth),
  };
}
