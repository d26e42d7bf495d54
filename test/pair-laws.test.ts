import { test } from 'node:test';
import assert from 'node:assert/strict';
import { phiAt, type PairLaw } from '../src/model/pair-law.ts';
import { intPow, PAIR_LAMBDA, potentialMinimum, qModel, repulsiveQ, smoothingCoefficients, X_CUTOFF } from '../src/model/q-model.ts';
import { harmonicSpheres, hertzianSpheres, PAIR_SIGMA, softSpheres } from '../src/model/soft-sphere.ts';
import { LAW_NAMES, lawLabel, makePairLaw } from '../src/model/laws.ts';

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
    const m = potentialMinimum(qModel(row.Q));
    assert.ok(Math.abs(m.x - row.xmin) < 6e-6, `Q=${row.Q} xmin ${m.x}`);
    assert.ok(Math.abs(m.phi - row.phimin) < 6e-7, `Q=${row.Q} phimin ${m.phi}`);
  }
});

/** Every law at its parameters of interest, with distances (in units of its pair cutoff) inside the interaction. */
const LAWS: { law: PairLaw; xs: number[] }[] = [
  ...[10, 12.5, 15, 40, 240].map((Q) => ({ law: qModel(Q), xs: [0.485, 0.5, 0.525, 0.6, 0.8, 0.95] })),
  ...[10, 15, 240].map((Q) => ({ law: repulsiveQ(Q), xs: [0.485, 0.5, 0.525, 0.6, 0.8, 0.95] })),
  { law: harmonicSpheres(), xs: [0.7, 0.85, 0.95, 0.99] },
  { law: hertzianSpheres(), xs: [0.7, 0.85, 0.95, 0.99] },
  { law: softSpheres('soft-3', 3), xs: [0.7, 0.9, 0.99] },
];

test('φ, φ′ and φ″ vanish at the cutoff for every law and pair type; nothing beyond it', () => {
  for (const { law } of LAWS) {
    for (let t = 0; t < 3; t++) {
      const rc = law.cutoff[t];
      const [e, d1, d2] = phiAt(law, t, rc * (1 - 1e-12));
      // harmonic spheres are C¹ only (φ″ jumps from ε/σ² to 0 at contact); Hertzian φ″ ∝ (1 − r/σ)^½
      const d2Bound = law.name === 'harmonic' ? Infinity : law.name === 'hertzian' ? 1e-5 : 1e-9;
      assert.ok(Math.abs(e) < 1e-12 && Math.abs(d1) < 1e-10 && Math.abs(d2) < d2Bound, `${lawLabel(law)} t=${t}: ${e} ${d1} ${d2}`);
      assert.deepEqual(phiAt(law, t, rc * (1 + 1e-12)), [0, 0, 0, 0]);
    }
  }
  for (let t = 0; t < 3; t++) {
    assert.equal(qModel(40).cutoff[t], X_CUTOFF * PAIR_LAMBDA[t]);
    assert.equal(harmonicSpheres().cutoff[t], PAIR_SIGMA[t]);
  }
});

test('analytic φ′, φ″, φ‴ of every law agree with central finite differences', () => {
  for (const { law, xs } of LAWS) {
    for (let t = 0; t < 3; t++) {
      for (const x of xs) {
        const r = x * law.cutoff[t];
        const h = 1e-5 * r;
        const [, d1, d2, d3] = phiAt(law, t, r);
        const [ep, d1p, d2p] = phiAt(law, t, r + h);
        const [em, d1m, d2m] = phiAt(law, t, r - h);
        const scale = Math.max(Math.abs(d1), Math.abs(d2) * r, Math.abs(d3) * r * r);
        const rel = (a: number, b: number, s: number) => Math.abs(a - b) / Math.max(1e-9 * s, Math.abs(b));
        const where = `${lawLabel(law)} t=${t} x=${x}`;
        assert.ok(rel((ep - em) / (2 * h), d1, scale) < 1e-6, `${where} φ′`);
        assert.ok(rel((d1p - d1m) / (2 * h), d2, scale / r) < 1e-6, `${where} φ″`);
        assert.ok(rel((d2p - d2m) / (2 * h), d3, scale / (r * r)) < 1e-6, `${where} φ‴`);
      }
    }
  }
});

test('soft spheres: φ = (ε/α)(1 − r/σ)^α with σ_ij the mean diameter; repulsive-q has no attraction', () => {
  const [e, d1] = phiAt(harmonicSpheres(), 1, 0.9);
  assert.ok(Math.abs(e - 0.5 * (1 - 0.9 / 1.2) ** 2) < 1e-15 && Math.abs(d1 + (1 - 0.9 / 1.2) / 1.2) < 1e-15);
  const [eh] = phiAt(hertzianSpheres(), 2, 1.3);
  assert.ok(Math.abs(eh - 0.4 * (1 - 1.3 / 1.4) ** 2.5) < 1e-15);
  // without attraction φ′ < 0 everywhere inside the cutoff (the smoothing keeps the sign)
  const rep = repulsiveQ(40);
  for (let x = 0.9; x < 2; x += 0.01) assert.ok(phiAt(rep, 0, x)[1] < 0, `x=${x}`);
  assert.ok(phiAt(qModel(40), 0, 1.5)[1] > 0, 'the Q-model attracts at x = 1.5');
});

test('the law registry builds every law by name and names what is wrong', () => {
  for (const name of LAW_NAMES) assert.equal(makePairLaw(name, { Q: 40 }).name, name);
  assert.throws(() => makePairLaw('lennard-jones'), /unknown pair law 'lennard-jones': choose one of q-model, repulsive-q, harmonic, hertzian/);
  assert.throws(() => makePairLaw('q-model'), /needs its parameter Q/);
  assert.throws(() => softSpheres('x', 1), /α must be a finite number > 1/);
});

test('integer powers by repeated squaring equal Math.pow; even Q agrees with the direct formula', () => {
  for (const n of [0, 1, 3, 5, 60, 120]) assert.ok(Math.abs(intPow(0.93, n) / 0.93 ** n - 1) < 1e-13, `n=${n}`);
  const Q = 240, law = qModel(Q), { c4, c2, c0 } = smoothingCoefficients(Q);
  for (const x of [0.95, 1.0, 1.14, 1.58]) {
    const direct = Math.pow(x, -Q) - Math.pow(x, -6) + c4 * x ** 4 + c2 * x * x + c0;
    assert.ok(Math.abs(phiAt(law, 0, x)[0] - direct) <= 1e-12 * Math.max(1, Math.abs(direct)), `x=${x}`);
  }
});

test('Q ≤ 6 and non-finite Q are refused with a clear message', () => {
  for (const Q of [6, 5, -1, NaN, Infinity]) {
    assert.throws(() => qModel(Q), /Q must be a finite number > 6/);
    assert.throws(() => repulsiveQ(Q), /Q must be a finite number > 6/);
  }
});
