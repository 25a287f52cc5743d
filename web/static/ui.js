// Small DOM helpers. Text always goes in through textContent, never HTML,
// so names and titles cannot inject markup.

export const $ = (id) => document.getElementById(id);

/** h('li', {class: 'x', dataset: {a: 1}}, child, 'text') */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  el.append(...children.filter((c) => c != null && c !== false));
  return el;
}

/**
 * Updates list's children in place to match items: keeps the element of
 * each key (so focus and animations survive a refresh), makes missing ones
 * with create(item) and refreshes each with update(el, item).
 */
export function reconcile(list, items, key, create, update) {
  const old = new Map([...list.children].map((el) => [el.dataset.key, el]));
  let at = list.firstElementChild;
  for (const item of items) {
    const k = key(item);
    let el = old.get(k);
    if (el) old.delete(k);
    else {
      el = create(item);
      el.dataset.key = k;
    }
    update(el, item);
    if (el !== at) list.insertBefore(el, at);
    else at = at.nextElementSibling;
  }
  for (const el of old.values()) el.remove();
}

const MAX_TOASTS = 3;

/** A short message in the corner, read out by screen readers, gone after a while. */
export function toast(text, kind = 'info', ms = 6000) {
  const box = $('toasts');
  const t = h('div', { class: 'toast toast-' + kind }, text);
  box.append(t);
  // A few at a time, so a busy room does not bury the page on a phone.
  while (box.children.length > MAX_TOASTS) box.firstElementChild.remove();
  setTimeout(() => t.remove(), ms);
}

export function initials(name) {
  const parts = String(name || '?').trim().split(/\s+/).filter(Boolean);
  const first = [...(parts[0] || '?')][0];
  const last = parts.length > 1 ? [...parts[parts.length - 1]][0] : '';
  return (first + last).toUpperCase();
}

export function setText(id, text) {
  $(id).textContent = text;
}

/** Shows one view (section) and hides the others; focuses its heading for screen readers. */
export function showView(name, focus = true) {
  for (const v of document.querySelectorAll('.view')) v.hidden = v.id !== 'view-' + name;
  if (focus) document.querySelector('#view-' + name + ' h1')?.focus({ preventScroll: true });
}
