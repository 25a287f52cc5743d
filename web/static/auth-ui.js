// Small helpers of the account pages (auth*.js).

import { $ } from './ui.js';

/** Sets an element's text and hides it when there is none. */
export function formError(id, text) {
  const el = $(id);
  el.textContent = text || '';
  el.hidden = !text;
}

/** Disables the button while fn runs, so a double click does not do it twice. */
export async function busy(id, fn) {
  const b = $(id);
  b.disabled = true;
  try {
    await fn();
  } finally {
    b.disabled = false;
  }
}

/** "2026-11-21" as the reader's locale writes a date. */
export function day(iso) {
  return iso ? new Date(iso).toLocaleDateString() : '';
}
