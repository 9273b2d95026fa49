/**
 * Lingering close, for requests answered before their body has all arrived (413, 503, 404, ...).
 *
 * Node ends such a connection once the answer is written and then destroys it, while the client may
 * still be sending. Data arriving at a closed socket makes the kernel reset the connection, and a
 * client that sends its whole body before it reads the answer (Python's http.client and requests,
 * often Node's fetch) then sees a broken pipe or a reset instead of the answer. Like nginx's
 * `lingering_close`, the server instead sends its answer and its FIN, reads and discards what the
 * client still sends, and closes when the client closes its side, or after `ms` at most.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

/** How long a refused request's connection is read and discarded at most after its answer. */
export const LINGER_MS = 5_000;

type Closable = Socket & { destroySoon?: () => void };
type HttpParser = { _consumed?: boolean; unconsume?: () => void };

/**
 * Stops Node's HTTP parser reading this connection, as Node itself does when a connection is
 * upgraded: what the client still sends is then only discarded, never parsed as further (pipelined)
 * requests that would be run with nobody to answer. Relies on Node's internals (the socket's `parser`
 * and its bound `socketOnData`/`socketOnEnd` listeners); returns false when they are not as expected.
 */
function detachHttpParser(socket: Socket): boolean {
  const parser = (socket as Socket & { parser?: HttpParser }).parser;
  const onData = socket.listeners('data').filter((l) => l.name === 'bound socketOnData');
  const onEnd = socket.listeners('end').filter((l) => l.name === 'bound socketOnEnd');
  if (!parser || onData.length !== 1 || onEnd.length !== 1) return false;
  if (parser._consumed) {
    if (typeof parser.unconsume !== 'function') return false;
    parser.unconsume();
    parser._consumed = false;
  }
  socket.removeListener('data', onData[0] as (...args: unknown[]) => void);
  socket.removeListener('end', onEnd[0] as (...args: unknown[]) => void);
  // Node's pause and resume hooks for a consumed socket (its own unconsume removes them too).
  for (const l of socket.listeners('pause')) if (l.name === 'onSocketPause') socket.removeListener('pause', l as (...args: unknown[]) => void);
  for (const l of socket.listeners('resume')) if (l.name === 'onSocketResume') socket.removeListener('resume', l as (...args: unknown[]) => void);
  return true;
}

/**
 * Makes the socket read and emit what arrives. The parser stopped reading when the refused request's
 * body filled up unread, so the socket's handle may be stopped while its stream counts as flowing.
 */
function keepReading(socket: Socket): void {
  socket.resume();
  const handle = (socket as Socket & { _handle?: { reading?: boolean; readStart?: () => number } | null })._handle;
  if (handle && !handle.reading && typeof handle.readStart === 'function') {
    handle.reading = true;
    handle.readStart();
  }
}

export class LingeringClose {
  /** Connections discarding what their client still sends: a parse error on them is not a request's. */
  public readonly sockets = new WeakSet<Socket>();

  constructor(private readonly ms: number = LINGER_MS) {}

  /**
   * Makes the connection of `req`, which will close after its answer (`Connection: close`), linger
   * instead of closing at once. Node closes such a connection with `socket.destroySoon()`, once the
   * answer is written; this replaces that one socket's method.
   */
  arm(req: IncomingMessage): void {
    const socket = req.socket as Closable | null;
    if (!socket || socket.destroyed) return;
    const ms = this.ms;
    const sockets = this.sockets;
    socket.destroySoon = function (this: Socket): void {
      if (this.destroyed) return;
      if (!detachHttpParser(this)) {
        // Node's internals changed: close at once, as Node would have.
        this.destroy();
        return;
      }
      sockets.add(this);
      const timer = setTimeout(() => this.destroy(), ms);
      timer.unref();
      this.once('close', () => clearTimeout(timer));
      this.on('data', () => undefined);
      // The client has closed its side, and everything it sent has been read: nothing can be reset.
      this.once('end', () => this.destroy());
      keepReading(this);
      if (this.writable) this.end();
    };
  }
}
