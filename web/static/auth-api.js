// The REST calls of accounts, invites and the waitlist (docs/api.md,
// "Authentication", "Invites", "Admin"). api.js mixes them into its client:
// request(method, path, body, signedIn) is its request function, auth its
// session store.

export function accountCalls(request, auth) {
  const enc = encodeURIComponent;
  /** Keeps a session answer (sign-up, sign-in) as this tab's session. */
  const keep = (s) => {
    auth.set(s);
    return auth.get();
  };
  return {
    /**
     * POST /auth/signup. Resolves to {session} when signed in (an invite, or
     * the first account), or {waitlisted: account} when on the waitlist.
     */
    async signUp({ username, password, display_name, invite_code }) {
      const body = { username, password, display_name };
      if (invite_code) body.invite_code = invite_code;
      const r = await request('POST', '/auth/signup', body, false);
      if (r.token) return { session: keep(r) };
      return { waitlisted: r.member };
    },
    /** POST /auth/signin; stores and returns the session. */
    async signInWithPassword(username, password) {
      return keep(await request('POST', '/auth/signin', { username, password }, false));
    },
    /** POST /auth/signout, then forgets the session whatever the answer. */
    async signOut(everywhere = false) {
      try {
        if (auth.get()) await request('POST', everywhere ? '/auth/signout-all' : '/auth/signout');
      } finally {
        auth.clear();
      }
    },
    /**
     * DELETE /me: deletes the account, confirmed by its password ('' for
     * an account without one). Resolves once it is deleted; the session is
     * then worthless, and the caller forgets it.
     */
    deleteAccount: (password) => request('DELETE', '/me', password ? { password } : undefined),
    listInvites: (cursor) => request('GET', '/me/invites?limit=100' + (cursor ? '&cursor=' + enc(cursor) : '')),
    createInvite: () => request('POST', '/me/invites'),
    revokeInvite: (id) => request('DELETE', '/me/invites/' + enc(id)),
    letIn: (username) => request('POST', '/me/let-in', { username }),
    waitlist: (cursor) => request('GET', '/admin/waitlist?limit=100' + (cursor ? '&cursor=' + enc(cursor) : '')),
    approve: (userId) => request('POST', '/admin/waitlist/' + enc(userId) + '/approve'),
  };
}
