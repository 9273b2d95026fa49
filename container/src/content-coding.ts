/**
 * Compressed request bodies (`Content-Encoding`, RFC 9110 8.4). Triton's HTTP clients compress a request
 * when asked (`request_compression_algorithm`: gzip, or deflate as zlib's format), binary tensor data
 * included, with `Inference-Header-Content-Length` the length of the JSON before compression.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { Transform, type Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { InferenceError } from './errors';

/** The codings a body may come in, as the `Accept-Encoding` of a 415 names them. */
export const ACCEPTED_CODINGS = 'gzip, deflate';

type Coding = 'gzip' | 'deflate';

/**
 * The coding a request's body comes in: undefined for none (no header, or only `identity`), a coding the
 * server reads, or an InferenceError (415) for one it does not (brotli, zstd, several codings in turn).
 */
export function contentCoding(headers: IncomingHttpHeaders): Coding | InferenceError | undefined {
  const header = headers['content-encoding'];
  if (header === undefined) return undefined;
  const codings = header.split(',').map((c) => c.trim().toLowerCase()).filter((c) => c !== '' && c !== 'identity');
  if (codings.length === 0) return undefined;
  if (codings.length === 1 && (codings[0] === 'gzip' || codings[0] === 'x-gzip')) return 'gzip';
  if (codings.length === 1 && codings[0] === 'deflate') return 'deflate';
  return new InferenceError('UNSUPPORTED_MEDIA_TYPE',
    `Content-Encoding ${JSON.stringify(header.slice(0, 100))} is not taken here: send the body uncompressed, or compressed once with gzip or deflate`);
}

/** Whether the body's length on the wire (its Content-Length) is not the length of its content. */
export function isEncoded(headers: IncomingHttpHeaders): boolean {
  return contentCoding(headers) !== undefined;
}

/** A zlib error's words, for a 400 naming the coding. */
export function codingError(err: { code?: string; message?: string }, headers: IncomingHttpHeaders): InferenceError | undefined {
  if (typeof err.code !== 'string' || !err.code.startsWith('Z_')) return undefined;
  const coding = contentCoding(headers);
  if (typeof coding !== 'string') return undefined;
  return new InferenceError('INVALID_REQUEST', `the body is not valid ${coding} data (Content-Encoding: ${headers['content-encoding']}): ${err.message}`);
}

/**
 * The decompressed body of `payload`, for Fastify's body parsers. It reports the bytes received on the
 * wire as `receivedEncodedLength` (Fastify checks them against Content-Length), and fails with 413 once
 * more than `limitBytes` have come out (a parser's own, lower, limit stops it sooner). Nothing is read
 * before the parser reads it: a request refused before that (Expect: 100-continue waits for it) leaves
 * its body unread. A client that hangs up fails it with its own error, as an uncompressed body would.
 */
export function decodedBody(payload: Readable, coding: Coding, limitBytes: number): Readable {
  const decoder = coding === 'gzip' ? zlib.createGunzip() : zlib.createInflate();
  let decoded = 0;
  const out = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      decoded += chunk.length;
      if (decoded > limitBytes) {
        callback(new InferenceError('PAYLOAD_TOO_LARGE', `the body decompresses (Content-Encoding: ${coding}) to more than ${limitBytes} bytes, the body limit here (limits.bodyLimitBytes)`));
        return;
      }
      callback(null, chunk);
    },
  }) as Transform & { receivedEncodedLength: number };
  out.receivedEncodedLength = 0;
  const stop = (): void => {
    payload.unpipe(decoder);
    decoder.destroy();
  };
  // Its own listener, so an error after the parser stopped listening (the answer sent) is not thrown.
  out.on('error', stop);
  out.once('resume', () => {
    payload.pipe(decoder).pipe(out);
    payload.on('data', (chunk: Buffer) => { out.receivedEncodedLength += chunk.length; });
    payload.on('error', (err) => out.destroy(err));
    decoder.on('error', (err) => out.destroy(err));
  });
  return out;
}
