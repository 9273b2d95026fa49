import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { listening, modelDir, request } from './helpers';
import { fixedBatchSpec } from '../tools/test-models';

/** Keeps this thread (and so the server's event loop, which shares it) busy for `ms`. */
function block(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) { /* busy on purpose */ }
}

const INFER = { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] };

describe('event-loop pressure', () => {
  let app: FastifyInstance;
  let port: number;
  before(async () => {
    // A lag of more than 1 ms (as a mean over under-pressure's one-second sample) sheds load.
    ({ app, port } = await listening({ modelDir: modelDir('fraud', fixedBatchSpec()), maxEventLoopDelayMs: 1 }));
  });
  after(() => app.close());

  /**
   * Sends the request to `path` between two inference requests once the event loop has lagged; the
   * pressure state changes only once a second, so both inference requests shed means it held for the
   * one in between too. Resolves with that request's answer.
   */
  async function underPressure(method: string, path: string): Promise<Awaited<ReturnType<typeof request>>> {
    for (let attempt = 0; attempt < 10; attempt++) {
      block(300);
      await new Promise((r) => setTimeout(r, 20));
      const first = request(port, 'POST', '/v2/models/fraud/infer', INFER);
      const probe = request(port, method, path);
      const last = request(port, 'POST', '/v2/models/fraud/infer', INFER);
      const [a, p, b] = await Promise.all([first, probe, last]);
      if (a.status === 503 && b.status === 503) {
        for (const shed of [a, b]) {
          assert.equal(shed.json().code, 'OVERLOADED');
          assert.equal(shed.headers['retry-after'], '1');
        }
        return p;
      }
      assert.equal(a.status, 200, a.body); // not shed: answered
    }
    throw new Error('the event loop never counted as under pressure');
  }

  for (const path of ['/ping', '/v2/health/ready', '/v2/health/live', '/v2/models/fraud/ready', '/v2/models/fraud/versions/1/ready', '/metrics']) {
    it(`answers GET ${path} while inference requests are shed`, async () => {
      const res = await underPressure('GET', path);
      assert.equal(res.status, 200, res.body);
    });
  }

  it('sheds the model metadata route with the inference routes', async () => {
    const res = await underPressure('GET', '/v2/models/fraud');
    assert.equal(res.status, 503, res.body);
    assert.equal(res.json().code, 'OVERLOADED');
  });
});
