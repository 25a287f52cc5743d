// The stage's rules as the client needs them (docs/stage.md): who is on
// stage, the queue of raised hands, and which moderation actions to offer
// on whom. The server checks every action; this only keeps the page from
// offering what it would refuse. Pure functions, no DOM.

export const ROLES = ['moderator', 'speaker', 'listener'];

export function isOnStage(p) {
  return !!p && (p.role === 'moderator' || p.role === 'speaker');
}

export function handRaised(p) {
  return !!p && p.hand_raised_seq > 0;
}

/** Raised hands, first raised first (lowest hand_raised_seq). */
export function handQueue(participants) {
  return [...participants].filter(handRaised).sort((a, b) => a.hand_raised_seq - b.hand_raised_seq);
}

/** Everyone on stage: moderators first, then speakers, each in join order. */
export function stageOrder(participants) {
  const rank = (p) => (p.role === 'moderator' ? 0 : 1);
  // sort is stable, so join order holds within each role.
  return [...participants].filter(isOnStage).sort((a, b) => rank(a) - rank(b));
}

/** The audience, in join order. */
export function audienceOf(participants) {
  return [...participants].filter((p) => !isOnStage(p));
}

/**
 * The actions on someone's tile menu, in menu order. Each is the protocol's
 * action name, except 'remove_block' (remove with block: true).
 *
 * me: our own participant record; target: theirs; creatorId: the room's
 * creator (room.created_by.id).
 *
 * A moderator acts on speakers and listeners; only the creator also on
 * other moderators; no one on the creator, and no one on themselves here
 * (stepping down and muting yourself have their own buttons).
 */
export function actionsOn(me, target, creatorId) {
  if (!me || !target || me.role !== 'moderator' || me.user_id === target.user_id) return [];
  const isCreator = me.user_id === creatorId;
  const onCreator = target.user_id === creatorId;
  if (target.role === 'listener') {
    // Inviting the creator is the one action on them we offer: having
    // stepped down, it is their only way back on stage short of leaving and
    // joining again, and the server allows it.
    const out = target.invited ? [] : ['invite'];
    return onCreator ? out : [...out, 'remove', 'remove_block'];
  }
  if (onCreator) return [];
  if (target.role === 'moderator' && !isCreator) return [];
  const out = ['move_to_audience'];
  if (target.role === 'speaker') out.push('make_moderator');
  if (!target.muted) out.push('mute');
  out.push('remove', 'remove_block');
  return out;
}

/** The test id and label of each tile action. */
export const ACTION_UI = {
  invite: { testid: 'invite', label: 'Invite to speak' },
  move_to_audience: { testid: 'move-to-audience', label: 'Move to audience' },
  make_moderator: { testid: 'make-moderator', label: 'Make moderator' },
  mute: { testid: 'mute-participant', label: 'Mute' },
  remove: { testid: 'remove', label: 'Remove from room' },
  remove_block: { testid: 'remove-block', label: 'Remove and block' },
};

/** The protocol message for a tile action on userId. */
export function actionMessage(action, userId) {
  if (action === 'remove_block') return { type: 'remove', payload: { user_id: userId, block: true } };
  return { type: action, payload: { user_id: userId } };
}

/** 1 → '1st', 2 → '2nd', 11 → '11th' … */
export function ordinal(n) {
  const s = ['th', 'st', 'nd', 'rd'];
  const v = n % 100;
  return n + (s[(v - 20) % 10] || s[v] || s[0]);
}
