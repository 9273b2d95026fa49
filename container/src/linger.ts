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

export class LingeringClose {
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
    socket.destroySoon = function (this: Socket): void {
      if (this.destroyed) return;
      const timer = setTimeout(() => this.destroy(), ms);
      timer.unref();
      this.once('close', () => clearTimeout(timer));
      // The client has closed its side, and everything it sent has been read: nothing can be reset.
      this.once('end', () => this.destroy());
      // The rest of the body is read by Node's HTTP parser into the request; drop it, whoever was
      // reading it (a body parser stopped at a limit leaves the request paused, which would stop
      // reading from the socket and leave the client blocked until the timer).
      req.removeAllListeners('data');
      req.resume();
      this.resume();
      if (this.writable) this.end();
    };
  }
}
