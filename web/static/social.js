// Small helpers of room access and guests, shared by the app and its tests.

/** The room of a guest link, /listen/{room id}, or null. */
export function guestPathRoom(path) {
  const m = path.match(/^\/listen\/([^/]+)\/?$/);
  return m ? decodeURIComponent(m[1]) : null;
}

/** The guest link of a room, on this page's origin. */
export function guestLink(roomId, origin = location.origin) {
  return origin + '/listen/' + encodeURIComponent(roomId);
}

/** A short note on who may join a room; '' for an open one. */
export function visibilityLabel(v) {
  switch (v) {
    case 'social': return 'Social: for followers of its hosts';
    case 'closed': return 'Closed: by invitation';
    default: return '';
  }
}

/** The member named by a profile path: 'me' for /me, an ID for /members/{id}, or null. */
export function memberPath(path) {
  if (path === '/me' || path === '/me/') return 'me';
  const m = path.match(/^\/members\/([^/]+)\/?$/);
  return m ? decodeURIComponent(m[1]) : null;
}

/** Why a guest pass was refused, in words. */
export function guestRefusal(err) {
  switch (err?.code) {
    case 'forbidden': return "This server doesn't let guests listen. Sign in to join the room.";
    case 'room_not_found': return 'That room does not exist, or is not open to guests.';
    case 'room_ended': return 'This room has ended.';
    case 'rate_limited': return 'Too many guest passes from here. Try again in a few minutes.';
    default: return 'Could not get a guest pass: ' + (err?.message || 'unknown error');
  }
}
