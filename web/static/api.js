// REST client for /api/v1 (docs/api.md) and the sign-in session.

const SESSION_KEY = 'parley.session';

/** An API failure: HTTP status (0 when the server could not be reached) and the error code. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code);
    this.status = status;
    this.code = code;
  }
}

// The session lives in sessionStorage, which is per tab: two windows can be
// two different people, which is how you try a room on your own.
export const auth = {
  /** @returns {{token: string, expires_at: string, member: {id: string, display_name: string}} | null} */
  get() {
    try {
      const s = JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null');
      if (!s || !s.token) return null;
      if (s.expires_at && Date.parse(s.expires_at) <= Date.now()) {
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
};

/**
 * Makes the API client. onError(err) sees every failure (the app records the
 * codes for tests); onUnauthorized(code) is called on any 401, after which
 * the token is gone.
 */
export function createApi({ onError, onUnauthorized }) {
  async function request(method, path, body) {
    const headers = { Accept: 'application/json' };
    const s = auth.get();
    if (s) headers.Authorization = 'Bearer ' + s.token;
    const init = { method, headers, cache: 'no-store' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch('/api/v1' + path, init);
    } catch {
      throw fail(new ApiError(0, 'network', 'Cannot reach the server.'));
    }
    const data = await res.json().catch(() => null);
    if (res.ok) return data;
    const e = data && data.error;
    const err = new ApiError(res.status, e?.code || 'http_' + res.status, e?.message || res.statusText);
    if (Array.isArray(e?.fields)) err.fields = e.fields; // validation_failed: every wrong field
    if (res.status === 401) {
      auth.clear();
      onUnauthorized(err.code);
    }
    throw fail(err);
  }
  function fail(err) {
    onError(err);
    return err;
  }

  return {
    /** Any request under /api/v1, for the modules that own their routes (chat.js, events.js). */
    request,
    /** POST /auth/dev; stores and returns the session. */
    async signIn(displayName) {
      const s = await request('POST', '/auth/dev', { display_name: displayName });
      auth.set({ token: s.token, expires_at: s.expires_at, member: s.member });
      return auth.get();
    },
    listRooms: () => request('GET', '/rooms?limit=100'),
    getRoom: (id) => request('GET', '/rooms/' + encodeURIComponent(id)),
    createRoom: (title, description) =>
      request('POST', '/rooms', description ? { title, description } : { title }),
    // No body: the endpoint takes none, and a JSON body of {} would need a
    // Content-Type for nothing.
    endRoom: (id) => request('POST', '/rooms/' + encodeURIComponent(id) + '/end'),
  };
}
