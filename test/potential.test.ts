import { test } from 'node:test';
import assert from 'node:assert/strict';
import { intPow, makePairModel, pairDerivatives, phi, potentialMinimum, smoothingCoefficients, X_CUTOFF, PAIR_LAMBDA } from '../src/model/potential.ts';

// Reference values printed in SPEC.md §1 (independent of this code).
const SPEC_TABLE = [
  { Q: 10, c4: 4.943847656250e-03, c2: -5.004882812500e-02, c0: 1.357421875000e-01, xmin: 1.14697, phimin: -0.106976 },
  { Q: 20, c4: 5.856096744537e-03, c2: -5.856513977051e-02, c0: 1.561870574951e-01, xmin: 1.09218, phimin: -0.323061 },
  { Q: 40, c4: 5.859374988063e-03, c2: -5.859374989996e-02, c0: 1.562499997899e-01, xmin: 1.05813, phimin: -0.510140 },
  { Q: 80, c4: 5.859375e-03, c2: -5.859375e-02, c0: 1.5625e-01, xmin: 1.03591, phimin: -0.649641 },
  { Q: 160, c4: 5.859375e-03, c2: -5.859375e-02, c0: 1.5625e-01, xmin: 1.02167, phimin: -0.745443 },
  { Q: 240, c4: 5.859375e-03, c2: -5.859375e-02, c0: 1.5625e-01, xmin: 1.01597, phimin: -0.784989 },
];

test('smoothing coefficients match the published table', () => {
  for (const row of SPEC_TABLE) {
    const c = smoothingCoefficients(row.Q);
    assert.ok(Math.abs(c.c4 - row.c4) < 1e-14, `Q=${row.Q} c4 ${c.c4}`);
    assert.ok(Math.abs(c.c2 - row.c2) < 1e-13, `Q=${row.Q} c2 ${c.c2}`);
    assert.ok(Math.abs(c.c0 - row.c0) < 1e-12, `Q=${row.Q} c0 ${c.c0}`);
  }
});

test('position and depth of the minimum match the published table', () => {
  for (const row of SPEC_TABLE) {
    const m = potentialMinimum(makePairModel(row.Q));
    assert.ok(Math.abs(m.x - row.xmin) < 6e-6, `Q=${row.Q} xmin ${m.x}`);
    assert.ok(Math.abs(m.phi - row.phimin) < 6e-7, `Q=${row.Q} phimin ${m.phi}`);
  }
});

test('phi, phi\' and phi\'\' vanish at the cutoff for every pair type', () => {
  for (const Q of [10, 12.5, 15, 240]) {
    const model = makePairModel(Q);
    for (let t = 0; t < 3; t++) {
      const rc = X_CUTOFF * PAIR_LAMBDA[t];
      const [e, d1, d2] = phi(model, t, rc * (1 - 1e-12));
      assert.ok(Math.abs(e) < 1e-12 && Math.abs(d1) < 1e-10 && Math.abs(d2) < 1e-9, `Q=${Q} t=${t}: ${e} ${d1} ${d2}`);
      assert.deepEqual(phi(model, t, rc * (1 + 1e-12)), [0, 0, 0, 0]);
    }
  }
});

test('analytic derivatives agree with central finite differences', () => {
  for (const Q of [10, 12.5, 15, 40, 240]) {
    const model = makePairModel(Q);
    for (let t = 0; t < 3; t++) {
      for (const x of [0.97, 1.0, 1.05, 1.2, 1.6, 1.9]) {
        const r = x * PAIR_LAMBDA[t];
        const h = 1e-5 * r;
        const [, d1, d2, d3] = phi(model, t, r);
        const [ep, d1p, d2p] = phi(model, t, r + h);
        const [em, d1m, d2m] = phi(model, t, r - h);
        const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(1e-6, Math.abs(b));
        assert.ok(rel((ep - em) / (2 * h), d1) < 1e-6, `Q=${Q} t=${t} x=${x} phi'`);
        assert.ok(rel((d1p - d1m) / (2 * h), d2) < 1e-6, `Q=${Q} t=${t} x=${x} phi''`);
        assert.ok(rel((d2p - d2m) / (2 * h), d3) < 1e-6, `Q=${Q} t=${t} x=${x} phi'''`);
      }
    }
  }
});

test('integer powers by repeated squaring equal Math.pow; the even-Q path equals the general one', () => {
  for (const n of [0, 1, 3, 5, 60, 120]) assert.ok(Math.abs(intPow(0.93, n) / 0.93 ** n - 1) < 1e-13, `n=${n}`);
  const even = makePairModel(240);
  assert.equal(even.halfQ, 120);
  const general = { ...even, halfQ: 0 };
  const a = new Float64Array(4), b = new Float64Array(4);
  for (const r2 of [0.9, 1.0, 1.3, 2.5]) {
    pairDerivatives(even, 0, r2, a);
    pairDerivatives(general, 0, r2, b);
    for (let k = 0; k < 4; k++) assert.ok(Math.abs(a[k] - b[k]) <= 1e-12 * Math.max(1, Math.abs(b[k])), `r2=${r2} k=${k}`);
  }
});

test('Q ≤ 6 and non-finite Q are refused with a clear message', () => {
  for (const Q of [6, 5, -1, NaN, Infinity]) assert.throws(() => makePairModel(Q), /Q must be a finite number > 6/);
});
