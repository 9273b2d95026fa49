/**
 * What a hostile request, or an odd model or model directory, must not do: stall the HTTP thread with
 * a few bytes, slip a name inherited from Object.prototype past a check, or leave the server hanging
 * at start.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { fraudModel, readyApp } from './helpers';

async function post(app: FastifyInstance, url: string, payload: string | Buffer, headers: Record<string, string> = {}) {
  const res = await app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', ...headers }, payload });
  return { status: res.statusCode, body: res.json() as { error?: string; code?: string; [k: string]: unknown } };
}

describe('requests built to make the server work hard', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('refuses a CSV cell of many digits that is not a number at once (no backtracking over its digits)', async () => {
    app = await readyApp({ modelDir: fraudModel().dir });
    const cell = '1'.repeat(60_000) + 'x';
    const started = performance.now();
    const res = await post(app, '/invocations', `0,0,0,0,0,0,0,${cell}\n`, { 'content-type': 'text/csv' });
    const ms = performance.now() - started;
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'CSV_BAD_VALUE');
    assert.match(res.body.error!, /^CSV row 1, column 8 is "1{40}", not a finite decimal number$/);
    assert.ok(ms < 1000, `a ${cell.length}-character cell held the HTTP thread for ${Math.round(ms)} ms`);
    // The numbers CSV takes are still read.
    const ok = await post(app, '/invocations', '1.,.5,+1.5e-3,2E2,-0,7,0.0,1e+0\n', { 'content-type': 'text/csv' });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
  });
});
