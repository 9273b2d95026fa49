/**
 * The inference server benchmark: one run, side-by-side figures and ratios.
 *
 * For the example model and a compute-heavy one (~1 ms per single-row run), at concurrency 1, 16 and 64:
 *   (a) the server with dynamic batching   (b) the server with batching off
 *   (c) a naive baseline: session.run on the main thread   (d) the HTTP ceiling: a constant body
 *   (e) the compute ceiling: onnxruntime in-process, no HTTP, best batch size and thread count
 *   (e') the same, best batch size no larger than the server's maxBatchSize (the most it can merge)
 * plus the p99 latency of /ping while inference saturates the CPUs.
 *
 * Load goes to 127.0.0.1 only, from a closed loop of `c` keep-alive connections, bounded in time
 * (BENCH_SECONDS, default 3 per cell) and in count (200000 per cell).
 * Usage: npm run bench   (results also land in bench/results/)
 * Environment: BENCH_SECONDS, BENCH_CONCURRENCY (1,16,64), BENCH_MODES, BENCH_MODELS, BENCH_NODE_CLIENT,
 * BENCH_NO_CEILING, BENCH_WRK_THREADS (1), BENCH_LOAD_CPUS (e.g. 12-15, with the run itself under taskset -c 0-11),
 * BENCH_LOG (all|errors: servers (a) and (b) log at info to /dev/null, every request or only rejected ones).
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { disableOrtTelemetry } from '../src/telemetry';
import { writeModelDir } from '../tools/onnx-builder';
import { fraudModelSpec, generateTransactions, trainFraudModel } from '../tools/fraud-model';
import { heavySpec } from '../tools/test-models';
import { CONFIG_FILE, cpuCount, readConfigFile, resolveConfig } from '../src/config';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
/** wrk threads (at most c). More than 1 only where the machine has CPUs to spare for the load generator. */
const WRK_THREADS = Number(process.env.BENCH_WRK_THREADS ?? 1);
/**
 * CPUs for the load generator (a taskset list such as "12-15"). Start the benchmark itself under
 * `taskset -c <other CPUs>` so the servers and the compute ceiling run on the rest; unset, all share.
 */
const LOAD_CPUS = process.env.BENCH_LOAD_CPUS;
const WARMUP_MS = 500;
/** wrk's warm-up run: its -d takes whole seconds. */
const WRK_WARMUP_S = Math.max(1, Math.round(WARMUP_MS / 1000));
const MAX_REQUESTS = 200_000;
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '1,16,64').split(',').map(Number);
const RESULTS = path.resolve(__dirname, '..', '..', 'bench', 'results');
const ALL_MODES = ['batching', 'nobatch', 'naive', 'constant'] as const;
type Mode = typeof ALL_MODES[number];
const MODES = ALL_MODES.filter((m) => !process.env.BENCH_MODES || process.env.BENCH_MODES.split(',').includes(m));
const LABEL: Record<Mode | 'compute', string> = {
  batching: '(a) server, batching', nobatch: '(b) server, no batching', naive: '(c) naive main thread',
  constant: '(d) HTTP ceiling', compute: '(e) compute ceiling',
};

interface Cell { rps: number; p50: number; p99: number; errors: number; count: number }

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

function post(agent: http.Agent, port: number, urlPath: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: urlPath, agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function get(agent: http.Agent, port: number, urlPath: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: urlPath, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    }).on('error', reject);
  });
}

/** A closed loop of `c` connections for WARMUP_MS, then SECONDS measured. */
async function load(port: number, urlPath: string, body: string, c: number): Promise<Cell> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: c });
  const latencies: number[] = [];
  let errors = 0;
  let measuring = false;
  const warmEnd = Date.now() + WARMUP_MS;
  const end = warmEnd + SECONDS * 1000;
  let measuredStart = 0;
  const loop = async () => {
    while (Date.now() < end && latencies.length < MAX_REQUESTS) {
      const t0 = performance.now();
      const status = await post(agent, port, urlPath, body).catch(() => 0);
      if (!measuring && Date.now() >= warmEnd) {
        measuring = true;
        measuredStart = performance.now();
      }
      if (measuring && t0 >= measuredStart) {
        latencies.push(performance.now() - t0);
        if (status !== 200) errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: c }, loop));
  const elapsed = (performance.now() - measuredStart) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { rps: latencies.length / elapsed, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), errors, count: latencies.length };
}

/** wrk's figure with a unit (us, ms, s) in milliseconds. */
function ms(text: string): number {
  const m = /([\d.]+)(us|ms|s)/.exec(text);
  if (!m) return NaN;
  return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1);
}

/** The same closed loop with wrk (C, far cheaper than a Node client on a small machine). */
async function loadWrk(port: number, urlPath: string, body: string, c: number): Promise<Cell> {
  const script = path.join(RESULTS, 'post.lua');
  fs.writeFileSync(script, `wrk.method = "POST"\nwrk.body = ${JSON.stringify(body)}\nwrk.headers["Content-Type"] = "application/json"\n`);
  const run = (seconds: number) => new Promise<string>((resolve, reject) => {
    const wrk = ['wrk', `-t${Math.min(WRK_THREADS, c)}`, `-c${c}`, `-d${seconds}s`, '--timeout', '10s', '--latency', '-s', script, `http://127.0.0.1:${port}${urlPath}`];
    const argv = LOAD_CPUS ? ['taskset', '-c', LOAD_CPUS, ...wrk] : wrk;
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`wrk exited ${code}: ${out}`))));
  });
  await run(WRK_WARMUP_S);
  const out = await run(SECONDS);
  const rps = Number((/Requests\/sec:\s+([\d.]+)/.exec(out) ?? [])[1]);
  const count = Number((/(\d+) requests in/.exec(out) ?? [])[1]);
  const non2xx = Number((/Non-2xx or 3xx responses: (\d+)/.exec(out) ?? [0, 0])[1]);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = non2xx + (sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0);
  return { rps, p50: ms((/ 50%\s+(\S+)/.exec(out) ?? [])[1] ?? ''), p99: ms((/ 99%\s+(\S+)/.exec(out) ?? [])[1] ?? ''), errors, count };
}

const HAVE_WRK = (() => {
  try {
    require('node:child_process').execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (e) {
    return (e as { status?: number }).status === 1; // wrk --version exits 1 after printing its version
  }
})();

/** Samples /ping every 10 ms on its own connection while `during` runs. */
async function pingDuring(port: number, during: Promise<unknown>): Promise<{ p50: number; p99: number; max: number; n: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const samples: number[] = [];
  let done = false;
  void during.finally(() => { done = true; });
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  while (!done) {
    const t0 = performance.now();
    await get(agent, port, '/ping');
    samples.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 10));
  }
  agent.destroy();
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 0.5), p99: percentile(samples, 0.99), max: samples[samples.length - 1], n: samples.length };
}

async function startTarget(mode: Mode, modelDir: string, constantFile: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--max-semi-space-size=32', path.join(__dirname, 'target.js'), mode, modelDir, constantFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`target ${mode} exited with ${code}`)));
  });
  return { child, port };
}

async function stopTarget(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

type Ceiling = { rowsPerSec: number; batch: number; threads: number; runMs: number };

/**
 * (e): rows/s of one in-process session, best over batch sizes and thread counts; also the best at a
 * batch no larger than `batchLimit` (the server's maxBatchSize), the most the server can ever merge.
 */
async function computeCeiling(file: string, inputName: string, width: number, batchLimit: number): Promise<{ best: Ceiling; withinLimit: Ceiling }> {
  let best: Ceiling = { rowsPerSec: 0, batch: 1, threads: 1, runMs: 0 };
  let withinLimit = best;
  for (const threads of [...new Set([1, cpuCount()])]) {
    const session = await ort.InferenceSession.create(file, { intraOpNumThreads: threads, graphOptimizationLevel: 'all' });
    for (const batch of [1, 8, 16, 32, 64, 128]) {
      const t = new ort.Tensor('float32', new Float32Array(batch * width).fill(0.3), [batch, width]);
      await session.run({ [inputName]: t });
      let runs = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < 700) {
        await session.run({ [inputName]: t });
        runs++;
      }
      const ms = (performance.now() - t0) / runs;
      const cell = { rowsPerSec: (batch * 1000) / ms, batch, threads, runMs: ms };
      if (cell.rowsPerSec > best.rowsPerSec) best = cell;
      if (batch <= batchLimit && cell.rowsPerSec > withinLimit.rowsPerSec) withinLimit = cell;
    }
    await session.release();
  }
  return { best, withinLimit };
}

const fmt = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '-');

async function main(): Promise<void> {
  disableOrtTelemetry(); // as the server does; the targets inherit it
  fs.mkdirSync(RESULTS, { recursive: true });
  const modelsDir = path.join(RESULTS, 'models');
  const { weights } = trainFraudModel();
  const small = path.join(modelsDir, 'fraud-mlp');
  writeModelDir(small, fraudModelSpec(weights)); // the server's defaults: maxBatchSize 64, maxQueueDelayMs 2
  const heavyDir = path.join(modelsDir, 'heavy-mlp');
  writeModelDir(heavyDir, heavySpec(1024, 8, 64));
  const models = [
    { name: 'fraud-mlp', dir: small, input: 'features', width: 8, row: generateTransactions(1, 1).x[0] },
    { name: 'heavy-mlp', dir: heavyDir, input: 'input', width: 64, row: Array.from({ length: 64 }, (_, i) => (i % 7) / 7) },
  ];
  const machine = {
    nproc: os.availableParallelism(),
    cpusOnMachine: os.cpus().length,
    cpu: (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) ?? [])[1] ?? os.cpus()[0]?.model,
    node: process.version,
    onnxruntime: require('onnxruntime-node/package.json').version as string,
    date: new Date().toISOString(),
    secondsPerCell: SECONDS,
  };
  const generator = HAVE_WRK && !process.env.BENCH_NODE_CLIENT
    ? `wrk, ${WRK_THREADS} thread${WRK_THREADS > 1 ? 's' : ''}${LOAD_CPUS ? ` pinned to CPUs ${LOAD_CPUS} (servers and ceilings on the other ${machine.nproc})` : ''}`
    : 'Node http client';
  console.log(`load generator: ${generator}`);
  console.log(`machine: ${machine.nproc} CPUs, ${machine.cpu}, Node ${machine.node}, onnxruntime-node ${machine.onnxruntime}; ${SECONDS} s per cell`);

  const results: Record<string, unknown> = { machine, models: {} };
  const lines: string[] = [];
  for (const model of models.filter((m) => !process.env.BENCH_MODELS || process.env.BENCH_MODELS.split(',').includes(m.name))) {
    const urlPath = `/v2/models/${model.name}/infer`;
    const body = JSON.stringify({ inputs: [{ name: model.input, shape: [1, model.width], datatype: 'FP32', data: model.row }] });
    // The HTTP ceiling answers with the real answer's bytes.
    const probe = await startTarget('batching', model.dir, '');
    const answer = await new Promise<string>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: probe.port, method: 'POST', path: urlPath, headers: { 'content-type': 'application/json' } }, (res) => {
        let text = '';
        res.on('data', (d) => { text += d; });
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.end(body);
    });
    await stopTarget(probe.child);
    const constantFile = path.join(RESULTS, `${model.name}-answer.json`);
    fs.writeFileSync(constantFile, answer);

    const cells: Record<string, Record<number, Cell>> = {};
    const pings: Record<string, unknown> = {};
    for (const mode of MODES) {
      cells[mode] = {};
      const target = await startTarget(mode, model.dir, constantFile);
      try {
        for (const c of CONCURRENCY) {
          const run = HAVE_WRK && !process.env.BENCH_NODE_CLIENT ? loadWrk(target.port, urlPath, body, c) : load(target.port, urlPath, body, c);
          if (c === 64 && (mode === 'batching' || mode === 'naive' || mode === 'nobatch')) {
            pings[mode] = await pingDuring(target.port, run);
          }
          cells[mode][c] = await run;
          const cell = cells[mode][c];
          console.log(`${model.name} ${LABEL[mode]} c=${c}: ${fmt(cell.rps)} req/s, p50 ${fmt(cell.p50, 2)} ms, p99 ${fmt(cell.p99, 2)} ms, ${cell.errors} errors`);
        }
      } finally {
        await stopTarget(target.child);
      }
    }
    // BENCH_NO_CEILING skips (e) (parameter sweeps that only compare servers).
    const skipCeiling = Boolean(process.env.BENCH_NO_CEILING);
    const batchLimit = resolveConfig(model.dir, [[path.join(model.dir, CONFIG_FILE), readConfigFile(model.dir)]]).batching.maxBatchSize;
    const none = { rowsPerSec: NaN, batch: 0, threads: 0, runMs: NaN };
    const ceilings = skipCeiling ? { best: none, withinLimit: none } : await computeCeiling(path.join(model.dir, 'model.onnx'), model.input, model.width, batchLimit);
    const compute = ceilings.best;
    const limited = ceilings.withinLimit;
    const single = skipCeiling ? NaN : await computeCeiling1(path.join(model.dir, 'model.onnx'), model.input, model.width);
    console.log(`${model.name} ${LABEL.compute}: ${fmt(compute.rowsPerSec)} rows/s (batch ${compute.batch}, ${compute.threads} threads, ${fmt(compute.runMs, 3)} ms/run); at batch <= ${batchLimit}: ${fmt(limited.rowsPerSec)} rows/s (batch ${limited.batch}); single row ${fmt(single, 3)} ms`);
    (results.models as Record<string, unknown>)[model.name] = { cells, compute, computeWithinBatchLimit: { ...limited, batchLimit }, singleRowMs: single, pings, answerBytes: answer.length };

    lines.push('', `### ${model.name} (single-row run ${fmt(single, 3)} ms in-process; answer ${answer.length} bytes)`, '');
    lines.push('| server | c | req/s | p50 ms | p99 ms | errors |', '| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const mode of MODES) {
      for (const c of CONCURRENCY) {
        const cell = cells[mode][c];
        if (!cell) continue;
        lines.push(`| ${LABEL[mode]} | ${c} | ${fmt(cell.rps)} | ${fmt(cell.p50, 2)} | ${fmt(cell.p99, 2)} | ${cell.errors} |`);
      }
    }
    lines.push(`| ${LABEL.compute} | - | ${fmt(compute.rowsPerSec)} rows/s | batch ${compute.batch}, ${compute.threads} thr | ${fmt(compute.runMs, 3)} ms/run | - |`);
    lines.push(`| (e') compute ceiling, batch <= ${batchLimit} (maxBatchSize) | - | ${fmt(limited.rowsPerSec)} rows/s | batch ${limited.batch}, ${limited.threads} thr | ${fmt(limited.runMs, 3)} ms/run | - |`);
    lines.push('', `| ratio | ${CONCURRENCY.map((c) => `c=${c}`).join(' | ')} |`, `| --- | ${CONCURRENCY.map(() => '---:').join(' | ')} |`);
    const ratio = (num: Mode, den: Mode | 'compute' | 'limited') => CONCURRENCY.map((c) => {
      const d = den === 'compute' ? compute.rowsPerSec : den === 'limited' ? limited.rowsPerSec : cells[den]?.[c]?.rps ?? NaN;
      return fmt((cells[num]?.[c]?.rps ?? NaN) / d, 2);
    }).join(' | ');
    lines.push(`| (a)/(c) batching vs naive (target >= 1) | ${ratio('batching', 'naive')} |`);
    lines.push(`| (a)/(b) batching vs no batching | ${ratio('batching', 'nobatch')} |`);
    lines.push(`| (a)/(d) vs HTTP ceiling${model.name === 'fraud-mlp' ? ' (target >= 0.70)' : ''} | ${ratio('batching', 'constant')} |`);
    lines.push(`| (a)/(e) vs compute ceiling${model.name === 'heavy-mlp' ? ' (target >= 0.70)' : ''} | ${ratio('batching', 'compute')} |`);
    lines.push(`| (a)/(e') vs compute ceiling at batch <= ${batchLimit} | ${ratio('batching', 'limited')} |`);
    const p = pings as Record<string, { p50: number; p99: number; max: number; n: number }>;
    if (Object.keys(pings).length > 0) lines.push('', `/ping during c=64 load: ${Object.entries(p).map(([m, v]) => `${LABEL[m as Mode]} p50 ${fmt(v.p50, 2)} ms, p99 ${fmt(v.p99, 2)} ms, max ${fmt(v.max, 1)} ms (${v.n} pings)`).join('; ')}. Target p99 < 50 ms for (a).`);
  }
  const table = [`Machine: ${machine.nproc}${machine.cpusOnMachine !== machine.nproc ? ` of ${machine.cpusOnMachine}` : ''} CPUs (${machine.cpu}), Node ${machine.node}, onnxruntime-node ${machine.onnxruntime}, ${machine.date}; ${SECONDS} s per cell after ${HAVE_WRK && !process.env.BENCH_NODE_CLIENT ? `a ${WRK_WARMUP_S} s` : `${WARMUP_MS} ms`} warm-up; load generator (${generator}) on the same machine.`, ...lines].join('\n');
  console.log('\n' + table);
  fs.writeFileSync(path.join(RESULTS, 'results.json'), JSON.stringify(results, null, 2));
  fs.writeFileSync(path.join(RESULTS, 'results.md'), table + '\n');
}

/** Milliseconds of one single-row run, one thread. */
async function computeCeiling1(file: string, inputName: string, width: number): Promise<number> {
  const session = await ort.InferenceSession.create(file, { intraOpNumThreads: 1 });
  const t = new ort.Tensor('float32', new Float32Array(width).fill(0.3), [1, width]);
  await session.run({ [inputName]: t });
  let runs = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 500) {
    await session.run({ [inputName]: t });
    runs++;
  }
  const ms = (performance.now() - t0) / runs;
  await session.release();
  return ms;
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
