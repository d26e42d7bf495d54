/** Third-order contractions, the k±/f± split of a mode, and nonlinear quasilocalized excitations. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { smallGlass } from './fixtures.ts';
import { computeForces } from '../src/engine/forces.ts';
import { cloneSystem } from '../src/engine/prepare.ts';
import type { System } from '../src/engine/system.ts';
import { hessianMultiply } from '../src/linalg/hessian.ts';
import { assembleHessian, hessianMatrixFree } from '../src/measure/hessian.ts';
import { buildPairTable } from '../src/engine/pair-table.ts';
import { dot, projectOutTranslations } from '../src/linalg/vectors.ts';
import { buildContractionTable, modeContractions } from '../src/measure/contractions.ts';
import { dipoleStarts, findNqles, nqleContext, refineNqle, searchNqles } from '../src/measure/nqle.ts';
import { measureModes } from '../src/measure/modes.ts';
import { createRandom } from '../src/util/random.ts';

function randomUnitVector(n: number, seed: number): Float64Array {
  const rng = createRandom(seed);
  const v = new Float64Array(n);
  for (let k = 0; k < n; k++) v[k] = rng.normal();
  projectOutTranslations(v);
  const norm = Math.sqrt(dot(v, v));
  for (let k = 0; k < n; k++) v[k] /= norm;
  return v;
}

/** A unit vector concentrated on the particles near particle `centre` (a soft-spot-like direction). */
function localVector(sys: System, centre: number, seed: number): Float64Array {
  const v = randomUnitVector(sys.positions.length, seed);
  const c = sys.positions.subarray(3 * centre, 3 * centre + 3);
  const d = new Float64Array(3);
  for (let i = 0; i < sys.species.length; i++) {
    for (let a = 0; a < 3; a++) d[a] = sys.positions[3 * i + a] - c[a];
    const { lx, ly, lz } = sys.box;
    d[0] -= Math.round(d[0] / lx) * lx; d[1] -= Math.round(d[1] / ly) * ly; d[2] -= Math.round(d[2] / lz) * lz;
    const w = Math.exp(-(d[0] ** 2 + d[1] ** 2 + d[2] ** 2) / 2);
    for (let a = 0; a < 3; a++) v[3 * i + a] *= w;
  }
  projectOutTranslations(v);
  const norm = Math.sqrt(dot(v, v));
  for (let k = 0; k < v.length; k++) v[k] /= norm;
  return v;
}

/** Values of f(s) at s = ±h, ±2h on copies of sys displaced by s·z. */
function alongLine<T>(sys: System, z: Float64Array, h: number, f: (copy: System) => T): { p1: T; m1: T; p2: T; m2: T; zero: T } {
  const copy = cloneSystem(sys);
  const at = (s: number) => {
    for (let k = 0; k < z.length; k++) copy.positions[k] = sys.positions[k] + s * z[k];
    computeForces(copy);
    return f(copy);
  };
  return { p1: at(h), m1: at(-h), p2: at(2 * h), m2: at(-2 * h), zero: at(0) };
}

function relDiff(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b));
}

for (const Q of [10, 240]) {
  test(`Q = ${Q}: κ = d²U/ds², τ = d³U/ds³ and U‴:zz = d(H·z)/ds along z, by finite differences`, () => {
    const sys = smallGlass(Q).system;
    const table = buildContractionTable(sys);
    for (const z of [randomUnitVector(sys.positions.length, 11), localVector(sys, 17, 12)]) {
      const uzz = new Float64Array(z.length);
      const c = modeContractions(table, z, uzz);
      const h = Q > 100 ? 2e-5 : 1e-4;
      // dU/ds = −F·z: κ is its first derivative, τ its second (4-point differences, error O(h⁴), O(h²))
      const slope = alongLine(sys, z, h, (copy) => -dot(copy.forces, z));
      const kappaFd = (8 * (slope.p1 - slope.m1) - (slope.p2 - slope.m2)) / (12 * h);
      const tauFd = (-slope.p2 + 16 * slope.p1 - 30 * slope.zero + 16 * slope.m1 - slope.m2) / (12 * h * h);
      assert.ok(relDiff(c.kappa, kappaFd) < 1e-7, `κ = ${c.kappa}, finite difference ${kappaFd}`);
      assert.ok(relDiff(c.tau, tauFd) < 1e-5, `τ = ${c.tau}, finite difference ${tauFd}`);
      // τ is also dκ/ds with κ recomputed from a fresh table at each displaced configuration
      const kap = alongLine(sys, z, h, (copy) => modeContractions(buildContractionTable(copy), z).kappa);
      const tauFromKappa = (8 * (kap.p1 - kap.m1) - (kap.p2 - kap.m2)) / (12 * h);
      assert.ok(relDiff(c.tau, tauFromKappa) < 1e-7, `τ = ${c.tau}, dκ/ds = ${tauFromKappa}`);
      // U‴:zz = d(H·z)/ds
      const hz = alongLine(sys, z, h, (copy) => {
        const out = new Float64Array(z.length);
        hessianMatrixFree(buildPairTable(copy), z, out);
        return out;
      });
      let err = 0, scale = 0;
      for (let k = 0; k < z.length; k++) {
        const fd = (8 * (hz.p1[k] - hz.m1[k]) - (hz.p2[k] - hz.m2[k])) / (12 * h);
        err = Math.max(err, Math.abs(fd - uzz[k]));
        scale = Math.max(scale, Math.abs(uzz[k]));
      }
      assert.ok(err < 1e-7 * scale, `U‴:zz vs d(H·z)/ds: max deviation ${err / scale} of max |U‴:zz|`);
      assert.ok(relDiff(dot(z, uzz), c.tau) < 1e-12, `z·(U‴:zz) = ${dot(z, uzz)}, τ = ${c.tau}`);
    }
  });

  test(`Q = ${Q}: k₊ + k₋ + f₊ + f₋ = z·H·z to round-off, with both signs present in the Q-model`, () => {
    const sys = smallGlass(Q).system;
    const H = assembleHessian(sys);
    const table = buildContractionTable(sys);
    const hz = new Float64Array(sys.positions.length);
    for (const z of [randomUnitVector(hz.length, 21), localVector(sys, 3, 22)]) {
      hessianMultiply(H, z, hz);
      const zHz = dot(z, hz);
      const c = modeContractions(table, z);
      const sum = c.kPlus + c.kMinus + c.fPlus + c.fMinus;
      const magnitude = Math.abs(c.kPlus) + Math.abs(c.kMinus) + Math.abs(c.fPlus) + Math.abs(c.fMinus);
      assert.ok(Math.abs(sum - zHz) < 1e-13 * magnitude, `Σ = ${sum}, z·H·z = ${zHz}, terms of size ${magnitude}`);
      assert.ok(Math.abs(c.kappa - zHz) < 1e-13 * magnitude);
      // attraction beyond the minimum: negative stiffnesses and tensile pairs exist
      assert.ok(c.kMinus < 0 && c.fPlus > 0 && c.kPlus > 0 && c.fMinus < 0, JSON.stringify(c));
    }
  });
}

test('a purely repulsive pair law (x^-12, test-only) has k₋ = f₊ = 0 and k₊ + f₋ = its own z·H·z', () => {
  const sys = smallGlass(10).system;
  const table = buildContractionTable(sys);
  const lambda = [1.0, 1.18, 1.4];
  // replace the Q-model columns by φ = (λ/r)^12: φ′ < 0, φ″ > 0 for every pair
  for (let p = 0; p < table.count; p++) {
    const lam = lambda[sys.species[table.i[p]] + sys.species[table.j[p]]];
    const r = table.r[p], x = r / lam;
    const x12 = x ** -12;
    table.dphiOverR[p] = (-12 * x12 / (x * lam)) / r;
    table.d2phi[p] = 156 * x12 / (x * x * lam * lam);
    table.d3phi[p] = -2184 * x12 / (x ** 3 * lam ** 3);
  }
  const H = assembleHessian(sys, table);
  const hz = new Float64Array(sys.positions.length);
  for (const z of [randomUnitVector(hz.length, 31), localVector(sys, 40, 32)]) {
    const c = modeContractions(table, z);
    assert.equal(c.kMinus, 0);
    assert.equal(c.fPlus, 0);
    assert.ok(c.kPlus > 0 && c.fMinus < 0);
    hessianMultiply(H, z, hz);
    assert.ok(relDiff(c.kPlus + c.fMinus, dot(z, hz)) < 1e-13);
  }
});

/** b(z) = κ³/τ² of any (not necessarily unit) vector. */
function cubicCost(table: ReturnType<typeof buildContractionTable>, z: Float64Array): number {
  const c = modeContractions(table, z);
  return c.kappa ** 3 / (c.tau * c.tau);
}

for (const Q of [10, 240]) {
  test(`Q = ${Q}: NQLEs from force-dipole starts solve H·π = (κ/τ)·U‴:ππ to the stated residual and are local minima of κ³/τ²`, () => {
    const sys = smallGlass(Q).system;
    const ctx = nqleContext(sys);
    const starts = dipoleStarts(ctx, { dipoleStarts: 3, dipoleCandidates: 12, seed: 5 });
    const search = searchNqles(ctx, starts, { count: 3 });
    assert.equal(search.descents.total, 3);
    assert.ok(search.modes.length >= 1 && search.descents.converged >= 1, JSON.stringify(search.descents));
    const dim = sys.positions.length;
    const hz = new Float64Array(dim), uzz = new Float64Array(dim);
    for (const m of search.modes.filter((x) => x.converged)) {
      const pi = m.vector;
      assert.ok(Math.abs(dot(pi, pi) - 1) < 1e-12);
      // the equation, recomputed independently of the solver (matrix-free H·π)
      hessianMatrixFree(buildPairTable(sys), pi, hz);
      const c = modeContractions(ctx.table, pi, uzz);
      let r2 = 0;
      for (let k = 0; k < dim; k++) r2 += (hz[k] - (c.kappa / c.tau) * uzz[k]) ** 2;
      const residual = Math.sqrt(r2 / dot(hz, hz));
      assert.ok(residual <= 1e-8, `residual ${residual}`);
      assert.ok(Math.abs(residual - m.residual) <= 1e-9);
      assert.ok(m.gradient <= 1e-10, `‖∇b‖/b = ${m.gradient}`);
      assert.ok(c.tau < 0, 'sign convention τ < 0');
      assert.ok(relDiff(m.omega2, dot(pi, hz)) < 1e-12);
      assert.ok(relDiff(m.barrier, (2 / 3) * c.kappa ** 3 / c.tau ** 2) < 1e-12);
      assert.ok(relDiff(m.kPlus + m.kMinus + m.fPlus + m.fMinus, m.omega2) < 1e-12);
      assert.ok(m.participation > 0 && m.participation < 1);
      // a local minimum of b on the sphere: every small rotation raises b
      const b0 = cubicCost(ctx.table, pi);
      for (let s = 0; s < 5; s++) {
        const v = randomUnitVector(dim, 100 + s);
        const w = new Float64Array(dim);
        for (let k = 0; k < dim; k++) w[k] = pi[k] + 1e-3 * v[k];
        assert.ok(cubicCost(ctx.table, w) > b0, `b decreased along a random rotation (${s})`);
      }
    }
    // distinct modes: no two kept modes overlap beyond the deduplication threshold
    for (let a = 0; a < search.modes.length; a++) {
      for (let b = a + 1; b < search.modes.length; b++) assert.ok(Math.abs(dot(search.modes[a].vector, search.modes[b].vector)) <= 0.9);
    }
  });
}

test('an NQLE descent stopped early is reported as not converged, with its residual', () => {
  const sys = smallGlass(40).system;
  const ctx = nqleContext(sys);
  const [start] = dipoleStarts(ctx, { dipoleStarts: 1, dipoleCandidates: 4 });
  const r = refineNqle(ctx, start.vector, { maxIterations: 2 });
  assert.equal(r.iterations, 2);
  assert.equal(r.converged, false);
  assert.ok(r.residual > 1e-8);
  const search = searchNqles(ctx, [start], { maxIterations: 2 });
  assert.equal(search.modes[0].converged, false);
  assert.equal(search.descents.unconverged, 1);
});

test('refusing an unrelaxed configuration', () => {
  const sys = cloneSystem(smallGlass(40).system);
  sys.positions[0] += 0.05;
  assert.throws(() => findNqles(sys, { harmonicModes: 0, dipoleStarts: 1 }), /not at an energy minimum/);
});

test('the NQLE grown from a very soft quasilocalized harmonic mode overlaps it almost entirely; findNqles returns distinct converged modes, softest first', () => {
  // N = 256, Q = 40, seed 7 (the same glass with either kernel set): the lowest mode has ω² ≈ 0.61 and
  // participation ≈ 0.14 (about 37 particles; plane waves have 2/3); the next is at ≈ 2.84
  const sys = smallGlass(40, 256, 7).system;
  const modes = measureModes(sys, { count: 3 });
  const dim = sys.positions.length;
  const psi = modes.vectors.slice(0, dim);
  assert.ok(modes.participation[0] < 0.15 && modes.omega2[1] > 1.5 * modes.omega2[0], `lowest mode: ω² ${modes.omega2[0]}, e ${modes.participation[0]}`);
  const ctx = nqleContext(sys);
  const r = refineNqle(ctx, psi);
  assert.ok(r.converged);
  const overlap = Math.abs(dot(r.vector, psi));
  assert.ok(overlap > 0.9, `overlap ${overlap}`);
  // no unit vector orthogonal to the translations is softer than the lowest mode
  assert.ok(modeContractions(ctx.table, r.vector).kappa >= modes.omega2[0]);

  const found = findNqles(sys, { count: 4, harmonicModes: 3, dipoleStarts: 2, dipoleCandidates: 8 });
  assert.ok(found.modes.length >= 1);
  for (let k = 0; k < found.modes.length; k++) {
    assert.ok(found.modes[k].converged);
    if (k > 0) assert.ok(found.modes[k].omega2 >= found.modes[k - 1].omega2);
    for (let l = 0; l < k; l++) assert.ok(Math.abs(dot(found.modes[k].vector, found.modes[l].vector)) <= 0.9);
  }
  assert.ok(found.modes.some((m) => Math.abs(dot(m.vector, psi)) > 0.9), 'the NQLE of the softest mode is among those reported');
  assert.equal(found.descents.total, found.harmonic.used + 2);
});
