/**
 * The end of a request, for the counters that must come back down (requests and body bytes in flight).
 */
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Per connection, the requests still waiting for their end, released together if it closes. */
const waiting = new WeakMap<Socket, Set<() => void>>();

/**
 * Calls `fn` once when the request is over: its response closed, or its connection closed first.
 * Node 20 emits no 'close' on a pipelined response still waiting its turn when the connection dies,
 * so the connection is watched as well (one listener per connection, however many requests it carries).
 * A request whose connection is already destroyed when it arrives is over at once (on the next tick):
 * nothing can be sent on that connection, and its 'close' may already have been emitted.
 */
export function whenFinished(req: FastifyRequest, reply: FastifyReply, fn: () => void): void {
  const socket = req.raw.socket as Socket | null;
  let set: Set<() => void> | undefined;
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    set?.delete(finish);
    fn();
  };
  reply.raw.once('close', finish);
  if (!socket) return;
  if (socket.destroyed) {
    // Node goes on parsing the pipelined requests it has already read after a write failed (EPIPE:
    // the client hung up) and destroyed the connection; their responses wait behind one that never
    // finishes, so neither they nor the connection would call `finish`.
    process.nextTick(finish);
    return;
  }
  set = waiting.get(socket);
  if (!set) {
    const pending = new Set<() => void>();
    waiting.set(socket, pending);
    socket.once('close', () => {
      for (const f of [...pending]) f();
    });
    set = pending;
  }
  set.add(finish);
}
