import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'prom-client';
import { FastCounter, FastHistogram } from '../src/fast-metrics';

const BUCKETS = [0.001, 0.01, 0.1, 1];
const OBSERVED = [0, 0.0005, 0.001, 0.002, 0.05, 0.1, 0.5, 2, 100];

describe('fast metrics', () => {
  it('expose the same Prometheus text as prom-client for the same observations', async () => {
    const ours = new client.Registry();
    const theirs = new client.Registry();
    const h = new FastHistogram({ name: 'lat_seconds', help: 'Latency.', labelNames: ['route', 'code'], buckets: BUCKETS, registry: ours });
    const c = new FastCounter({ name: 'req_total', help: 'Requests.', labelNames: ['route', 'code'], registry: ours });
    const ph = new client.Histogram({ name: 'lat_seconds', help: 'Latency.', labelNames: ['route', 'code'], buckets: BUCKETS, registers: [theirs] });
    const pc = new client.Counter({ name: 'req_total', help: 'Requests.', labelNames: ['route', 'code'], registers: [theirs] });
    const series = [{ route: '/a', code: '200' }, { route: '/b "quoted"\n', code: '503' }];
    for (const labels of series) {
      const hs = h.series(labels);
      const cs = c.series(labels);
      for (const v of OBSERVED) {
        hs.observe(v);
        ph.observe(labels, v);
        cs.inc();
        pc.inc(labels);
      }
      cs.inc(2);
      pc.inc(labels, 2);
    }
    assert.equal(await ours.metrics(), await theirs.metrics());
    // prom-client adds an empty `exemplar` to each histogram value; the rest must be identical.
    const withoutExemplars = (json: unknown) => JSON.parse(JSON.stringify(json, (k, v) => (k === 'exemplar' ? undefined : v)));
    assert.deepEqual(withoutExemplars(await ours.getMetricsAsJSON()), withoutExemplars(await theirs.getMetricsAsJSON()));
  });

  it('counts each observation in the first bucket whose bound is at or above it', async () => {
    const registry = new client.Registry();
    const h = new FastHistogram({ name: 'x', help: 'x', labelNames: ['m'], buckets: [10, 1, 5], registry });
    const s = h.series({ m: 'a' });
    for (const v of [1, 1.5, 5, 6, 10, 11]) s.observe(v);
    assert.deepEqual([...s.counts], [1, 2, 2, 1]);
    const text = await registry.metrics();
    assert.match(text, /^x_bucket\{le="1",m="a"\} 1$/m);
    assert.match(text, /^x_bucket\{le="5",m="a"\} 3$/m);
    assert.match(text, /^x_bucket\{le="10",m="a"\} 5$/m);
    assert.match(text, /^x_bucket\{le="\+Inf",m="a"\} 6$/m);
    assert.match(text, /^x_sum\{m="a"\} 34.5$/m);
  });

  it('drops NaN and infinite observations, and counter steps that are negative or not finite, so no series is spoiled for good', async () => {
    const registry = new client.Registry();
    const h = new FastHistogram({ name: 'h', help: 'h', labelNames: ['m'], buckets: [1], registry });
    const s = h.series({ m: 'a' });
    for (const v of [0.5, NaN, Infinity, -Infinity, 2]) s.observe(v);
    assert.deepEqual([s.count, s.sum, ...s.counts], [2, 2.5, 1, 1]);
    const c = new FastCounter({ name: 'c_total', help: 'c', labelNames: ['m'], registry });
    const cs = c.series({ m: 'a' });
    for (const by of [2, -1, NaN, Infinity, 0.5]) cs.inc(by);
    assert.equal(cs.value, 2.5);
    const text = await registry.metrics();
    assert.match(text, /^h_sum\{m="a"\} 2.5$/m);
    assert.match(text, /^c_total\{m="a"\} 2.5$/m);
  });

  it('hands out one series per label set, and reset zeroes it in place', async () => {
    const registry = new client.Registry();
    const c = new FastCounter({ name: 'n_total', help: 'n', labelNames: ['m'], registry });
    const a = c.series({ m: 'a' });
    assert.equal(c.series({ m: 'a' }), a);
    assert.notEqual(c.series({ m: 'b' }), a);
    a.inc(3);
    registry.resetMetrics();
    a.inc();
    assert.match(await registry.metrics(), /^n_total\{m="a"\} 1$/m);
  });

  it('reject a missing label and unusable buckets, naming them', () => {
    const registry = new client.Registry();
    const c = new FastCounter({ name: 'n_total', help: 'n', labelNames: ['m', 'k'], registry });
    assert.throws(() => c.series({ m: 'a' } as never), /metric n_total: label 'k' must be a string, got undefined/);
    assert.throws(() => new FastHistogram({ name: 'h', help: 'h', labelNames: [], buckets: [1, 1], registry }), /metric h: buckets must be distinct finite numbers, got \[1, 1\]/);
    assert.throws(() => new FastHistogram({ name: 'h2', help: 'h', labelNames: [], buckets: [], registry }), /buckets must be distinct finite numbers, got \[\]/);
  });
});
