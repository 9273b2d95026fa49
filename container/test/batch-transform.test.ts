import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fraudModel, request, startServer, type ServerProcess } from './helpers';
import { generateTransactions, predictFraud } from '../tools/fraud-model';

/**
 * What a SageMaker batch transform job with `SplitType: Line`, `BatchStrategy: MultiRecord` and
 * `AssembleWith: Line` does with one input file: it packs whole records (lines) into mini-batches of at most
 * `MaxPayloadInMB`, sends them with the job's `ContentType` (and its `Accept`, only when
 * `TransformOutput.Accept` is set), at most `MaxConcurrentTransforms` at a time, and writes the answers one
 * after another, in the order of the mini-batches, each ended by a newline.
 */
async function transform(server: ServerProcess, records: string[], job: { contentType: string; accept?: string }): Promise<string[]> {
  const params = (await request(server.port, 'GET', '/execution-parameters')).json();
  assert.equal(params.BatchStrategy, 'MULTI_RECORD');
  const limit = params.MaxPayloadInMB * 1024 * 1024;
  const batches: string[] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const record of records) {
    const size = Buffer.byteLength(record) + 1;
    if (current.length > 0 && bytes + size > limit) {
      batches.push(current.join(''));
      current = [];
      bytes = 0;
    }
    current.push(`${record}\n`);
    bytes += size;
  }
  if (current.length > 0) batches.push(current.join(''));
  assert.ok(batches.length >= 3, `the file is split into several mini-batches (${batches.length})`);
  const answers: string[] = new Array(batches.length);
  let next = 0;
  const lane = async () => {
    while (next < batches.length) {
      const i = next++;
      const res = await request(server.port, 'POST', '/invocations', batches[i], { 'content-type': job.contentType, ...(job.accept ? { accept: job.accept } : {}) });
      assert.equal(res.status, 200, `mini-batch ${i}: ${res.body.slice(0, 300)}`);
      answers[i] = res.body.endsWith('\n') ? res.body : `${res.body}\n`;
    }
  };
  await Promise.all(Array.from({ length: params.MaxConcurrentTransforms }, lane));
  return answers.join('').split('\n').slice(0, -1);
}

describe('SageMaker batch transform, end to end', () => {
  it('answers a file split by line into mini-batches with one output line per record, in order, when the job sets no Accept (SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT) or sends JSON Lines as application/json', { timeout: 120_000 }, async () => {
    const { dir, weights } = fraudModel();
    const server = await startServer({
      MODEL_DIR: dir, SAGEMAKER_BATCH: 'true', SAGEMAKER_MAX_PAYLOAD_IN_MB: '1', SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT: 'text/csv', LOG_REQUESTS: 'off',
    });
    try {
      const { x } = generateTransactions(30_000, 23);
      const check = (lines: string[], score: (line: string) => number) => {
        assert.equal(lines.length, x.length, 'one output line per record');
        lines.forEach((line, i) => assert.ok(Math.abs(score(line) - predictFraud(weights, x[i])) < 1e-5, `record ${i}: ${line}`));
      };
      // CSV records, no Accept: answered as CSV (the variable), which lines up with the records.
      check(await transform(server, x.map((row) => row.join(',')), { contentType: 'text/csv' }), (line) => Number(line.split(',')[0]));
      // A JSON Lines file sent as application/json, with TransformOutput.Accept set to JSON Lines.
      check(await transform(server, x.map((row) => JSON.stringify(row)), { contentType: 'application/json', accept: 'application/jsonlines' }),
        (line) => JSON.parse(line).fraud_probability[0]);
      // The same file as application/jsonlines and no Accept: CSV again.
      check(await transform(server, x.map((row) => JSON.stringify({ features: row })), { contentType: 'application/jsonlines' }), (line) => Number(line.split(',')[0]));
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });
});
