// The moderators' tile menus (a button on a participant's tile opens the
// actions allowed on them) and the confirm dialog of a removal. The ids and
// data-testids are listed in app.js.

import { $, setText, toast } from './ui.js';
import { actionMessage } from './stage.js';

export function createTileMenus({ session }) {
  let open = null; // the open tile menu: {el, btn, menu}
  let confirmed = null; // what the confirm dialog's OK does

  function onTilesClick(e) {
    const s = session();
    if (!s) return;
    const more = e.target.closest('.tile-more');
    if (more) {
      const el = more.closest('.tile');
      if (open?.el === el) closeMenu(true);
      else openMenu(el);
      return;
    }
    const item = e.target.closest('button[data-action]');
    if (item) {
      closeMenu(!!item.closest('.tile-menu'));
      onParticipantAction(item.dataset.userId, item.dataset.action);
    }
  }

  function onParticipantAction(userId, action) {
    const s = session();
    const p = s?.participants.get(userId);
    if (!p) return;
    if (action === 'remove' || action === 'remove_block') return confirmRemove(p, action === 'remove_block');
    const { type, payload } = actionMessage(action, userId);
    s.act(type, payload).then(
      () => action === 'invite' && toast(`Invited ${p.display_name} to speak.`),
      () => {}, // shown already
    );
  }

  function openMenu(el) {
    closeMenu(false);
    const btn = el.querySelector('.tile-more');
    const menu = el.querySelector('.tile-menu');
    menu.hidden = false;
    btn.setAttribute('aria-expanded', 'true');
    open = { el, btn, menu };
    placeMenu();
    menu.querySelector('.menu-item:not([hidden])')?.focus({ preventScroll: true });
  }

  // The open menu is fixed, under its button and kept on screen, so a tile
  // at the edge of a phone's screen still shows all of it. It follows its
  // button when the page scrolls or the window changes size.
  function placeMenu() {
    const m = open;
    if (!m) return;
    const r = m.btn.getBoundingClientRect();
    const w = m.menu.offsetWidth;
    const ht = m.menu.offsetHeight;
    const left = Math.max(8, Math.min(r.right - w, window.innerWidth - w - 8));
    let top = r.bottom + 4;
    if (top + ht > window.innerHeight - 8 && r.top - ht - 4 >= 8) top = r.top - ht - 4;
    m.menu.style.left = left + 'px';
    m.menu.style.top = top + 'px';
  }

  function closeMenu(refocus) {
    const m = open;
    if (!m) return;
    open = null;
    m.menu.hidden = true;
    m.btn.setAttribute('aria-expanded', 'false');
    if (refocus && m.btn.isConnected && !m.btn.hidden) m.btn.focus();
  }

  function onMenuKey(e) {
    if (!open) return;
    if (e.key === 'Escape') {
      e.preventDefault();
      closeMenu(true);
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      const items = [...open.menu.querySelectorAll('.menu-item:not([hidden]):not(:disabled)')];
      if (!items.length) return;
      e.preventDefault();
      const i = items.indexOf(document.activeElement);
      const next = e.key === 'ArrowDown' ? (i + 1) % items.length : (i <= 0 ? items.length - 1 : i - 1);
      items[next].focus();
    } else if (e.key === 'Tab') {
      closeMenu(false);
    }
  }

  function confirmRemove(p, block) {
    const s = session();
    const d = $('confirm-dialog');
    setText('confirm-title', block ? `Remove and block ${p.display_name}?` : `Remove ${p.display_name}?`);
    setText('confirm-text', block
      ? "They leave the room now and can't rejoin it."
      : 'They leave the room now. They can join it again.');
    $('confirm-ok').textContent = block ? 'Remove and block' : 'Remove';
    $('confirm-ok').dataset.action = block ? 'remove_block' : 'remove';
    confirmed = () => s.act('remove', block ? { user_id: p.user_id, block: true } : { user_id: p.user_id })
      .then(() => toast(`${p.display_name} was removed${block ? ' and blocked' : ''}.`), () => {});
    if (typeof d.showModal === 'function') d.showModal();
    else d.setAttribute('open', '');
    $('confirm-cancel').focus();
  }

  function closeConfirm() {
    confirmed = null;
    const d = $('confirm-dialog');
    if (d.open) {
      if (typeof d.close === 'function') d.close();
      else d.removeAttribute('open');
    }
  }

  function onConfirmOk() {
    const run = confirmed;
    closeConfirm();
    if (run && session()) run();
  }

  /** Listens on the tile lists (ids) and the page. */
  function wire(listIds) {
    for (const id of listIds) $(id).addEventListener('click', onTilesClick);
    document.addEventListener('keydown', onMenuKey);
    // A click anywhere else closes an open tile menu.
    document.addEventListener('click', (e) => {
      if (open && !open.el.contains(e.target)) closeMenu(false);
    });
    window.addEventListener('resize', placeMenu);
    window.addEventListener('scroll', placeMenu, { passive: true });
    $('confirm-ok').addEventListener('click', onConfirmOk);
    $('confirm-cancel').addEventListener('click', closeConfirm);
    $('confirm-dialog').addEventListener('close', () => { confirmed = null; });
  }

  return {
    wire,
    /** Closes the menu and the confirm dialog (leaving the room). */
    close() {
      closeMenu(false);
      closeConfirm();
    },
    /** Closes the menu if its tile has left the page. */
    closeIfGone() {
      if (open && !open.el.isConnected) closeMenu(false);
    },
    /** Closes the menu if it is el's (whose actions are gone). */
    closeOn(el) {
      if (open?.el === el) closeMenu(false);
    },
  };
}
