import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { onnx } from 'onnx-proto';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app';
import { resolveConfig, ServingConfigInput } from '../src/config';
import { InferenceEngine } from '../src/engine';
import type { ModelSpec } from '../tools/onnx-builder';
import { closeAll, modelDir, settle, startEngine } from './helpers';

/** y = Reshape(x, [-1, 4]): x of [1, 8] runs, the default warm-up's [1, 1] does not. */
const reshape4: ModelSpec = {
  name: 'reshape4',
  inputs: [{ name: 'x', type: 'float32', shape: ['batch', 'n'] }],
  outputs: [{ name: 'y', type: 'float32', shape: ['m', 4] }],
  initializers: [{ name: 'shape', type: 'int64', dims: [2], data: [-1, 4] }],
  nodes: [{ op: 'Reshape', inputs: ['x', 'shape'], outputs: ['y'] }],
};

/** y = x . w, with w of [2, 3]: x is [batch, 2], its second dimension fixed. */
const matmul: ModelSpec = {
  name: 'matmul',
  inputs: [{ name: 'x', type: 'float32', shape: ['batch', 2] }],
  outputs: [{ name: 'y', type: 'float32', shape: ['batch', 3] }],
  initializers: [{ name: 'w', type: 'float32', dims: [2, 3], data: [1, 2, 3, 4, 5, 6] }],
  nodes: [{ op: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] }],
};

const start = (name: string, spec: ModelSpec, config: ServingConfigInput, events: string[] = []): Promise<InferenceEngine> =>
  startEngine(name, spec, config, { onWorkerEvent: (event) => events.push(event) });

describe('warmUp.shapes', () => {
  let engine: InferenceEngine | undefined;
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await closeAll(engine, app);
    engine = app = undefined;
  });

  it('warms up a model that refuses dimensions of 1 with the shapes serving.json gives, and the server becomes ready', async () => {
    const lines: Array<Record<string, unknown>> = [];
    app = await buildApp({
      modelDir: modelDir('reshape4', reshape4, { workers: 1, warmUp: { shapes: { x: [1, 8] } } }),
      logger: { level: 'info', stream: { write: (l: string) => { lines.push(JSON.parse(l)); } } },
    });
    await app.model.ready;
    assert.equal((await app.inject({ method: 'GET', url: '/v2/health/ready' })).statusCode, 200);
    assert.deepEqual(lines.filter((l) => l.event === 'warm-up-skipped'), [], 'the warm-up ran');
    const res = await app.inject({ method: 'POST', url: '/v2/models/reshape4/infer', payload: { inputs: [{ name: 'x', shape: [1, 8], datatype: 'FP32', data: [1, 2, 3, 4, 5, 6, 7, 8] }] } });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json().outputs[0].shape, [2, 4]);
  });

  it('reports no skipped warm-up at the engine when the shapes are given; without them, the warm-up is skipped as before', async () => {
    const given: string[] = [];
    engine = await start('reshape4', reshape4, { workers: 1, warmUp: { shapes: { x: [2, 4] } } }, given);
    assert.ok(!given.includes('warm-up-skipped'), JSON.stringify(given));
    await engine.close(0);
    const without: string[] = [];
    engine = await start('reshape4', reshape4, { workers: 1 }, without);
    assert.ok(without.includes('warm-up-skipped'), JSON.stringify(without));
    const r = await settle(engine.infer({ inputs: [{ name: 'x', type: 'float32', dims: [1, 8], data: new Float32Array(8) }], outputNames: ['y'], deadline: Date.now() + 5000 }));
    assert.ok(r.ok, JSON.stringify(r));
  });

  it('does not start when the model refuses the shapes given: the warm-up is not skipped', async () => {
    const events: string[] = [];
    await assert.rejects(start('reshape4', reshape4, { workers: 1, warmUp: { shapes: { x: [1, 3] } } }, events), (e: Error) => {
      assert.match(e.message, /^warm-up inference failed: .*Reshape/s);
      assert.match(e.message, /warmUp\.shapes/);
      return true;
    });
    assert.ok(!events.includes('warm-up-skipped'), JSON.stringify(events));
  });

  it('does not start when a shape does not fit the model: an unknown input, another rank, a fixed dimension that differs', async () => {
    await assert.rejects(start('matmul', matmul, { workers: 1, warmUp: { shapes: { z: [1, 2] } } }), {
      message: /^cannot serve model .*model\.onnx: 'warmUp\.shapes\.z' is \[1,2\], but the model has no input 'z'; its inputs are 'x' \(\[batch, 2\]\)$/,
    });
    await assert.rejects(start('matmul', matmul, { workers: 1, warmUp: { shapes: { x: [2] } } }), {
      message: /^cannot serve model .*model\.onnx: 'warmUp\.shapes\.x' is \[2\], with 1 dimension, but input 'x' has 2: \[batch, 2\]$/,
    });
    await assert.rejects(start('matmul', matmul, { workers: 1, warmUp: { shapes: { x: [1, 3] } } }), {
      message: /^cannot serve model .*model\.onnx: 'warmUp\.shapes\.x' is \[1,3\], but dimension 1 of input 'x' is fixed at 2: \[batch, 2\]$/,
    });
    // Dynamic dimensions take any size, the first one too.
    engine = await start('matmul', matmul, { workers: 1, warmUp: { shapes: { x: [5, 2] } } });
  });

  it('gives an input without a declared shape the shape given, of any rank', async () => {
    // The MatMul's x must end in 2, but the model leaves its shape out: the default warm-up's [1] fails.
    const dir = modelDir('shapeless', matmul);
    const model = onnx.ModelProto.decode(fs.readFileSync(path.join(dir, 'model.onnx')));
    for (const v of [...model.graph!.input!, ...model.graph!.output!]) delete v.type!.tensorType!.shape;
    fs.writeFileSync(path.join(dir, 'model.onnx'), onnx.ModelProto.encode(model).finish());
    const events: string[] = [];
    const started = (shapes: Record<string, number[]>) => InferenceEngine.start(path.join(dir, 'model.onnx'), resolveConfig(dir, [['test', { workers: 1, warmUp: { shapes } }]]), { onWorkerEvent: (event) => events.push(event) });
    engine = await started({ x: [3, 1, 2] });
    assert.deepEqual(events, []);
    await engine.close(0);
    engine = undefined;
    await assert.rejects(started({ x: [1] }), /^Error: warm-up inference failed: .*MatMul.*\(inputs named in warmUp\.shapes had the shapes given there: \{"x":\[1\]\}\)$/s);
  });
});

describe('warmUp in serving.json', () => {
  const dir = '/nonexistent-model-dir';
  const fails = (raw: unknown, message: RegExp) => assert.throws(() => resolveConfig(dir, [['serving.json', raw]]), message);

  it('takes shapes by input name', () => {
    const c = resolveConfig(dir, [['serving.json', { warmUp: { shapes: { x: [1, 8], 'in/a:0': [] } } }]]);
    assert.deepEqual(c.warmUp, { shapes: { x: [1, 8], 'in/a:0': [] } });
    assert.equal(resolveConfig(dir, []).warmUp, undefined);
  });

  it('refuses what is not a shape, naming the field and the value', () => {
    fails({ warmUp: { shapes: { x: [1] }, runs: 2 } }, /^ConfigError: serving.json: unknown field 'warmUp\.runs'; allowed fields are shapes$/);
    fails({ warmUp: [1] }, /^ConfigError: serving.json: 'warmUp' is \[1\]; it must be an object$/);
    fails({ warmUp: { shapes: [[1, 8]] } }, /^ConfigError: serving.json: 'warmUp\.shapes' is \[\[1,8\]\]; it must be an object from input names to shapes, such as \{"x": \[1, 8\]\}$/);
    fails({ warmUp: { shapes: {} } }, /^ConfigError: serving.json: 'warmUp\.shapes' is \{\}; it must name at least one input/);
    const dims = /it must be a list of at most 16 whole numbers, each at least 1 \(limits\.maxTensorRank is 16\)$/.source;
    fails({ warmUp: { shapes: { x: 8 } } }, new RegExp(`^ConfigError: serving.json: 'warmUp\\.shapes\\.x' is 8; ${dims}`));
    fails({ warmUp: { shapes: { x: '[1, 8]' } } }, new RegExp(`^ConfigError: serving.json: 'warmUp\\.shapes\\.x' is "\\[1, 8\\]"; ${dims}`));
    fails({ warmUp: { shapes: { x: [1, 0] } } }, new RegExp(`^ConfigError: serving.json: 'warmUp\\.shapes\\.x' is \\[1,0\\]; ${dims}`));
    fails({ warmUp: { shapes: { x: [1, 2.5] } } }, new RegExp(`^ConfigError: serving.json: 'warmUp\\.shapes\\.x' is \\[1,2\\.5\\]; ${dims}`));
    fails({ warmUp: { shapes: { x: [1, -1] } } }, new RegExp(`^ConfigError: serving.json: 'warmUp\\.shapes\\.x' is \\[1,-1\\]; ${dims}`));
    fails({ warmUp: { shapes: { x: new Array(17).fill(1) } } }, new RegExp(`^ConfigError: serving.json: 'warmUp\\.shapes\\.x' is \\[(1,){16}1\\]; ${dims}`));
    // The limits apply whichever layer sets them.
    fails({ warmUp: { shapes: { x: [1, 1, 1] } }, limits: { maxTensorRank: 2 } }, /'warmUp\.shapes\.x' is \[1,1,1\]; it must be a list of at most 2 whole numbers, each at least 1 \(limits\.maxTensorRank is 2\)$/);
    fails({ warmUp: { shapes: { x: [1000, 1000] } }, limits: { maxTensorElements: 1000 } },
      /^ConfigError: serving.json: 'warmUp\.shapes\.x' is \[1000,1000\]: 1000000 elements, more than limits\.maxTensorElements \(1000\)$/);
  });
});
