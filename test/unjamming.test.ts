import test from 'node:test';
import assert from 'node:assert/strict';
import { fitPowerLaw, unjammingFits, type ControlPoint } from '../src/analysis/unjamming.ts';
import type { Estimate } from '../src/analysis/statistics.ts';

const est = (value: number, error = 0): Estimate => ({ value, error, ciLow: value - 2 * error, ciHigh: value + 2 * error, level: 0.95, n: 20, replicates: 1000 });

test('fitPowerLaw: an exact power law gives its exponent with no error', () => {
  const x = [1e-4, 1e-3, 1e-2].map((v) => est(v));
  const y = x.map((e) => est(0.7 * e.value ** 0.5));
  const f = fitPowerLaw(x, y);
  assert.ok(Math.abs(f.exponent - 0.5) < 1e-12, `exponent ${f.exponent}`);
  assert.equal(f.error, 0);
});

test('fitPowerLaw: the bootstrap error agrees with the least-squares error of the slope', () => {
  // y with relative error r on log axes: var(β) = r² / Σ(ln x − mean)² for x without error
  const xs = [10, 20, 40, 80, 160, 240];
  const r = 0.01;
  const x = xs.map((v) => est(v));
  const y = xs.map((v) => est(v ** -0.4, r * v ** -0.4));
  const lx = xs.map(Math.log);
  const m = lx.reduce((a, b) => a + b) / lx.length;
  const expected = r / Math.sqrt(lx.reduce((a, b) => a + (b - m) ** 2, 0));
  const f = fitPowerLaw(x, y, 4000, 3);
  assert.ok(Math.abs(f.exponent + 0.4) < 1e-12);
  assert.ok(Math.abs(f.error / expected - 1) < 0.08, `bootstrap ${f.error} against ${expected}`);
  assert.deepEqual(fitPowerLaw(x, y, 4000, 3), f, 'the same seed gives the same error');
});

test('fitPowerLaw: fewer than two points is an error', () => {
  assert.throws(() => fitPowerLaw([est(1)], [est(2)]), /at least two/);
});

test('unjammingFits: soft spheres are fitted near unjamming only; local exponents show where a Q-model reaches Q^(−1/2)', () => {
  const points: ControlPoint[] = [];
  for (const p of [1e-1, 1e-2, 1e-3, 1e-4]) {
    const pOverK = 7 * p;
    // far from unjamming (p = 0.1) G/K leaves the square-root law
    const GOverK = p > 1e-2 ? 0.2 : 0.9 * Math.sqrt(pOverK);
    const Z = 6 + 4 * p ** 0.5;
    points.push({ model: 'harmonic', axis: 'pressure', point: p, pOverK: est(pOverK, 0.01 * pOverK), GOverK: est(GOverK, 0.02 * GOverK), xi: est(GOverK ** -0.5), peak: est(3 / GOverK), Z: est(Z, 0.01), alpha: 2 });
  }
  for (const Q of [10, 40, 160, 240, 1000]) {
    const GOverK = Q <= 160 ? Q ** -0.2 : 160 ** 0.3 * Q ** -0.5;
    points.push({ model: 'q-model', axis: 'Q', point: Q, GOverK: est(GOverK, 0.01 * GOverK), pOverK: est(1e-4, 1e-4) });
  }
  const fits = unjammingFits(points);
  const one = (model: string, claim: string, range: string, x?: string) => {
    const f = fits.filter((g) => g.model === model && g.claim === claim && g.range === range && (x === undefined || g.x === x));
    assert.equal(f.length, 1, `${model} (${claim}) ${range}: ${JSON.stringify(fits)}`);
    return f[0];
  };
  const gk = one('harmonic', 'i', 'p ≤ 0.01');
  assert.equal(gk.points, 3);
  assert.ok(Math.abs(gk.exponent - 0.5) < 1e-12 && gk.error > 0 && gk.expected === 0.5);
  assert.ok(Math.abs(one('harmonic', 'iii', 'p ≤ 0.01').exponent + 0.5) < 1e-12);
  assert.ok(Math.abs(one('harmonic', 'ii', 'p ≤ 0.01').exponent + 1) < 1e-12);
  // Z − 6 against the target pressure itself, near unjamming only
  const z = one('harmonic', 'jamming', 'p ≤ 0.01');
  assert.ok(z.points === 3 && Math.abs(z.exponent - 0.5) < 1e-12 && z.error > 0 && z.x === 'p' && z.y === 'Z − 6' && z.expected === 0.5, JSON.stringify(z));
  assert.ok(Math.abs(one('q-model', 'i', 'Q 10–40').exponent + 0.2) < 1e-12);
  assert.ok(Math.abs(one('q-model', 'i', 'Q 240–1000').exponent + 0.5) < 1e-12);
  assert.ok(Math.abs(one('q-model', 'i', 'Q 160–240').exponent + 0.5) < 1e-12);
  assert.equal(one('q-model', 'i', 'all').points, 5);
  // a Q-model has no g(r) or modes here: those fits are left out, not made of nothing
  assert.equal(fits.filter((f) => f.model === 'q-model' && f.claim !== 'i').length, 0);
});
