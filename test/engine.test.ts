import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PairLaw } from '../src/model/pair-law.ts';
import { qModel, repulsiveQ } from '../src/model/q-model.ts';
import { harmonicSpheres, hertzianSpheres, softSpheres } from '../src/model/soft-sphere.ts';
import { type Box, boxVolume, cubicBox, deform, dilate, minimumImage } from '../src/space/box.ts';
import { needsRebuild, setOuterSkin, setSkin } from '../src/space/neighbors.ts';
import { fccCellsFor, fccPositions } from '../src/space/lattice.ts';
import { createSystem, sortSpatially, virialPressure, type System } from '../src/engine/system.ts';
import { computeForces, maxForceComponent } from '../src/engine/forces.ts';
import { kineticEnergy, maxwellBoltzmannVelocities, runNve, timeStepFor, totalMomentum } from '../src/engine/dynamics.ts';
import { minimize, minimizeFire } from '../src/engine/minimize.ts';
import { DEFAULT_PREPARE, prepareGlass, randomSpecies } from '../src/engine/prepare.ts';
import { createRandom } from '../src/util/random.ts';
import { smallGlass } from './fixtures.ts';

/** O(N²) reference: every pair, minimum image, energy/forces/virial from the law's derivatives. */
function allPairs(model: PairLaw, box: Box, pos: Float64Array, sp: Uint8Array) {
  const n = sp.length;
  const f = new Float64Array(3 * n);
  const d = new Float64Array(3);
  const out = new Float64Array(4);
  let energy = 0, virial = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) {
    for (let a = 0; a < 3; a++) d[a] = pos[3 * j + a] - pos[3 * i + a];
    minimumImage(box, d, 0);
    const r2 = d[0] ** 2 + d[1] ** 2 + d[2] ** 2;
    model.derivatives(sp[i] + sp[j], r2, out);
    const r = Math.sqrt(r2);
    energy += out[0];
    virial += r * out[1];
    for (let a = 0; a < 3; a++) { f[3 * i + a] += (out[1] / r) * d[a]; f[3 * j + a] -= (out[1] / r) * d[a]; }
  }
  return { energy, virial, f };
}

/** A liquid-like configuration without hard overlaps: a short capped FIRE run from a lattice, then jiggled. */
function disordered(Q: number | PairLaw, n: number, rho: number, seed: number, box?: Box): System {
  const k = fccCellsFor(n);
  const L = Math.cbrt(n / rho);
  const rng = createRandom(seed);
  const pos = fccPositions(k, L);
  for (let i = 0; i < pos.length; i++) pos[i] += 0.15 * (rng.uniform() - 0.5);
  const sys = createSystem(typeof Q === 'number' ? qModel(Q) : Q, box ?? cubicBox(L), pos, randomSpecies(n, rng));
  minimizeFire(sys, { maxStep: 0.05, stopWhen: (s) => s.energy / n < 0.5, maxIterations: 3000 });
  return sys;
}

test('neighbor-list forces, energy and virial equal an O(N²) all-pairs evaluation (cubic and sheared boxes, every kernel family)', () => {
  const cases: [string, System][] = [
    ['Q = 10', disordered(10, 256, 0.6, 3)],
    ['Q = 240', disordered(240, 256, 0.6, 3)],
    ['repulsive-q 40', disordered(repulsiveQ(40), 256, 0.6, 3)],
    // soft spheres compressed well above jamming, so that most pairs overlap
    ['harmonic', disordered(harmonicSpheres(), 256, 1.0, 3)],
    ['hertzian', disordered(hertzianSpheres(), 256, 1.0, 3)],
    ['soft α = 3', disordered(softSpheres('soft-3', 3), 256, 1.0, 3)],
    // any law without a fast kernel runs through its own derivatives
    ['generic', disordered({ ...softSpheres('soft-3', 3), kernel: { family: 'generic', coefficients: new Float64Array(16) } }, 256, 1.0, 3)],
  ];
  for (const [Q, sys] of cases) {
    const sheared = deform(sys.box, sys.positions, [0, 0.07, -0.04, 0, 0, 0.05, 0, 0, 0]);
    for (const [box, pos] of [[sys.box, sys.positions], [sheared.box, sheared.pos]] as const) {
      const s = createSystem(sys.model, box, pos.slice(), sys.species);
      // move particles out of the primary cell: minimum image must not care
      for (let k = 0; k < 30; k += 3) s.positions[k] += 2 * box.lx;
      computeForces(s);
      const ref = allPairs(s.model, box, s.positions, s.species);
      // round-off is relative to the pair forces, which a relaxed packing balances to far smaller net forces
      const scale = maxForceComponent(ref.f) + Math.abs(ref.virial) / s.species.length;
      assert.ok(Math.abs(s.energy - ref.energy) < 1e-10 * Math.abs(ref.energy), `Q=${Q} energy`);
      assert.ok(Math.abs(s.virial - ref.virial) < 1e-10 * Math.abs(ref.virial), `Q=${Q} virial`);
      for (let k = 0; k < ref.f.length; k++) assert.ok(Math.abs(s.forces[k] - ref.f[k]) < 1e-11 * scale, `${Q} force ${k}: ${s.forces[k]} vs ${ref.f[k]}`);
    }
  }
});

/** The list of s holds exactly the pairs within cutoff + skin, once each, in the row of the lower index, image pairs flagged. */
function assertExactList(s: System, label: string): void {
  const n = s.species.length, box = s.box;
  const { start, boundaryStart, pairs, listCutoff2 } = s.neighbors;
  const listed = new Set<number>();
  const d = new Float64Array(3);
  for (let i = 0; i < n; i++) {
    assert.ok(start[i] <= boundaryStart[i] && boundaryStart[i] <= start[i + 1]);
    for (let k = start[i]; k < start[i + 1]; k++) {
      const j = pairs[k];
      assert.ok(j > i, `${label}: pair (${i}, ${j}) stored in the row of its higher index`);
      assert.ok(!listed.has(i * n + j), `${label}: pair (${i}, ${j}) listed twice`);
      listed.add(i * n + j);
      for (let a = 0; a < 3; a++) d[a] = s.positions[3 * j + a] - s.positions[3 * i + a];
      const raw = d.slice();
      minimumImage(box, d, 0);
      const same = raw.every((x, a) => x === d[a]);
      assert.equal(same, k < boundaryStart[i], `${label}: pair (${i}, ${j}): image flag`);
    }
  }
  let expected = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) {
    for (let a = 0; a < 3; a++) d[a] = s.positions[3 * j + a] - s.positions[3 * i + a];
    minimumImage(box, d, 0);
    if (d[0] ** 2 + d[1] ** 2 + d[2] ** 2 < listCutoff2[s.species[i] + s.species[j]]) {
      expected++;
      assert.ok(listed.has(i * n + j), `${label}: pair (${i}, ${j}) missing`);
    }
  }
  assert.equal(listed.size, expected, `${label}: listed pairs beyond cutoff + skin`);
}

/** The test configurations of the list: N = 256 (one cell), 500 and 864 (3 cells per side, the half stencil wraps), cubic and sheared, some particles images away. */
function listCases(skin: number): Array<{ s: System; label: string }> {
  const cases: Array<{ s: System; label: string }> = [];
  for (const n of [256, 500, 864]) {
    const sys = disordered(40, n, 0.6, 7);
    const sheared = deform(sys.box, sys.positions, [0, 0.06, -0.03, 0, 0, 0.04, 0, 0, 0]);
    for (const [box, pos, shape] of [[sys.box, sys.positions, 'cubic'], [sheared.box, sheared.pos, 'sheared']] as const) {
      const s = createSystem(sys.model, box, pos.slice(), sys.species, skin);
      for (let k = 0; k < 60; k += 3) { s.positions[k] -= 3 * box.lx; s.positions[k + 4] += box.ly; }
      cases.push({ s, label: `N=${n} ${shape}` });
    }
  }
  return cases;
}

test('the neighbor list holds exactly the pairs within cutoff + skin, once each, in the row of the lower index', () => {
  for (const { s, label } of listCases(0.25)) {
    computeForces(s);
    assertExactList(s, label);
  }
});

test('a list filtered from an outer list holds exactly the pairs within cutoff + skin; the outer list is searched again only when too old', () => {
  // skin 0.25, outer 0.65: the list is rebuilt after moves > 0.125, the outer after moves > 0.2 since its own build
  for (const { s, label } of listCases(0.25)) {
    setOuterSkin(s.neighbors, 0.65);
    const outer = s.neighbors.outer!;
    computeForces(s);
    assert.equal(outer.builds, 1);
    assertExactList(s, `${label}, first build`);
    const rng = createRandom(3);
    for (let k = 0; k < s.positions.length; k++) s.positions[k] += 0.086 * (2 * rng.uniform() - 1); // |move| < 0.15
    s.positions[5] = s.neighbors.reference[5] + 0.14;
    computeForces(s);
    assert.equal(s.neighbors.builds, 2, `${label}: the list is rebuilt`);
    assert.equal(outer.builds, 1, `${label}: from the outer list`);
    assertExactList(s, `${label}, filtered`);
    s.positions[3] = outer.reference[3] + 0.25; // ≥ 0.164 from the list's reference too
    computeForces(s);
    assert.equal(outer.builds, 2, `${label}: a move of 0.25 > 0.2 since the outer build searches the cells again`);
    assertExactList(s, `${label}, after the outer list's rebuild`);
    // renumbering invalidates the outer list too
    sortSpatially(s);
    assert.equal(outer.builds, 3, `${label}: the spatial sort searches again`);
    assertExactList(s, `${label}, sorted`);
    assert.throws(() => setSkin(s.neighbors, 0.65), /must stay below the outer list's 0.65/);
    setOuterSkin(s.neighbors, 0);
    assert.equal(s.neighbors.outer, null, `${label}: no outer list once taken away`);
    computeForces(s);
    assertExactList(s, `${label}, searched again without an outer list`);
  }
});

test('forces are minus the gradient of the energy (central differences)', () => {
  for (const Q of [10, 240]) {
    const sys = disordered(Q, 256, 0.6, 5);
    computeForces(sys);
    const f = sys.forces.slice();
    const rng = createRandom(9);
    for (let trial = 0; trial < 12; trial++) {
      const k = rng.below(sys.positions.length);
      const h = 1e-6;
      const x = sys.positions[k];
      sys.positions[k] = x + h; const ep = computeForces(sys);
      sys.positions[k] = x - h; const em = computeForces(sys);
      sys.positions[k] = x;
      const fd = -(ep - em) / (2 * h);
      assert.ok(Math.abs(fd - f[k]) < 1e-5 * Math.max(1, Math.abs(f[k])), `Q=${Q} component ${k}: ${fd} vs ${f[k]}`);
    }
  }
});

test('virial pressure equals −dE/dV under uniform dilation', () => {
  const { system } = smallGlass(40);
  const sys = createSystem(system.model, system.box, system.positions.slice(), system.species);
  computeForces(sys);
  const p = virialPressure(sys);
  const energyAt = (s: number) => {
    const d = dilate(sys.box, sys.positions, s);
    const t = createSystem(sys.model, d.box, d.pos, sys.species);
    return { e: computeForces(t), v: boxVolume(d.box) };
  };
  const a = energyAt(1 + 1e-6), b = energyAt(1 - 1e-6);
  const fd = -(a.e - b.e) / (a.v - b.v);
  assert.ok(Math.abs(fd - p) < 1e-6 * Math.max(1, Math.abs(p)), `${fd} vs ${p}`);
});

test('the list is rebuilt exactly when a particle has moved more than half the skin', () => {
  const sys = disordered(40, 256, 0.6, 2);
  computeForces(sys);
  const list = sys.neighbors;
  const builds = list.builds;
  sys.positions[0] += 0.49 * list.skin;
  assert.equal(needsRebuild(list, sys.box, sys.positions), false);
  computeForces(sys);
  assert.equal(list.builds, builds);
  const ref = allPairs(sys.model, sys.box, sys.positions, sys.species);
  assert.ok(Math.abs(sys.energy - ref.energy) < 1e-10 * Math.abs(ref.energy), 'stale-but-valid list gives exact energy');
  sys.positions[0] += 0.02 * list.skin;
  assert.equal(needsRebuild(list, sys.box, sys.positions), true);
  computeForces(sys);
  assert.equal(list.builds, builds + 1);
});

test('spatial sorting permutes particles without changing the physics', () => {
  const sys = disordered(240, 256, 0.6, 4);
  const e0 = computeForces(sys);
  const fmax0 = maxForceComponent(sys.forces);
  const v = new Float64Array(sys.positions.length).map((_, k) => k);
  const perm = sortSpatially(sys, [v]);
  assert.deepEqual([...perm].sort((a, b) => a - b), [...Array(256).keys()]);
  for (let k = 0; k < 256; k++) assert.equal(v[3 * k], 3 * perm[k]);
  const e1 = computeForces(sys);
  assert.ok(Math.abs(e1 - e0) < 1e-10 * Math.abs(e0));
  assert.ok(Math.abs(maxForceComponent(sys.forces) - fmax0) < 1e-9 * fmax0);
});

test('NVE conserves momentum, and energy within bounds at Q = 10 and Q = 240 (dt from the rule at T = 1)', () => {
  // bound: max |E(t) − E(0)|/N over the run, in units of the temperature
  const bound = 2e-3;
  for (const Q of [10, 240]) {
    const sys = disordered(Q, 256, Q === 10 ? 0.55 : 0.62, 7);
    const v = maxwellBoltzmannVelocities(256, 1.0, createRandom(11));
    assert.ok(Math.hypot(...totalMomentum(v)) < 1e-12);
    const dt = timeStepFor(Q, 1.0);
    const res = runNve(sys, v, { dt, steps: Math.round(2 / dt), sampleEvery: 5 });
    assert.ok(res.energyDrift < bound, `Q=${Q}: drift ${res.energyDrift} per particle over ${res.steps} steps`);
    assert.ok(res.finalTemperature > 0.3, 'the system stayed hot');
    assert.ok(Math.hypot(...totalMomentum(v)) < 1e-9, `Q=${Q} momentum ${totalMomentum(v)}`);
    assert.ok(kineticEnergy(v) > 0);
  }
});

test('a time step far too large is detected as divergence with a clear message', () => {
  const sys = disordered(240, 256, 0.62, 8);
  const v = maxwellBoltzmannVelocities(256, 1.0, createRandom(1));
  assert.throws(() => runNve(sys, v, { dt: 0.02, steps: 2000 }), /diverged .* time step/);
});

test('CG reaches max |F| < 1e-10 from a liquid configuration; FIRE converges too', () => {
  for (const Q of [10, 240]) {
    const sys = disordered(Q, 256, 0.6, 12);
    const r = minimize(sys, { ftol: 1e-10 });
    assert.equal(r.converged, true, `Q=${Q}: ${JSON.stringify(r)}`);
    assert.ok(maxForceComponent(sys.forces) < 1e-10);
  }
  const sys = disordered(40, 256, 0.6, 13);
  const r = minimizeFire(sys, { ftol: 1e-8, maxIterations: 200000 });
  assert.equal(r.converged, true, JSON.stringify(r));
});

test('one seed reproduces a glass bit for bit; another seed gives another glass', () => {
  const opts = { ...DEFAULT_PREPARE, Q: 80, N: 256, density: 0.6, seed: 42, nveTime: 0.5 };
  const a = prepareGlass(opts).system;
  const b = prepareGlass(opts).system;
  const c = prepareGlass({ ...opts, seed: 43 }).system;
  assert.deepEqual(a.positions, b.positions);
  assert.deepEqual(a.species, b.species);
  assert.equal(a.energy, b.energy);
  assert.notDeepEqual(a.positions, c.positions);
});

test('species are half small, half large, assigned from the seed', () => {
  const sp = randomSpecies(2048, createRandom(5));
  assert.equal(sp.reduce((a, b) => a + b, 0), 1024);
});

test('bad input gets clear errors', () => {
  assert.throws(() => fccCellsFor(1000), /N must be 4·k³.*Nearest valid N: 864/);
  assert.throws(() => fccCellsFor(2000), /Nearest valid N: 2048/);
  const base = { ...DEFAULT_PREPARE, Q: 40, N: 256, density: 0.6, seed: 1 };
  assert.throws(() => prepareGlass({ ...base, density: -0.5 }), /density must be a positive number/);
  assert.throws(() => prepareGlass({ ...base, Q: 6 }), /Q must be a finite number > 6/);
  assert.throws(() => prepareGlass({ ...base, N: 108 }), /box too small/);
  assert.throws(() => prepareGlass({ ...base, seed: -3 }), /seed must be an integer/);
});
