/**
 * Test helpers: model directories built from source in a temp folder, apps on 127.0.0.1 port 0,
 * and a small HTTP client on node:http (so the tests exercise real sockets).
 */
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Worker } from 'node:worker_threads';
import type { FastifyInstance } from 'fastify';
import { AppOptions, buildApp } from '../src/app';
import { resolveConfig, ServingConfigInput } from '../src/config';
import { EngineHooks, InferenceEngine } from '../src/engine';
import { ModelSpec, writeModelDir } from '../tools/onnx-builder';
import { FraudWeights, fraudModelSpec, trainFraudModel } from '../tools/fraud-model';
import { fromHalfBits, toHalfBits } from '../src/tensors';
import type { WireTensor } from '../src/tensors';
import type { InferenceError } from '../src/errors';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** How an engine request ended, and when (ms after `t0`). */
export type Outcome = { ok: true; outputs: WireTensor[]; at: number } | { ok: false; code: string; message: string; at: number };

/** Waits for an engine request and says how it ended, never throwing. */
export const settle = (p: Promise<WireTensor[]>, t0 = Date.now()): Promise<Outcome> => p.then(
  (outputs) => ({ ok: true as const, outputs, at: Date.now() - t0 }),
  (e: InferenceError) => ({ ok: false as const, code: e.code, message: e.message, at: Date.now() - t0 }),
);

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'inference-server-test-'));
process.on('exit', () => fs.rmSync(root, { recursive: true, force: true }));

/** A fresh directory for a test's files, under the test process's own directory (removed at exit). */
export function scratchDir(prefix: string): string {
  return fs.mkdtempSync(path.join(root, prefix));
}

/** Writes a model (and optional serving.json) into a fresh directory named `name`. */
export function modelDir(name: string, spec: ModelSpec, config?: object): string {
  const dir = path.join(scratchDir('m-'), name);
  writeModelDir(dir, spec, config);
  return dir;
}

let fraud: { weights: FraudWeights } | undefined;
/** The example fraud model, trained once per test process. */
export function fraudModel(config?: object): { dir: string; weights: FraudWeights } {
  fraud ??= trainFraudModel();
  return { dir: modelDir('fraud-mlp', fraudModelSpec(fraud.weights), config), weights: fraud.weights };
}

/** Builds an app that is ready (model loaded and warmed up). */
/** An engine for `spec` written as model `name`, with `config` as its serving configuration. */
export async function startEngine(name: string, spec: ModelSpec, config: ServingConfigInput, hooks?: EngineHooks): Promise<InferenceEngine> {
  const dir = modelDir(name, spec);
  return InferenceEngine.start(path.join(dir, 'model.onnx'), resolveConfig(dir, [['test', config]]), hooks);
}

/** Closes what a test left running: its engine (without a drain) and its app. */
export async function closeAll(engine: InferenceEngine | undefined, app: FastifyInstance | undefined): Promise<void> {
  await engine?.close(0);
  await app?.close();
}

export async function readyApp(options: AppOptions): Promise<FastifyInstance> {
  const app = await buildApp({ logger: false, ...options });
  await app.model.ready;
  return app;
}

/** Builds, waits for the model, and listens on 127.0.0.1 port 0; returns the base URL. */
export async function listening(options: AppOptions): Promise<{ app: FastifyInstance; base: string; port: number }> {
  const app = await readyApp(options);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address() as { port: number };
  return { app, base: `http://127.0.0.1:${address.port}`, port: address.port };
}

/**
 * Like `listening`, with every log line the app writes at `level` kept, parsed, in `lines` (and as
 * written in `raw`).
 */
export async function loggedListening(options: AppOptions, level = 'info'): Promise<{ app: FastifyInstance; port: number; lines: Array<Record<string, unknown>>; raw: string[] }> {
  const lines: Array<Record<string, unknown>> = [];
  const raw: string[] = [];
  const app = await buildApp({ ...options, logger: { level, stream: { write: (l: string) => { raw.push(l); lines.push(JSON.parse(l)); } } } });
  await app.model.ready;
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, port: (app.server.address() as { port: number }).port, lines, raw };
}

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The body's bytes (for binary answers). */
  raw: Buffer;
  json: () => any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

/** One HTTP request over a real socket. */
export function request(port: number, method: string, urlPath: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
    const req = http.request({
      host: '127.0.0.1', port, method, path: urlPath, agent,
      headers: Object.fromEntries(Object.entries({ ...(payload !== undefined && headers['content-type'] === undefined ? { 'content-type': 'application/json' } : {}), ...headers })
        .filter(([, v]) => v !== '')), // an empty value leaves the header out
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        const text = raw.toString('utf8');
        resolve({ status: res.statusCode!, headers: res.headers, body: text, raw, json: () => JSON.parse(text) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** One HTTP request with exactly these headers (and Content-Length): no Content-Type unless given. */
export function exactRequest(port: number, method: string, urlPath: string, payload: string | Buffer, headers: Record<string, string>): Promise<HttpResult> {
  return request(port, method, urlPath, payload, { 'content-type': '', ...headers, 'content-length': String(Buffer.byteLength(payload)) });
}

/**
 * Waits (up to 5 s) for the in-flight counters to come back down, then asserts them: no request body
 * bytes in flight, and no request but the scrape itself.
 */
export async function assertNothingInFlight(port: number): Promise<void> {
  let text = '';
  for (let i = 0; i < 200; i++) {
    text = (await request(port, 'GET', '/metrics')).body;
    if (metricValue(text, 'http_request_body_bytes_in_flight') === 0 && metricValue(text, 'http_requests_in_flight') === 1) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.equal(metricValue(text, 'http_request_body_bytes_in_flight'), 0);
  assert.equal(metricValue(text, 'http_requests_in_flight'), 1, 'only the scrape itself');
}

/** A Prometheus sample value from /metrics text, or undefined. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got: Record<string, string> = {};
    for (const part of (m[3] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) got[part[1]] = part[2];
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[4]);
  }
  return undefined;
}

/** The absolute path of the compiled server entry (for tests that spawn the real process). */
export const SERVER_ENTRY = path.resolve(__dirname, '..', 'src', 'server.js');

/** A server process started by startServer. */
export interface ServerProcess {
  child: ChildProcess;
  port: number;
  logs: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts the real server process on 127.0.0.1 with an OS-chosen port; resolves once the model is ready.
 * `env` adds to this process's environment; a variable given as undefined is left out.
 */
export async function startServer(env: Record<string, string | undefined>): Promise<ServerProcess> {
  const merged: NodeJS.ProcessEnv = { ...process.env, HOST: '127.0.0.1', SAGEMAKER_BIND_TO_PORT: '0', LOG_LEVEL: 'info', ...env };
  for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k];
  const child = spawn(process.execPath, [SERVER_ENTRY, 'serve'], {
    env: merged,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const port = await new Promise<number>((resolve, reject) => {
    let found = 0;
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`server did not become ready:\n${logs.join('\n')}`)), 20_000);
    const onLine = (line: string) => {
      logs.push(line);
      const m = /listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(line);
      if (m) found = Number(m[1]);
      if (found && line.includes('"model ready"')) {
        clearTimeout(timer);
        resolve(found);
      }
    };
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      lines.forEach(onLine);
    });
    child.stderr!.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
    child.on('exit', () => {
      clearTimeout(timer);
      reject(new Error(`server exited early:\n${logs.join('\n')}`));
    });
  });
  return { child, port, logs, exited };
}

/** An engine's worker threads (private to the engine: tests reach in to make one fail or stop). */
export function engineWorkers(engine: unknown): Worker[] {
  return (engine as { slots: Array<{ worker: Worker }> }).slots.map((s) => s.worker);
}

/** Binary tensor data as the extension lays it out, written here apart from the server's encoder. */
export function toBytes(type: string, values: unknown[]): Buffer {
  return Buffer.concat(values.map((v) => {
    const b = Buffer.alloc(8);
    switch (type) {
      case 'float32': b.writeFloatLE(v as number); return b.subarray(0, 4);
      case 'float64': b.writeDoubleLE(v as number); return b;
      case 'float16': b.writeUInt16LE(toHalfBits(v as number)); return b.subarray(0, 2);
      case 'int8': b.writeInt8(v as number); return b.subarray(0, 1);
      case 'int16': b.writeInt16LE(v as number); return b.subarray(0, 2);
      case 'int32': b.writeInt32LE(v as number); return b.subarray(0, 4);
      case 'int64': b.writeBigInt64LE(BigInt(v as number | string)); return b;
      case 'uint8': b.writeUInt8(v as number); return b.subarray(0, 1);
      case 'uint16': b.writeUInt16LE(v as number); return b.subarray(0, 2);
      case 'uint32': b.writeUInt32LE(v as number); return b.subarray(0, 4);
      case 'uint64': b.writeBigUInt64LE(BigInt(v as number | string)); return b;
      case 'bool': return Buffer.from([v ? 1 : 0]);
      case 'string': {
        const s = Buffer.from(v as string, 'utf8');
        const n = Buffer.alloc(4);
        n.writeUInt32LE(s.length);
        return Buffer.concat([n, s]);
      }
      default: throw new Error(type);
    }
  }));
}

/** Binary tensor data back to the JSON values the server would answer. */
export function fromBytes(type: string, b: Buffer): unknown[] {
  const out: unknown[] = [];
  const big = (x: bigint) => (Number.isSafeInteger(Number(x)) ? Number(x) : x.toString());
  for (let pos = 0; pos < b.length;) {
    switch (type) {
      case 'float32': out.push(b.readFloatLE(pos)); pos += 4; break;
      case 'float64': out.push(b.readDoubleLE(pos)); pos += 8; break;
      case 'float16': out.push(fromHalfBits(b.readUInt16LE(pos))); pos += 2; break;
      case 'int8': out.push(b.readInt8(pos)); pos += 1; break;
      case 'int16': out.push(b.readInt16LE(pos)); pos += 2; break;
      case 'int32': out.push(b.readInt32LE(pos)); pos += 4; break;
      case 'int64': out.push(big(b.readBigInt64LE(pos))); pos += 8; break;
      case 'uint8': out.push(b.readUInt8(pos)); pos += 1; break;
      case 'uint16': out.push(b.readUInt16LE(pos)); pos += 2; break;
      case 'uint32': out.push(b.readUInt32LE(pos)); pos += 4; break;
      case 'uint64': out.push(big(b.readBigUInt64LE(pos))); pos += 8; break;
      case 'bool': out.push(b[pos] === 1); pos += 1; break;
      case 'string': {
        const n = b.readUInt32LE(pos);
        out.push(b.subarray(pos + 4, pos + 4 + n).toString('utf8'));
        pos += 4 + n;
        break;
      }
      default: throw new Error(type);
    }
  }
  return out;
}

/**
 * An .npy file as NumPy writes one: `version` 1 (2-byte header length) or 2 (4-byte), the header padded
 * with spaces to a multiple of 64 and ended by a newline.
 */
export function npy(descr: string, shape: number[], data: Uint8Array, { fortran = false, version = 1 } = {}): Buffer {
  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  return npyWithHeader(`{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${tuple}, }`, data, { version });
}

/**
 * An .npy file with the header text given, padded as NumPy pads it unless `pad` is false; format 3.0
 * writes it as UTF-8, 1.0 and 2.0 as latin1.
 */
export function npyWithHeader(header: string | Buffer, data: Uint8Array, { version = 1, pad = true } = {}): Buffer {
  const start = version === 1 ? 10 : 12;
  let text = typeof header === 'string' ? Buffer.from(header, version === 3 ? 'utf8' : 'latin1') : header;
  if (pad) text = Buffer.concat([text, Buffer.alloc(Math.ceil((start + text.length + 1) / 64) * 64 - start - 1 - text.length, ' '), Buffer.from('\n')]);
  const prefix = Buffer.alloc(start);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]).copy(prefix);
  if (version === 1) prefix.writeUInt16LE(text.length, 8);
  else prefix.writeUInt32LE(text.length, 8);
  return Buffer.concat([prefix, text, data]);
}
