// Events (scheduled rooms, docs/api.md "Events") on the room list: the
// upcoming ones, RSVPs, starting one (its host and co-hosts), cancelling
// (its host), and the form that schedules one with co-hosts.

import { $, h, reconcile } from './ui.js';

/**
 * createEvents({api, me, navigate, toast}) returns the list's events
 * controller. me() is the signed-in member or null.
 */
export function createEvents({ api, me, navigate, toast }) {
  let events = [];
  let gen = 0;

  const isHost = (ev, id) => ev.host.id === id || ev.cohosts.some((c) => c.id === id);

  function render() {
    const id = me()?.id;
    reconcile($('event-list'), events, (ev) => ev.id, item, (el, ev) => update(el, ev, id));
    $('events-empty').hidden = events.length > 0;
    setMyID();
  }

  function item(ev) {
    return h('li', { class: 'event card', dataset: { testid: 'event-item', eventId: ev.id } },
      h('div', { class: 'event-main' },
        h('h3', { class: 'event-title' }),
        h('p', { class: 'muted event-when' }, h('time')),
        h('p', { class: 'muted event-hosts' }),
        h('p', { class: 'event-about' }),
        h('p', { class: 'event-rsvps' })),
      h('div', { class: 'event-actions' },
        h('button', { type: 'button', class: 'btn btn-small', 'aria-pressed': 'false', dataset: { testid: 'event-rsvp', eventId: ev.id, action: 'rsvp' } }, 'RSVP'),
        h('button', { type: 'button', class: 'btn btn-small btn-primary', hidden: true, dataset: { testid: 'event-start', eventId: ev.id, action: 'start' } }, 'Start'),
        h('button', { type: 'button', class: 'btn btn-small btn-danger', hidden: true, dataset: { testid: 'event-cancel', eventId: ev.id, action: 'cancel' } }, 'Cancel')));
  }

  function update(el, ev, myID) {
    el.querySelector('.event-title').textContent = ev.title;
    const t = el.querySelector('time');
    t.textContent = new Date(ev.starts_at).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
    t.setAttribute('datetime', ev.starts_at);
    const hosts = [ev.host, ...ev.cohosts].map((m) => m.display_name).join(', ');
    el.querySelector('.event-hosts').textContent = (ev.cohosts.length ? 'Hosts: ' : 'Host: ') + hosts;
    el.querySelector('.event-about').textContent = ev.description || '';
    el.querySelector('.event-rsvps').textContent = ev.rsvp_count === 1 ? '1 going' : `${ev.rsvp_count} going`;
    const rsvp = el.querySelector('[data-action=rsvp]');
    rsvp.setAttribute('aria-pressed', String(ev.rsvped));
    rsvp.textContent = ev.rsvped ? 'Going ✓' : 'RSVP';
    rsvp.setAttribute('aria-label', (ev.rsvped ? 'Cancel your RSVP to ' : 'RSVP to ') + ev.title);
    el.querySelector('[data-action=start]').hidden = !isHost(ev, myID);
    el.querySelector('[data-action=cancel]').hidden = ev.host.id !== myID;
  }

  function setMyID() {
    const id = me()?.id || '';
    $('my-member-id').textContent = id;
  }

  async function refresh() {
    const g = ++gen;
    setMyID(); // at once: it needs no answer from the server
    try {
      const data = await api.request('GET', '/events?limit=50');
      if (g !== gen) return;
      events = data.events || [];
      render();
    } catch (err) {
      if (g === gen && err.status !== 401) $('events-status').textContent = 'Could not load the events: ' + err.message;
    }
  }

  function replace(ev) {
    if (ev.status === 'scheduled') events = events.map((e) => (e.id === ev.id ? ev : e));
    else events = events.filter((e) => e.id !== ev.id);
    render();
  }

  async function onClick(e) {
    const b = e.target.closest('button[data-action]');
    if (!b) return;
    const ev = events.find((x) => x.id === b.dataset.eventId);
    if (!ev) return;
    const path = '/events/' + encodeURIComponent(ev.id);
    b.disabled = true;
    try {
      switch (b.dataset.action) {
        case 'rsvp':
          replace(await api.request(ev.rsvped ? 'DELETE' : 'PUT', path + '/rsvp'));
          break;
        case 'start': {
          const out = await api.request('POST', path + '/start');
          navigate('/rooms/' + encodeURIComponent(out.room.id));
          return;
        }
        case 'cancel':
          replace(await api.request('POST', path + '/cancel'));
          toast(`${ev.title} is cancelled.`);
          break;
      }
    } catch (err) {
      if (err.status !== 401) toast(err.message, 'error');
      refresh();
    } finally {
      b.disabled = false;
    }
  }

  async function onSchedule(e) {
    e.preventDefault();
    const error = $('event-error');
    const local = $('event-starts-at').value; // a local date-time, "2026-11-21T18:00"
    const body = {
      title: $('event-title').value.trim(),
      description: $('event-description').value.trim(),
      starts_at: local ? new Date(local).toISOString() : '',
      cohosts: $('event-cohosts').value.split(/[\s,]+/).filter(Boolean),
    };
    if (!body.starts_at) delete body.starts_at;
    const button = $('event-create');
    button.disabled = true;
    try {
      const ev = await api.request('POST', '/events', body);
      error.hidden = true;
      $('event-form').reset();
      toast(`${ev.title} is scheduled.`);
      refresh();
    } catch (err) {
      if (err.status !== 401) {
        // A validation error names each wrong field; show them all.
        const fields = err.fields?.map((f) => `${f.field}: ${f.message}`).join('; ');
        error.textContent = fields || err.message;
        error.hidden = false;
      }
    } finally {
      button.disabled = false;
    }
  }

  $('event-list').addEventListener('click', onClick);
  $('event-form').addEventListener('submit', onSchedule);

  return {
    refresh,
    /** For tests: the upcoming events as listed. */
    state: () => events.map((ev) => ({ id: ev.id, title: ev.title, rsvped: ev.rsvped, rsvp_count: ev.rsvp_count })),
  };
}
