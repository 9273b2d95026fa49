import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { FastifyInstance } from 'fastify';
import { engineWorkers, exactRequest, fraudModel, listening, metricValue, modelDir, npy, readyApp, request, startServer } from './helpers';
import { generateTransactions, predictFraud } from '../tools/fraud-model';
import { fixedBatchSpec, multiInputSpec } from '../tools/test-models';
import { buildApp } from '../src/app';
import { npyTensorData, parseNpy } from '../src/npy';
import { configDefaultsFromEnv, configFromEnv } from '../src/config';
import type { ModelSpec } from '../tools/onnx-builder';

describe('SageMaker container contract', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('answers /ping with 200 once the model is ready', async () => {
    const started = await listening({ modelDir: fraudModel().dir });
    app = started.app;
    const res = await request(started.port, 'GET', '/ping');
    assert.equal(res.status, 200);
    assert.deepEqual(res.json(), { ready: true, model: 'fraud-mlp', state: 'ready' });
  });

  it('tells batch transform its execution parameters, and takes the payload limit a transform job passes', async () => {
    const started = await listening({ modelDir: fraudModel().dir, config: { workers: 3, limits: { bodyLimitBytes: 20 * 1024 * 1024, textBodyLimitBytes: 10 * 1024 * 1024 } } });
    app = started.app;
    const res = await request(started.port, 'GET', '/execution-parameters');
    assert.equal(res.status, 200);
    // Batch transform sends CSV or JSON Lines: the text body limit is what it may send.
    assert.deepEqual(res.json(), { MaxConcurrentTransforms: 6, BatchStrategy: 'MULTI_RECORD', MaxPayloadInMB: 10 });
    // The job's own payload size wins over what the server advertises, so both limits follow it.
    assert.deepEqual(configFromEnv({ SAGEMAKER_MAX_PAYLOAD_IN_MB: '50' }), { limits: { bodyLimitBytes: 50 * 1024 * 1024, textBodyLimitBytes: 50 * 1024 * 1024 } });
    assert.deepEqual(configFromEnv({ SAGEMAKER_MAX_PAYLOAD_IN_MB: '50', BODY_LIMIT_BYTES: '1048576' }), { limits: { bodyLimitBytes: 1048576, textBodyLimitBytes: 50 * 1024 * 1024 } });
    assert.deepEqual(configFromEnv({ SAGEMAKER_MAX_PAYLOAD_IN_MB: '50', TEXT_BODY_LIMIT_BYTES: '1048576' }), { limits: { bodyLimitBytes: 50 * 1024 * 1024, textBodyLimitBytes: 1048576 } });
    assert.equal(configFromEnv({ SAGEMAKER_MAX_PAYLOAD_IN_MB: '0' }), undefined, '0 (streaming) keeps the configured limit');
    assert.throws(() => configFromEnv({ SAGEMAKER_MAX_PAYLOAD_IN_MB: '200' }), /environment: SAGEMAKER_MAX_PAYLOAD_IN_MB is "200"; it must be an integer from 0 to 100 \(MB, as a batch transform job sets it\)/);
  });

  it('under batch transform (SAGEMAKER_BATCH=true) gives a request SageMaker\'s 600 s, less a margin, instead of real-time\'s 60 s, unless one is configured', async () => {
    assert.deepEqual(configDefaultsFromEnv({ SAGEMAKER_BATCH: 'true' }), { limits: { requestTimeoutMs: 595_000 } });
    assert.equal(configDefaultsFromEnv({}), undefined);
    assert.equal(configDefaultsFromEnv({ SAGEMAKER_BATCH: 'false' }), undefined);
    // A default only: serving.json and REQUEST_TIMEOUT_MS still win.
    const defaults = configDefaultsFromEnv({ SAGEMAKER_BATCH: 'true' });
    app = await readyApp({ modelDir: fraudModel().dir, defaults });
    assert.equal(app.model.config.limits.requestTimeoutMs, 595_000);
    await app.close();
    app = await readyApp({ modelDir: fraudModel({ limits: { requestTimeoutMs: 30_000 } }).dir, defaults });
    assert.equal(app.model.config.limits.requestTimeoutMs, 30_000, 'serving.json wins');
    await app.close();
    app = await readyApp({ modelDir: fraudModel().dir, defaults, config: configFromEnv({ REQUEST_TIMEOUT_MS: '20000' }) });
    assert.equal(app.model.config.limits.requestTimeoutMs, 20_000, 'REQUEST_TIMEOUT_MS wins');
    // The server process reads it from its environment.
    const server = await startServer({ MODEL_DIR: fraudModel().dir, SAGEMAKER_BATCH: 'true' });
    try {
      const line = server.logs.map((l) => { try { return JSON.parse(l); } catch { return {}; } }).find((l) => l.msg === 'model ready');
      assert.equal(line?.requestTimeoutMs, 595_000, server.logs.join('\n'));
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });

  it('keeps its execution parameters within SageMaker\'s limits: MaxPayloadInMB and MaxConcurrentTransforms x MaxPayloadInMB at most 100', async () => {
    const MiB = 1024 * 1024;
    // 9 workers would ask for 18 concurrent transforms of 6 MB: 108 MB, which CreateTransformJob refuses.
    const many = await listening({ modelDir: fraudModel().dir, config: { workers: 9, intraOpNumThreads: 1 } });
    try {
      assert.deepEqual((await request(many.port, 'GET', '/execution-parameters')).json(), { MaxConcurrentTransforms: 16, BatchStrategy: 'MULTI_RECORD', MaxPayloadInMB: 6 });
    } finally {
      await many.app.close();
    }
    // A text body limit above 100 MiB is reported as 100, with one transform at a time.
    const started = await listening({ modelDir: fraudModel().dir, config: { workers: 1, limits: { bodyLimitBytes: 200 * MiB, textBodyLimitBytes: 150 * MiB } } });
    app = started.app;
    assert.deepEqual((await request(started.port, 'GET', '/execution-parameters')).json(), { MaxConcurrentTransforms: 1, BatchStrategy: 'MULTI_RECORD', MaxPayloadInMB: 100 });
  });

  it('under batch transform (SAGEMAKER_BATCH=true), refuses to start with a CSV and JSON Lines body limit under 1 MiB, which MaxPayloadInMB cannot announce', { timeout: 60_000 }, async () => {
    const KiB = 1024;
    const MiB = 1024 * KiB;
    /** Why the server process would not start (it fails the test, stopped, if it starts). */
    const refusal = async (env: Record<string, string>): Promise<string> => {
      let server;
      try {
        server = await startServer({ MODEL_DIR: fraudModel().dir, SAGEMAKER_BATCH: 'true', ...env });
      } catch (e) {
        return (e as Error).message;
      }
      server.child.kill('SIGTERM');
      await server.exited;
      return assert.fail(`it started with ${JSON.stringify(env)}`);
    };
    // The server process: TEXT_BODY_LIMIT_BYTES, and BODY_LIMIT_BYTES (which caps the text limit).
    const text = await refusal({ TEXT_BODY_LIMIT_BYTES: String(512 * KiB) });
    assert.match(text, /cannot start: under batch transform \(SAGEMAKER_BATCH=true\) the CSV and JSON Lines body limit must be at least 1048576 bytes: limits\.textBodyLimitBytes \(TEXT_BODY_LIMIT_BYTES\) is 524288\. /);
    assert.match(text, /MaxPayloadInMB, a whole number of MB from 1 to 100/);
    assert.match(await refusal({ BODY_LIMIT_BYTES: String(100 * KiB) }),
      /cannot start: under batch transform \(SAGEMAKER_BATCH=true\) the CSV and JSON Lines body limit must be at least 1048576 bytes: limits\.bodyLimitBytes \(BODY_LIMIT_BYTES\), which caps it, is 102400\. .*raise limits\.bodyLimitBytes \(BODY_LIMIT_BYTES\) to at least 1048576 or leave it unset/);
    // serving.json's limit, in an app.
    await assert.rejects(buildApp({ modelDir: fraudModel({ limits: { textBodyLimitBytes: MiB - 1 } }).dir, batchTransform: true }),
      /limits\.textBodyLimitBytes \(TEXT_BODY_LIMIT_BYTES\) is 1048575\./);
    // Both set alike: raising the body limit alone would leave the text limit, so the message names both.
    await assert.rejects(buildApp({ modelDir: fraudModel({ limits: { bodyLimitBytes: 512 * KiB, textBodyLimitBytes: 512 * KiB } }).dir, batchTransform: true }),
      /raise limits\.bodyLimitBytes \(BODY_LIMIT_BYTES\) to at least 1048576 or leave it unset, and limits\.textBodyLimitBytes \(TEXT_BODY_LIMIT_BYTES\) too where it is set under that/);
    // A job's own payload size sets the limit, and 1 MiB is enough; outside batch transform a small limit is the operator's choice.
    const job = await startServer({ MODEL_DIR: fraudModel({ limits: { textBodyLimitBytes: 64 * KiB } }).dir, SAGEMAKER_BATCH: 'true', SAGEMAKER_MAX_PAYLOAD_IN_MB: '1' });
    try {
      assert.equal((await request(job.port, 'GET', '/execution-parameters')).json().MaxPayloadInMB, 1);
    } finally {
      job.child.kill('SIGTERM');
      await job.exited;
    }
    const realTime = await listening({ modelDir: fraudModel({ limits: { textBodyLimitBytes: 64 * KiB } }).dir });
    app = realTime.app;
    assert.equal((await request(realTime.port, 'POST', '/invocations', 'x'.repeat(65 * KiB), { 'content-type': 'text/csv' })).status, 413);
    // Outside batch transform the server starts, and still announces 1 MB, SageMaker's smallest payload: 0 would ask for a streaming job.
    assert.equal((await request(realTime.port, 'GET', '/execution-parameters')).json().MaxPayloadInMB, 1);
  });

  it('warns at start when a transform job streams (MaxPayloadInMB 0), as its chunked payloads of any size get 413 past the CSV and JSON Lines body limit', { timeout: 60_000 }, async () => {
    const MiB = 1024 * 1024;
    const streaming = await startServer({ MODEL_DIR: fraudModel().dir, SAGEMAKER_BATCH: 'true', SAGEMAKER_MAX_PAYLOAD_IN_MB: '0', TEXT_BODY_LIMIT_BYTES: String(MiB) });
    try {
      const warning = streaming.logs.map((l) => { try { return JSON.parse(l); } catch { return {}; } }).find((l) => l.level === 40 && /MaxPayloadInMB/.test(l.msg));
      assert.ok(warning, streaming.logs.join('\n'));
      assert.equal(warning.textBodyLimitBytes, MiB);
      assert.match(warning.msg, /^the transform job set MaxPayloadInMB to 0 \(SAGEMAKER_MAX_PAYLOAD_IN_MB=0\): SageMaker then sends payloads of any size, chunked; this server reads a body whole, so a CSV or JSON Lines payload above limits\.textBodyLimitBytes \(1048576 bytes\) gets 413 PAYLOAD_TOO_LARGE/);
      // What it warns of: a chunked body of unknown size past the limit.
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: streaming.port, method: 'POST', path: '/invocations', headers: { 'content-type': 'text/csv', 'transfer-encoding': 'chunked' } }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => { body += c; });
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        });
        req.on('error', reject);
        const line = Array(8).fill('0.5').join(',') + '\n';
        for (let sent = 0; sent <= MiB; sent += line.length) req.write(line);
        req.end();
      });
      assert.equal(answer.status, 413, answer.body);
      assert.equal(JSON.parse(answer.body).code, 'PAYLOAD_TOO_LARGE');
    } finally {
      streaming.child.kill('SIGTERM');
      await streaming.exited;
    }
    // A job that sets a payload size, or a server outside batch transform, gets no such warning.
    for (const env of [{ SAGEMAKER_BATCH: 'true', SAGEMAKER_MAX_PAYLOAD_IN_MB: '6' }, { SAGEMAKER_MAX_PAYLOAD_IN_MB: '0' }]) {
      const server = await startServer({ MODEL_DIR: fraudModel().dir, ...env });
      try {
        assert.ok(!server.logs.some((l) => l.includes('MaxPayloadInMB to 0')), `${JSON.stringify(env)}: ${server.logs.join('\n')}`);
      } finally {
        server.child.kill('SIGTERM');
        await server.exited;
      }
    }
  });

  it('scores JSON instances with the trained weights and passes custom attributes through', async () => {
    const { dir, weights } = fraudModel();
    const started = await listening({ modelDir: dir });
    app = started.app;
    const { x } = generateTransactions(5, 99);
    const res = await request(started.port, 'POST', '/invocations', { instances: x }, { 'X-Amzn-SageMaker-Custom-Attributes': 'trace=abc-123' });
    assert.equal(res.status, 200, res.body);
    assert.equal(res.headers['x-amzn-sagemaker-custom-attributes'], 'trace=abc-123');
    const { predictions } = res.json();
    assert.equal(predictions.length, 5);
    predictions.forEach((p: { fraud_probability: number[]; is_fraud: boolean[] }, i: number) => {
      const want = predictFraud(weights, x[i]);
      assert.ok(Math.abs(p.fraud_probability[0] - want) < 1e-5, `row ${i}: ${p.fraud_probability[0]} vs ${want}`);
      assert.equal(p.is_fraud[0], want > 0.5);
    });
    const longest = 'a'.repeat(1024); // SageMaker's limit, and the server's
    const long = await request(started.port, 'POST', '/invocations', { instances: x }, { 'X-Amzn-SageMaker-Custom-Attributes': longest });
    assert.equal(long.status, 200, long.body);
    assert.equal(long.headers['x-amzn-sagemaker-custom-attributes'], longest);
  });

  it('takes text/csv rows and answers CSV when asked, JSON otherwise', async () => {
    const { dir, weights } = fraudModel();
    const started = await listening({ modelDir: dir });
    app = started.app;
    const { x } = generateTransactions(3, 5);
    const csv = x.map((r) => r.join(',')).join('\r\n') + '\r\n';
    const asCsv = await request(started.port, 'POST', '/invocations', csv, { 'content-type': 'text/csv', accept: 'text/csv' });
    assert.equal(asCsv.status, 200, asCsv.body);
    assert.equal(asCsv.headers['content-type'], 'text/csv', 'exactly text/csv, as NumpyDeserializer and PandasDeserializer compare it');
    const lines = asCsv.body.trim().split('\n');
    assert.equal(lines.length, 3);
    lines.forEach((line, i) => {
      const [p, flag] = line.split(',');
      assert.ok(Math.abs(Number(p) - predictFraud(weights, x[i])) < 1e-5);
      assert.equal(flag, String(predictFraud(weights, x[i]) > 0.5));
    });
    const asJson = await request(started.port, 'POST', '/invocations', csv, { 'content-type': 'text/csv' });
    assert.equal(asJson.json().predictions.length, 3);
  });

  it('with SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT, answers rows sent without Accept, or with only */*, in that format, as a batch transform job without TransformOutput.Accept needs', { timeout: 60_000 }, async () => {
    const { dir, weights } = fraudModel();
    const { x } = generateTransactions(3, 13);
    const csv = x.map((r) => r.join(',')).join('\n') + '\n';
    const post = (port: number, accept: string, body: unknown = csv) => request(port, 'POST', '/invocations', body, typeof body === 'string' ? { 'content-type': 'text/csv', accept } : { accept });
    const server = await startServer({ MODEL_DIR: dir, SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT: 'text/csv' });
    try {
      for (const accept of ['', '*/*']) { // '' sends no Accept
        const res = await post(server.port, accept);
        assert.equal(res.status, 200, res.body);
        assert.equal(res.headers['content-type'], 'text/csv', accept);
        const lines = res.body.trimEnd().split('\n');
        assert.equal(lines.length, 3, res.body);
        lines.forEach((line, i) => assert.ok(Math.abs(Number(line.split(',')[0]) - predictFraud(weights, x[i])) < 1e-5, line));
      }
      // A format the request asks for, an Accept with none of the server's formats, and an OIP body are answered as before.
      assert.equal((await post(server.port, 'application/json')).json().predictions.length, 3);
      const other = await post(server.port, 'application/x-recordio-protobuf');
      assert.match(String(other.headers['content-type']), /^application\/json/);
      assert.equal(other.json().predictions.length, 3);
      const oip = await post(server.port, '', { inputs: [{ name: 'features', shape: [1, 8], datatype: 'FP32', data: x[0] }] });
      assert.match(String(oip.headers['content-type']), /^application\/json/);
      assert.deepEqual(oip.json().outputs.map((o: { name: string }) => o.name), ['fraud_probability', 'is_fraud']);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    // JSON Lines, labelled with the type the variable names, lower-cased and without its parameters (the
    // charset is the one every text answer carries).
    const lines = await startServer({ MODEL_DIR: dir, SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT: ' Application/X-JSONLines;Data=Text ' });
    try {
      for (const accept of ['', '*/*']) {
        const res = await post(lines.port, accept);
        assert.equal(res.status, 200, res.body);
        assert.equal(res.headers['content-type'], 'application/x-jsonlines; charset=utf-8', accept);
        const answers = res.body.trimEnd().split('\n').map((l) => JSON.parse(l));
        assert.equal(answers.length, 3, res.body);
        answers.forEach((a: { fraud_probability: number[] }, i: number) => assert.ok(Math.abs(a.fraud_probability[0] - predictFraud(weights, x[i])) < 1e-5));
      }
      assert.equal((await post(lines.port, 'text/csv')).headers['content-type'], 'text/csv', 'a format the request names wins');
    } finally {
      lines.child.kill('SIGTERM');
      await lines.exited;
    }
    // A type the server does not answer in stops the start, naming the variable, the value and the allowed types.
    const refused = await startServer({ MODEL_DIR: dir, SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT: 'text/plain' }).then(async (started) => {
      started.child.kill('SIGTERM');
      await started.exited;
      return assert.fail('it started with SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT=text/plain');
    }, (e: Error) => e.message);
    assert.match(refused, /cannot start: environment: SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT is \\"text\/plain\\"; it must be one of application\/json, text\/csv, application\/jsonlines, application\/jsonl, application\/x-jsonlines/);
    await assert.rejects(buildApp({ modelDir: dir, defaultAccept: 'application/x-recordio-protobuf' }), /^ConfigError: 'defaultAccept' is "application\/x-recordio-protobuf"; it must be one of application\/json, text\/csv, /);
  });

  it('labels a CSV answer exactly text/csv, and says charset=utf-8 only when a text in it is not ASCII', async () => {
    const words: ModelSpec = { name: 'words', inputs: [{ name: 'w', type: 'string', shape: ['batch', 1] }], outputs: [{ name: 'echo', type: 'string', shape: ['batch', 1] }], nodes: [{ op: 'Identity', inputs: ['w'], outputs: ['echo'] }] };
    const started = await listening({ modelDir: modelDir('words', words) });
    app = started.app;
    const plain = await request(started.port, 'POST', '/invocations', { instances: [['plain'], ['a,b']] }, { accept: 'text/csv' });
    assert.equal(plain.status, 200, plain.body);
    assert.equal(plain.headers['content-type'], 'text/csv');
    assert.equal(plain.body, 'plain\n"a,b"\n');
    const accented = await request(started.port, 'POST', '/invocations', { instances: [['plain'], ['caf\u00e9']] }, { accept: 'text/csv' });
    assert.equal(accented.headers['content-type'], 'text/csv; charset=utf-8');
    assert.equal(accented.body, 'plain\ncaf\u00e9\n');
  });

  it('reads a body with no Content-Type (optional in InvokeEndpoint) or application/octet-stream as JSON', async () => {
    const { dir, weights } = fraudModel();
    const started = await listening({ modelDir: dir });
    app = started.app;
    const { x } = generateTransactions(2, 7);
    for (const headers of [{}, { 'content-type': 'application/octet-stream' }] as Array<Record<string, string>>) {
      const res = await exactRequest(started.port, 'POST', '/invocations', JSON.stringify({ instances: x }), headers);
      assert.equal(res.status, 200, res.body);
      assert.ok(Math.abs(res.json().predictions[1].fraud_probability[0] - predictFraud(weights, x[1])) < 1e-5);
    }
    const csv = await exactRequest(started.port, 'POST', '/invocations', x.map((r) => r.join(',')).join('\n'), {});
    assert.equal(csv.status, 400);
    assert.match(csv.json().error, /^the body is not valid JSON \(it came with no Content-Type, or application\/octet-stream, so it was read as JSON\)/);
    const wrong = await exactRequest(started.port, 'POST', '/invocations', JSON.stringify({ instances: 5 }), {});
    assert.equal(wrong.status, 400);
    assert.equal(wrong.json().code, 'INVALID_REQUEST');
  });

  it('takes JSON Lines (one instance per line, as batch transform splits records) and answers JSON Lines when asked', async () => {
    const { dir, weights } = fraudModel();
    const started = await listening({ modelDir: dir });
    app = started.app;
    const { x } = generateTransactions(3, 11);
    const body = x.map((row) => JSON.stringify(row)).join('\n') + '\n\n';
    const lines = await request(started.port, 'POST', '/invocations', body, { 'content-type': 'application/jsonlines', accept: 'application/jsonlines' });
    assert.equal(lines.status, 200, lines.body);
    assert.match(String(lines.headers['content-type']), /^application\/jsonlines/);
    const answers = lines.body.trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.equal(answers.length, 3);
    answers.forEach((a: { fraud_probability: number[] }, i: number) => assert.ok(Math.abs(a.fraud_probability[0] - predictFraud(weights, x[i])) < 1e-5));
    // Answered under the JSON Lines name the client asked for.
    const named = await request(started.port, 'POST', '/invocations', body, { 'content-type': 'application/jsonlines', accept: 'application/x-jsonlines' });
    assert.match(String(named.headers['content-type']), /^application\/x-jsonlines/);
    // Without an Accept for it, the answer is JSON, as for every other body.
    const json = await request(started.port, 'POST', '/invocations', body, { 'content-type': 'application/jsonl' });
    assert.equal(json.json().predictions.length, 3);
    // CSV in, JSON Lines out.
    const fromCsv = await request(started.port, 'POST', '/invocations', x.map((r) => r.join(',')).join('\n'), { 'content-type': 'text/csv', accept: 'application/jsonlines' });
    assert.equal(fromCsv.body.trimEnd().split('\n').length, 3);
    const broken = await request(started.port, 'POST', '/invocations', `${JSON.stringify(x[0])}\n[1, 2,\n`, { 'content-type': 'application/jsonlines' });
    assert.equal(broken.status, 400);
    assert.equal(broken.json().code, 'BAD_JSON');
    assert.match(broken.json().error, /^line 2 of the JSON Lines body is not valid JSON/);
    const blank = await request(started.port, 'POST', '/invocations', '\n \n', { 'content-type': 'application/jsonlines' });
    assert.equal(blank.json().code, 'EMPTY_BODY');
    const short = await request(started.port, 'POST', '/invocations', '[1, 2]\n', { 'content-type': 'application/jsonlines' });
    assert.equal(short.status, 400);
    assert.match(short.json().code, /^(BAD_TENSOR_SHAPE|BAD_INSTANCES|DATA_LENGTH_MISMATCH)$/);
  });

  it('takes the simplified JSON of SageMaker\'s TensorFlow Serving container: a bare array of rows, one row, or one instance keyed by input name', async () => {
    const started = await listening({ modelDir: fraudModel().dir });
    app = started.app;
    const { x } = generateTransactions(3, 13);
    const plain = await request(started.port, 'POST', '/invocations', { instances: x });
    assert.equal(plain.status, 200, plain.body);
    const { predictions } = plain.json();
    // The SageMaker Python SDK's JSONSerializer sends a NumPy array or a list as a bare JSON array.
    const bare = await request(started.port, 'POST', '/invocations', x);
    assert.equal(bare.status, 200, bare.body);
    assert.deepEqual(bare.json(), plain.json());
    // An array of plain values for an input whose rows are arrays is one row; so is an object keyed by input name.
    for (const body of [x[1], { features: x[1] }]) {
      const one = await request(started.port, 'POST', '/invocations', body);
      assert.equal(one.status, 200, one.body);
      assert.deepEqual(one.json(), { predictions: [predictions[1]] });
    }
    // Answered in the format Accept asks for, as every row body is.
    const csv = await request(started.port, 'POST', '/invocations', x, { accept: 'text/csv' });
    assert.equal(csv.body.trim().split('\n').length, 3);
    const refusals: Array<[unknown, string, RegExp]> = [
      [[], 'BAD_INSTANCES', /^the body is an empty JSON array; send at least one row$/],
      [{ rows: x }, 'BAD_INSTANCES', /^the JSON body must hold "instances" \(an array of rows\) or "inputs" \(Open Inference Protocol tensors\), or be the rows themselves \(a JSON array\), or one instance keyed by input name \(the model has inputs 'features'\); it has the keys \["rows"\]$/],
      [{}, 'BAD_INSTANCES', /; it has no keys$/],
      [{ features: x[0], trace: 'abc' }, 'UNKNOWN_INPUT', /^the body \(one instance\) names input 'trace', which the model does not have; its inputs are 'features'$/],
      [x[0].slice(1), 'BAD_INSTANCES', /^the body \(one instance\): rows for input 'features' must each have shape \[8\] \(8 values\): input 'features': data has 7 values, shape \[8\] needs 8$/],
      [[x[0], x[1].slice(1)], 'BAD_INSTANCES', /^instance 1: rows for input 'features' must each have shape \[8\]/],
      [5, 'BAD_INSTANCES', /^the body \(one instance\): rows for input 'features' must each have shape \[8\]/],
    ];
    for (const [body, code, error] of refusals) {
      const res = await exactRequest(started.port, 'POST', '/invocations', JSON.stringify(body), { 'content-type': 'application/json' });
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.body}`);
      assert.equal(res.json().code, code, res.body);
      assert.match(res.json().error, error);
    }
    // The OIP route still takes only OIP bodies.
    const oip = await request(started.port, 'POST', '/v2/models/fraud-mlp/infer', x);
    assert.equal(oip.status, 400);
    assert.equal(oip.json().code, 'INVALID_REQUEST');
  });

  it('takes a bare array as rows of scalars, and a plain value as one row, for a model whose rows are scalars; a bare array of objects for several inputs', async () => {
    const scalarRows = { name: 'scalar-rows', inputs: [{ name: 'x', type: 'float32' as const, shape: ['n'] }], outputs: [{ name: 'y', type: 'float32' as const, shape: ['n'] }], nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }] };
    const started = await listening({ modelDir: modelDir('scalar-rows', scalarRows) });
    app = started.app;
    const many = await request(started.port, 'POST', '/invocations', [1.5, 2.5, 3.5]);
    assert.equal(many.status, 200, many.body);
    assert.deepEqual(many.json(), { predictions: [1.5, 2.5, 3.5] });
    const one = await exactRequest(started.port, 'POST', '/invocations', '7.25', { 'content-type': 'application/json' });
    assert.equal(one.status, 200, one.body);
    assert.deepEqual(one.json(), { predictions: [7.25] });
    const word = await exactRequest(started.port, 'POST', '/invocations', '"seven"', { 'content-type': 'application/json' });
    assert.equal(word.status, 400, word.body);
    assert.equal(word.json().code, 'BAD_TENSOR_VALUE');
    await app.close();
    const multi = await listening({ modelDir: modelDir('multi', multiInputSpec()) });
    app = multi.app;
    const keyed = await request(multi.port, 'POST', '/invocations', [{ a: [1], b: [1, 2] }, { a: [2], b: [3, 4] }]);
    assert.equal(keyed.status, 200, keyed.body);
    assert.deepEqual(keyed.json().predictions, [{ sum: [4], b_copy: [1, 2] }, { sum: [9], b_copy: [3, 4] }]);
    const oneKeyed = await request(multi.port, 'POST', '/invocations', { a: [1], b: [1, 2] });
    assert.deepEqual(oneKeyed.json().predictions, [{ sum: [4], b_copy: [1, 2] }]);
    const plainRows = await request(multi.port, 'POST', '/invocations', [[1], [2]]);
    assert.equal(plainRows.status, 400);
    assert.deepEqual(plainRows.json(), { error: "instance 0 must be an object keyed by input name (the model has inputs 'a', 'b')", code: 'BAD_INSTANCES' });
  });

  it('reads JSON Lines sent as application/json (a batch transform job splitting a JSON Lines file by line) as one instance per line', async () => {
    const started = await listening({ modelDir: fraudModel().dir });
    app = started.app;
    const { x } = generateTransactions(3, 17);
    const plain = (await request(started.port, 'POST', '/invocations', { instances: x })).json();
    const body = x.map((row) => JSON.stringify(row)).join('\r\n') + '\r\n';
    for (const headers of [{ 'content-type': 'application/json' }, {}] as Array<Record<string, string>>) {
      const res = await exactRequest(started.port, 'POST', '/invocations', body, headers);
      assert.equal(res.status, 200, res.body);
      assert.deepEqual(res.json(), plain);
    }
    const keyed = await exactRequest(started.port, 'POST', '/invocations', x.map((row) => JSON.stringify({ features: row })).join('\n\n'), { 'content-type': 'application/json' });
    assert.deepEqual(keyed.json(), plain);
    // A byte order mark, and blank lines before the first record, are passed over as under a JSON Lines type;
    // a line's number still counts the blank ones.
    for (const marked of [`\ufeff${body}`, `\r\n\n${body}`, `\ufeff\n${body}`]) {
      const res = await exactRequest(started.port, 'POST', '/invocations', marked, { 'content-type': 'application/json' });
      assert.equal(res.status, 200, `${JSON.stringify(marked.slice(0, 3))}: ${res.body}`);
      assert.deepEqual(res.json(), plain);
    }
    const late = await exactRequest(started.port, 'POST', '/invocations', `\ufeff\n\n${JSON.stringify(x[0])}\n[1]\n`, { 'content-type': 'application/json' });
    assert.match(late.json().error, /^line 4 of the JSON Lines body: /);
    const lines = await exactRequest(started.port, 'POST', '/invocations', body, { 'content-type': 'application/json', accept: 'application/jsonlines' });
    assert.equal(lines.body.trimEnd().split('\n').length, 3);
    // A line that is not JSON is named, beside what the JSON parser said of the whole body.
    const broken = await exactRequest(started.port, 'POST', '/invocations', `${JSON.stringify(x[0])}\n${JSON.stringify(x[1])}\n[1, 2,\n`, { 'content-type': 'application/json' });
    assert.equal(broken.status, 400);
    assert.equal(broken.json().code, 'BAD_JSON');
    assert.match(broken.json().error, /^the body is not valid JSON: .*; read as JSON Lines \(one instance per line\), line 3 is not valid JSON: /);
    // A row that does not fit is named by its line.
    const short = await exactRequest(started.port, 'POST', '/invocations', `${JSON.stringify(x[0])}\n${JSON.stringify(x[1].slice(2))}\n`, { 'content-type': 'application/json' });
    assert.equal(short.status, 400);
    assert.match(short.json().error, /^line 2 of the JSON Lines body: rows for input 'features' must each have shape \[8\]/);
    // JSON broken on its first line keeps the JSON parser's error alone.
    const pretty = await exactRequest(started.port, 'POST', '/invocations', '{\n  "instances": [[1, 2]\n', { 'content-type': 'application/json' });
    assert.equal(pretty.status, 400);
    assert.doesNotMatch(pretty.json().error, /JSON Lines/);
    // Only on /invocations: the OIP route takes one JSON document.
    const oip = await exactRequest(started.port, 'POST', '/v2/models/fraud-mlp/infer', '{"inputs": []}\n{"inputs": []}\n', { 'content-type': 'application/json' });
    assert.equal(oip.status, 400);
    assert.equal(oip.json().code, 'BAD_JSON');
    assert.doesNotMatch(oip.json().error, /JSON Lines/);
  });

  it('takes a NumPy .npy array (application/x-npy, the SageMaker Python SDK\'s NumpySerializer) as the rows of the model\'s one input', async () => {
    const started = await listening({ modelDir: fraudModel().dir });
    app = started.app;
    const { x } = generateTransactions(3, 19);
    const plain = await request(started.port, 'POST', '/invocations', { instances: x });
    assert.equal(plain.status, 200, plain.body);
    const f8 = new Float64Array(x.flat());
    // float64 is NumPy's default; the same rows as float32 give the same answer.
    for (const body of [npy('<f8', [3, 8], new Uint8Array(f8.buffer)), npy('<f4', [3, 8], new Uint8Array(new Float32Array(x.flat()).buffer))]) {
      const res = await exactRequest(started.port, 'POST', '/invocations', body, { 'content-type': 'application/x-npy' });
      assert.equal(res.status, 200, res.body);
      assert.deepEqual(res.json(), plain.json());
    }
    const one = await exactRequest(started.port, 'POST', '/invocations', npy('<f8', [8], new Uint8Array(new Float64Array(x[2]).buffer)), { 'content-type': 'application/x-npy' });
    assert.deepEqual(one.json().predictions, [plain.json().predictions[2]]);
    const refusals: Array<[Buffer, number, string, RegExp]> = [
      [Buffer.from(JSON.stringify({ instances: x })), 400, 'BAD_NPY', /^the body is not a NumPy \.npy array/],
      [npy('<f8', [3, 7], new Uint8Array(new Float64Array(21).buffer)), 400, 'BAD_TENSOR_SHAPE', /^input 'features': shape\[1\] is 7, the model expects 8/],
      [npy('|O', [1], new Uint8Array(8)), 400, 'BAD_NPY', /Python objects/],
      [npy('<f8', [1, 8], new Uint8Array(new Float64Array([1e300, 0, 0, 0, 0, 0, 0, 0]).buffer)), 400, 'BAD_TENSOR_VALUE', /^input 'features': element 0 is 1e\+300/],
    ];
    for (const [body, status, errorCode, error] of refusals) {
      const res = await exactRequest(started.port, 'POST', '/invocations', body, { 'content-type': 'application/x-npy' });
      assert.equal(res.status, status, res.body);
      assert.equal(res.json().code, errorCode, res.body);
      assert.match(res.json().error, error);
    }
    // An .npy file holds one array: the fraud model's two outputs are answered in JSON.
    const two = await exactRequest(started.port, 'POST', '/invocations', npy('<f8', [3, 8], new Uint8Array(f8.buffer)), { 'content-type': 'application/x-npy', accept: 'application/x-npy' });
    assert.equal(two.status, 200, two.body);
    assert.match(String(two.headers['content-type']), /^application\/json/);
    assert.deepEqual(two.json(), plain.json());
    await app!.close();
    // A model with one output answers .npy (NumpyDeserializer's format) when asked, from any row format.
    const scale: ModelSpec = {
      name: 'scale', inputs: [{ name: 'x', type: 'float32', shape: ['batch', 2] }], outputs: [{ name: 'y', type: 'float64', shape: ['batch', 2] }],
      nodes: [{ op: 'Cast', inputs: ['x'], outputs: ['y'], attributes: { to: 11 } }],
    };
    const single = await listening({ modelDir: modelDir('scale', scale) });
    app = single.app;
    const rows = [[1.5, -2], [3, 4.25]];
    for (const [body, type] of [[npy('<f4', [2, 2], new Uint8Array(new Float32Array(rows.flat()).buffer)), 'application/x-npy'], [JSON.stringify(rows), 'application/json'], ['1.5,-2\n3,4.25\n', 'text/csv']] as const) {
      const res = await exactRequest(single.port, 'POST', '/invocations', body, { 'content-type': type, accept: 'application/x-npy' });
      assert.equal(res.status, 200, res.body);
      assert.equal(res.headers['content-type'], 'application/x-npy', type);
      const array = parseNpy(res.raw);
      assert.deepEqual([array.descr, array.shape, [...npyTensorData('y', 'float64', array)]], ['<f8', [2, 2], rows.flat()], type);
    }
  });

  it('labels a rows answer in JSON exactly application/json, which the SageMaker Python SDK\'s NumpyDeserializer and PandasDeserializer compare as a whole', async () => {
    // NumpyDeserializer reads 'application/json' and raises on 'application/json; charset=utf-8': the JSON an
    // .npy request to a model with several outputs falls back to must carry the bare type.
    const served = await readyApp({ modelDir: fraudModel().dir });
    app = served;
    const { x } = generateTransactions(2, 7);
    const asked = [
      { 'content-type': 'application/x-npy', accept: 'application/x-npy' },
      { 'content-type': 'application/json', accept: 'text/csv, application/json' },
      { 'content-type': 'application/json' },
    ];
    for (const headers of asked) {
      const payload = headers['content-type'] === 'application/x-npy' ? npy('<f8', [2, 8], new Uint8Array(new Float64Array(x.flat()).buffer)) : JSON.stringify(x);
      const res = await served.inject({ method: 'POST', url: '/invocations', headers, payload });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['content-type'], 'application/json', JSON.stringify(headers));
      assert.equal(res.json().predictions.length, 2);
    }
  });

  it('refuses with 400 ANSWER_TOO_LARGE an .npy text answer whose fixed width would pass limits.maxAnswerElements, and answers it in JSON', async () => {
    // '<U' stores every text at the longest one's width: one text of 2000 characters among 999 empty ones
    // is a 2 million character array, from a request of 6 KB (a 100 KB one was answered 400 MB).
    const spec: ModelSpec = {
      name: 'echo', inputs: [{ name: 'x', type: 'string', shape: ['n'] }], outputs: [{ name: 'y', type: 'string', shape: ['n'] }],
      nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }],
    };
    app = await readyApp({ modelDir: modelDir('echo', spec), config: { limits: { maxAnswerElements: 1_000_000 } } });
    const texts = ['x'.repeat(2000), ...new Array<string>(999).fill('')];
    const post = (accept: string) => app!.inject({ method: 'POST', url: '/invocations', headers: { 'content-type': 'application/json', accept }, payload: JSON.stringify(texts) });
    const npyAnswer = await post('application/x-npy');
    assert.equal(npyAnswer.statusCode, 400, npyAnswer.body.slice(0, 200));
    assert.equal(npyAnswer.json().code, 'ANSWER_TOO_LARGE');
    assert.match(npyAnswer.json().error, /^the \.npy answer would hold 1000 texts of up to 2000 characters: .*2000000 characters in all, more than limits\.maxAnswerElements \(1000000\)/);
    const json = await post('application/json');
    assert.equal(json.statusCode, 200);
    assert.deepEqual(json.json().predictions, texts);
    const short = await app.inject({ method: 'POST', url: '/invocations', headers: { 'content-type': 'application/json', accept: 'application/x-npy' }, payload: JSON.stringify(['ab', '🙂']) });
    assert.equal(short.statusCode, 200, short.body);
    assert.deepEqual(npyTensorData('y', 'string', parseNpy(short.rawPayload)), ['ab', '🙂']);
  });

  it('accepts an Open Inference Protocol body on /invocations', async () => {
    const started = await listening({ modelDir: fraudModel().dir });
    app = started.app;
    const res = await request(started.port, 'POST', '/invocations', {
      id: 'sm-1', inputs: [{ name: 'features', shape: [1, 8], datatype: 'FP32', data: [0, 0, 0, 0, 0, 0, 0, 0] }], outputs: [{ name: 'is_fraud' }],
    });
    assert.equal(res.status, 200, res.body);
    const body = res.json();
    assert.equal(body.id, 'sm-1');
    assert.deepEqual(body.outputs.map((o: { name: string }) => o.name), ['is_fraud']);
    // An OIP body gets an OIP answer whatever the Accept.
    const asked = await request(started.port, 'POST', '/invocations', { inputs: [{ name: 'features', shape: [1, 8], datatype: 'FP32', data: [0, 0, 0, 0, 0, 0, 0, 0] }] }, { accept: 'text/csv' });
    assert.equal(asked.status, 200, asked.body);
    assert.match(String(asked.headers['content-type']), /^application\/json/);
    assert.deepEqual(asked.json().outputs.map((o: { name: string }) => o.name), ['fraud_probability', 'is_fraud']);
  });

  it('answers JSON, labelled application/json, to an Accept it has no format for', async () => {
    const started = await listening({ modelDir: fraudModel().dir });
    app = started.app;
    const res = await request(started.port, 'POST', '/invocations', { instances: [[0, 0, 0, 0, 0, 0, 0, 0]] }, { accept: 'application/x-recordio-protobuf' });
    assert.equal(res.status, 200, res.body);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    assert.equal(res.json().predictions.length, 1);
  });

  it('answers rows for a model with an input that has no batch axis (a scalar) with 400 BAD_INSTANCES, in every row format', async () => {
    const scalar = { name: 'scalar', inputs: [{ name: 's', type: 'float32' as const, shape: [] }], outputs: [{ name: 'y', type: 'float32' as const, shape: [] }], nodes: [{ op: 'Identity', inputs: ['s'], outputs: ['y'] }] };
    const started = await listening({ modelDir: modelDir('scalar', scalar) });
    app = started.app;
    for (const [type, body] of [['application/json', '{"instances":[5]}'], ['application/jsonlines', '5'], ['text/csv', '5']]) {
      const res = await exactRequest(started.port, 'POST', '/invocations', body, { 'content-type': type });
      assert.equal(res.status, 400, `${type}: ${res.body}`);
      assert.equal(res.json().code, 'BAD_INSTANCES', type);
      assert.match(res.json().error, /^input 's' has shape .* without a batch axis, so rows cannot be fed to it; send an Open Inference Protocol body/);
    }
    // The Open Inference Protocol body still works.
    const oip = await request(started.port, 'POST', '/invocations', { inputs: [{ name: 's', shape: [], datatype: 'FP32', data: [5] }] });
    assert.equal(oip.status, 200, oip.body);
    assert.deepEqual(oip.json().outputs[0].data, [5]);
  });

  it('takes instances keyed by input name for a model with several inputs', async () => {
    const started = await listening({ modelDir: modelDir('multi', multiInputSpec()) });
    app = started.app;
    const res = await request(started.port, 'POST', '/invocations', { instances: [{ a: [1], b: [1, 2] }, { a: [2], b: [3, 4] }] });
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(res.json().predictions, [{ sum: [4], b_copy: [1, 2] }, { sum: [9], b_copy: [3, 4] }]);
    const extra = await request(started.port, 'POST', '/invocations', { instances: [{ a: [1], b: [1, 2] }, { a: [2], b: [3, 4], c: [0] }] });
    assert.equal(extra.status, 400);
    assert.deepEqual(extra.json(), { error: "instance 1 names input 'c', which the model does not have; its inputs are 'a', 'b'", code: 'UNKNOWN_INPUT' });
    // A dynamic row dimension takes its size from the first row; the row that differs is named.
    const ragged = await request(started.port, 'POST', '/invocations', { instances: [{ a: [1], b: [1, 2, 3] }, { a: [2], b: [3, 4, 5] }, { a: [3], b: [6, 7] }] });
    assert.equal(ragged.status, 400);
    assert.deepEqual(ragged.json(), {
      error: "instance 2: rows for input 'b' must each have shape [3] (3 values, as instance 0 has it): input 'b': data has 2 values, shape [3] needs 3",
      code: 'BAD_INSTANCES',
    });
    // An empty row for a dynamic dimension makes a zero-size tensor: said in terms of the rows sent, not of a shape the client never wrote.
    const empty = await request(started.port, 'POST', '/invocations', { instances: [{ a: [1], b: [] }, { a: [2], b: [] }] });
    assert.equal(empty.status, 400);
    assert.deepEqual(empty.json(), {
      error: "the rows for input 'b' make a tensor of shape [2,0] (2 rows, each of shape [0] as instance 0 has it): input 'b': shape[1] is 0, every dimension must be an integer >= 1",
      code: 'BAD_TENSOR_SHAPE',
    });
  });

  it('takes instances keyed by input name for a model with one input too, as JSON and as JSON Lines', async () => {
    const started = await listening({ modelDir: fraudModel().dir });
    app = started.app;
    const { x } = generateTransactions(3, 7);
    const plain = await request(started.port, 'POST', '/invocations', { instances: x });
    assert.equal(plain.status, 200, plain.body);
    const keyed = await request(started.port, 'POST', '/invocations', { instances: x.map((row) => ({ features: row })) });
    assert.equal(keyed.status, 200, keyed.body);
    assert.deepEqual(keyed.json(), plain.json());
    const lines = await request(started.port, 'POST', '/invocations', x.map((row) => JSON.stringify({ features: row })).join('\n'), { 'content-type': 'application/jsonlines' });
    assert.equal(lines.status, 200, lines.body);
    assert.deepEqual(lines.json(), plain.json());
    const wrongKey = await request(started.port, 'POST', '/invocations', { instances: [{ feature: x[0] }] });
    assert.equal(wrongKey.status, 400);
    assert.deepEqual(wrongKey.json(), { error: "instance 0 has no value for input 'features'; the model needs 'features'; it has the keys [\"feature\"]", code: 'MISSING_INPUT' });
    const mixed = await request(started.port, 'POST', '/invocations', { instances: [{ features: x[0] }, x[1]] });
    assert.equal(mixed.status, 400);
    assert.deepEqual(mixed.json(), { error: "instance 1 must be an object keyed by input name (the model has inputs 'features')", code: 'BAD_INSTANCES' });
  });

  it('refuses CSV with 400 CSV_UNSUPPORTED for a model it cannot feed: several inputs, a BOOL or BYTES input, or a dynamic row dimension', async () => {
    const identity = (name: string, type: 'bool' | 'string' | 'float32', shape: Array<string | number>) => ({
      name, inputs: [{ name: 'x', type, shape }], outputs: [{ name: 'y', type, shape }], nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }],
    });
    const cases: Array<[string, Parameters<typeof modelDir>[1], RegExp]> = [
      ['multi', multiInputSpec(), /^CSV can feed a model with one input; this model has 2 \('a', 'b'\); send JSON instead$/],
      ['flags', identity('flags', 'bool', ['batch', 2]), /^CSV carries numbers; input 'x' is BOOL; send JSON instead$/],
      ['words', identity('words', 'string', ['batch', 2]), /^CSV carries numbers; input 'x' is BYTES; send JSON instead$/],
      ['ragged', identity('ragged', 'float32', ['batch', 'k']), /^input 'x' has dynamic row dimensions \[batch, k\], so a CSV row's layout is ambiguous; send JSON instead$/],
    ];
    for (const [name, spec, message] of cases) {
      app = await readyApp({ modelDir: modelDir(name, spec) });
      const res = await app.inject({ method: 'POST', url: '/invocations', headers: { 'content-type': 'text/csv' }, payload: '1,2\n' });
      assert.equal(res.statusCode, 400, `${name}: ${res.body}`);
      assert.equal(res.json().code, 'CSV_UNSUPPORTED', `${name}: ${res.body}`);
      assert.match(res.json().error, message, name);
      await app.close();
      app = undefined;
    }
  });

  it('answers a model whose only output is a scalar with one row per instance, the scalar repeated, in every row format', async () => {
    const spec: ModelSpec = {
      name: 'total',
      inputs: [{ name: 'x', type: 'float32', shape: ['batch', 2] }],
      outputs: [{ name: 'total', type: 'float32', shape: [] }],
      nodes: [{ op: 'ReduceSum', inputs: ['x'], outputs: ['total'], attributes: { keepdims: 0 } }],
    };
    app = await readyApp({ modelDir: modelDir('total', spec) });
    const json = await app.inject({ method: 'POST', url: '/invocations', payload: { instances: [[1, 2], [3, 4], [5, 6]] } });
    assert.equal(json.statusCode, 200, json.body);
    assert.deepEqual(json.json().predictions, [21, 21, 21]);
    const lines = await app.inject({ method: 'POST', url: '/invocations', headers: { 'content-type': 'application/jsonlines', accept: 'application/jsonlines' }, payload: '[1, 2]\n[3, 4]\n[5, 6]\n' });
    assert.equal(lines.statusCode, 200, lines.body);
    assert.equal(lines.body, '21\n21\n21\n');
    const csv = await app.inject({ method: 'POST', url: '/invocations', headers: { 'content-type': 'text/csv', accept: 'text/csv' }, payload: '1,2\n3,4\n5,6\n' });
    assert.equal(csv.statusCode, 200, csv.body);
    assert.equal(csv.body, '21\n21\n21\n', 'batch transform joins answers to records line by line');
    const npyAnswer = await app.inject({ method: 'POST', url: '/invocations', headers: { accept: 'application/x-npy' }, payload: { instances: [[1, 2], [3, 4], [5, 6]] } });
    assert.equal(npyAnswer.statusCode, 200, npyAnswer.body);
    const array = parseNpy(npyAnswer.rawPayload);
    assert.deepEqual([array.descr, array.shape, [...npyTensorData('total', 'float32', array)]], ['<f4', [3], [21, 21, 21]]);
  });

  it('refuses with 400 ANSWER_NOT_PER_ROW a predictions, JSON Lines or CSV answer whose output has no row for each instance, rather than dropping or inventing values', async () => {
    const spec: ModelSpec = {
      name: 'colsum',
      inputs: [{ name: 'x', type: 'float32', shape: ['batch', 2] }],
      outputs: [{ name: 'doubled', type: 'float32', shape: ['batch', 2] }, { name: 'colsum', type: 'float32', shape: [1, 2] }],
      initializers: [{ name: 'two', type: 'float32', dims: [], data: [2] }, { name: 'axis0', type: 'int64', dims: [1], data: [0] }],
      nodes: [{ op: 'Mul', inputs: ['x', 'two'], outputs: ['doubled'] }, { op: 'ReduceSum', inputs: ['x', 'axis0'], outputs: ['colsum'], attributes: { keepdims: 1 } }],
    };
    app = await readyApp({ modelDir: modelDir('colsum', spec) });
    const csv = (body: string) => app!.inject({ method: 'POST', url: '/invocations', headers: { 'content-type': 'text/csv', accept: 'text/csv' }, payload: body });
    const one = await csv('1,2\n');
    assert.equal(one.statusCode, 200);
    assert.equal(one.body, '2,4,1,2\n');
    const refusal = {
      error: 'output \'colsum\' has shape [1,2], not one row for each of the 3 instances sent, so the answer cannot be written as rows; send an Open Inference Protocol body ({"inputs": [...]}) to get the outputs as tensors',
      code: 'ANSWER_NOT_PER_ROW',
    };
    const three = await csv('1,2\n3,4\n5,6\n');
    assert.equal(three.statusCode, 400, three.body);
    assert.deepEqual(three.json(), refusal);
    // JSON predictions left colsum out of every row after the first, with a 200.
    const json = await app.inject({ method: 'POST', url: '/invocations', payload: { instances: [[1, 2], [3, 4], [5, 6]] } });
    assert.equal(json.statusCode, 400, json.body);
    assert.deepEqual(json.json(), refusal);
    const lines = await app.inject({ method: 'POST', url: '/invocations', headers: { 'content-type': 'application/jsonlines', accept: 'application/jsonlines' }, payload: '[1, 2]\n[3, 4]\n[5, 6]\n' });
    assert.equal(lines.statusCode, 400, lines.body);
    assert.deepEqual(lines.json(), refusal);
    // The same request as an OIP body gets every output as a tensor.
    const oip = await app.inject({ method: 'POST', url: '/invocations', payload: { inputs: [{ name: 'x', datatype: 'FP32', shape: [3, 2], data: [1, 2, 3, 4, 5, 6] }] } });
    assert.equal(oip.statusCode, 200, oip.body);
    assert.deepEqual(oip.json().outputs.find((o: { name: string }) => o.name === 'colsum'), { name: 'colsum', datatype: 'FP32', shape: [1, 2], data: [9, 12] });
  });

  it('feeds thousands of rows to a model with a fixed batch of 1 a few at a time, so they never fill the queue', async () => {
    const started = await listening({ modelDir: modelDir('fixed', fixedBatchSpec()), config: { queue: { maxSize: 8 } } });
    app = started.app;
    const rows = 2000;
    const csv = Array.from({ length: rows }, (_, i) => `${i},0,1,-1`).join('\n');
    const res = await request(started.port, 'POST', '/invocations', csv, { 'content-type': 'text/csv', accept: 'text/csv' });
    assert.equal(res.status, 200, res.body.slice(0, 300));
    const lines = res.body.trim().split('\n');
    assert.equal(lines.length, rows);
    lines.forEach((line, i) => assert.equal(line, `${2 * i + 1},1,3,-1`, `row ${i}`));
    const metrics = (await request(started.port, 'GET', '/metrics')).body;
    assert.equal(metricValue(metrics, 'inference_runs_total', { model: 'fixed' }), rows);
  });

  it('still feeds rows while the only worker is being replaced', { timeout: 10_000 }, async () => {
    const started = await listening({ modelDir: modelDir('fixed', fixedBatchSpec()), config: { workers: 1 } });
    app = started.app;
    await engineWorkers(app.model.engine)[0].terminate();
    const params = await request(started.port, 'GET', '/execution-parameters');
    assert.ok(params.json().MaxConcurrentTransforms >= 2, params.body);
    const res = await request(started.port, 'POST', '/invocations', '1,2,3,4\n5,6,7,8', { 'content-type': 'text/csv' });
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(res.json().predictions, [[3, 5, 7, 9], [11, 13, 15, 17]]);
  });

  it('serves a model with a fixed batch of 1 one row per run, and rejects a larger OIP batch', async () => {
    const started = await listening({ modelDir: modelDir('fixed', fixedBatchSpec()), config: { batching: { maxQueueDelayMs: 50 } } });
    app = started.app;
    const res = await request(started.port, 'POST', '/invocations', { instances: [[1, 2, 3, 4], [0, 0, 0, 0], [-1, -1, -1, -1]] });
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(res.json().predictions, [[3, 5, 7, 9], [1, 1, 1, 1], [-1, -1, -1, -1]]);
    const metrics = (await request(started.port, 'GET', '/metrics')).body;
    assert.equal(metricValue(metrics, 'inference_runs_total', { model: 'fixed' }), 3);
    assert.equal(metricValue(metrics, 'inference_batch_size_sum', { model: 'fixed' }), 3);
    const oip = await request(started.port, 'POST', '/v2/models/fixed/infer', { inputs: [{ name: 'x', shape: [2, 4], datatype: 'FP32', data: [1, 2, 3, 4, 5, 6, 7, 8] }] });
    assert.equal(oip.status, 400);
    assert.deepEqual(oip.json(), { error: "input 'x': shape[0] is 2, the model expects 1 ([1, 4])", code: 'BAD_TENSOR_SHAPE' });
  });
});
