import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harmonicOf } from '../src/measure/harmonic.ts';
import { measureElastic, strainForceDerivative, voigtStrain } from '../src/measure/elastic.ts';
import { measureModes } from '../src/measure/modes.ts';
import { findNqles } from '../src/measure/nqle.ts';
import { solveCg, solveCgMany } from '../src/linalg/cg.ts';
import { smallGlass } from './fixtures.ts';

test('solves in lockstep return what separate solves return, bit for bit', () => {
  const sys = smallGlass(10).system;
  const h = harmonicOf(sys);
  const bs = Array.from({ length: 6 }, (_, J) => {
    const b = new Float64Array(sys.positions.length);
    strainForceDerivative(h.pairs, voigtStrain(J), b);
    return b;
  });
  const many = solveCgMany(h.operator, bs, { preconditioner: h.preconditioner });
  bs.forEach((b, k) => {
    const one = solveCg(h.operator, b, { preconditioner: h.preconditioner });
    assert.ok(one.converged);
    assert.equal(many[k].iterations, one.iterations);
    assert.equal(many[k].residual, one.residual);
    assert.deepEqual(many[k].x, one.x);
  });
});

test('measurements given the shared Hessian and the modes stage\'s vectors report what they find on their own', () => {
  const sys = smallGlass(40).system;
  const h = harmonicOf(sys);
  const alone = measureElastic(sys), shared = measureElastic(sys, { harmonic: h });
  assert.equal(shared.K, alone.K);
  assert.equal(shared.G, alone.G);
  const modes = measureModes(sys, { count: 12, harmonic: h });
  const own = measureModes(sys, { count: 12 });
  assert.deepEqual(modes.omega2, own.omega2);
  // NQLE starts from the first harmonicModes of the 12 modes instead of a 10-mode solve of its own
  const a = findNqles(sys, { count: 3 });
  const b = findNqles(sys, { count: 3 }, undefined, { harmonic: h, modes });
  assert.equal(b.harmonic.omega2.length, 10);
  for (let k = 0; k < 10; k++) assert.ok(Math.abs(a.harmonic.omega2[k] - b.harmonic.omega2[k]) <= 1e-8 * a.harmonic.omega2[k]);
  assert.equal(b.modes.length, a.modes.length);
  for (let k = 0; k < a.modes.length; k++) {
    assert.ok(Math.abs(a.modes[k].omega2 - b.modes[k].omega2) <= 1e-6 * a.modes[k].omega2, `NQLE ${k}: ${a.modes[k].omega2} vs ${b.modes[k].omega2}`);
  }
});
