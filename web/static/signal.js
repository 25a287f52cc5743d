// The signaling WebSocket (docs/protocol.md): JSON envelopes
// {type, id, payload} out, {type, reply_to, seq, payload} in.

/** The signaling URL on this page's own origin: ws: for http:, wss: for https:. */
export function signalURL(loc = location) {
  return (loc.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + loc.host + '/api/v1/signal';
}

export class Signal {
  /**
   * Opens the socket at once. onMessage(msg) gets every decoded message;
   * onClose(event) is called when the server or the network closed the
   * socket, never after our own close().
   */
  constructor(token, { onMessage, onClose, url = signalURL() }) {
    this.nextId = 1;
    // Browsers cannot set an Authorization header on a WebSocket, so the
    // token rides in a second subprotocol; the server never echoes it.
    this.ws = new WebSocket(url, ['parley.v1', 'parley-token.' + token]);
    this.ws.onmessage = (ev) => {
      if (typeof ev.data !== 'string') return;
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        console.warn('parley: undecodable message', ev.data);
        return;
      }
      if (msg && typeof msg.type === 'string') onMessage(msg);
    };
    this.ws.onclose = (ev) => onClose(ev);
  }

  get open() { return this.ws.readyState === WebSocket.OPEN; }

  /** Sends a message and returns its id (for matching reply_to), or null if the socket is not open. */
  send(type, payload = {}) {
    if (!this.open) return null;
    const id = String(this.nextId++);
    this.ws.send(JSON.stringify({ type, id, payload }));
    return id;
  }

  /** Closes the socket; no more messages or onClose are delivered. */
  close(code = 1000, reason = '') {
    this.ws.onmessage = null;
    this.ws.onclose = null;
    if (this.ws.readyState === WebSocket.CONNECTING || this.ws.readyState === WebSocket.OPEN) {
      this.ws.close(code, reason);
    }
  }
}
