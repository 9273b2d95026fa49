/**
 * The benchmark's servers (bench/target.ts) answer the benchmark's request alike: the naive baseline (c)
 * and the constant-body HTTP ceiling (d) send the same bytes as the server (a), so the ratios between
 * them compare the work done, not the size of what is sent.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { targetApp } from '../bench/target';
import { heavySpec } from '../tools/test-models';
import { fraudModel, modelDir, scratchDir } from './helpers';

describe('benchmark servers', () => {
  const apps: FastifyInstance[] = [];
  after(async () => {
    for (const app of apps) await app.close();
  });
  const start = async (mode: string, dir: string, constantFile?: string) => {
    const app = await targetApp(mode, dir, constantFile);
    apps.push(app);
    return app;
  };

  const models = [
    // The example model as the benchmark writes it, and a small model of the heavy model's shape.
    { dir: fraudModel().dir, input: 'features', width: 8 },
    { dir: modelDir('heavy-mlp', heavySpec(16, 2, 8)), input: 'input', width: 8 },
  ];
  for (const model of models) {
    const name = path.basename(model.dir);
    it(`${name}: the naive and constant-body servers answer the server's bytes`, async () => {
      const url = `/v2/models/${name}/infer`;
      // The benchmark's request: one row, as an OIP infer body.
      const payload = JSON.stringify({ inputs: [{ name: model.input, shape: [1, model.width], datatype: 'FP32', data: Array.from({ length: model.width }, (_, i) => (i % 7) / 7) }] });
      const post = (app: FastifyInstance) => app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload });
      const served = await post(await start('batching', model.dir));
      assert.equal(served.statusCode, 200, served.body);
      const unbatched = await post(await start('nobatch', model.dir));
      assert.equal(unbatched.body, served.body);
      const naive = await post(await start('naive', model.dir));
      assert.equal(naive.statusCode, 200, naive.body);
      assert.equal(naive.body, served.body);
      assert.equal(naive.headers['content-type'], served.headers['content-type']);
      const constantFile = path.join(scratchDir('answer-'), 'answer.json');
      fs.writeFileSync(constantFile, served.body);
      const constant = await post(await start('constant', model.dir, constantFile));
      assert.equal(constant.body, served.body);
      assert.equal(constant.headers['content-type'], served.headers['content-type']);
      assert.equal(constant.headers['content-length'], served.headers['content-length']);
    });
  }
});
