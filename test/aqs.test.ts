/**
 * Athermal quasistatic shear: the path against thermodynamics (σ = (1/V)·dU/dγ) and linear
 * response (slope = μ_αβ), every state a minimum, the saddle-node law at the first event, the
 * event detector on synthetic curves, D²_min of homogeneous deformations, determinism, bad input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { smallGlass } from './fixtures.ts';
import { computeForces, maxForceComponent } from '../src/engine/forces.ts';
import { cloneSystem } from '../src/engine/prepare.ts';
import { systemToConfiguration, type System } from '../src/engine/system.ts';
import { writeExtendedXyz } from '../src/io/xyz.ts';
import { detectEvents, extrapolationWeights, runAqs, SHEAR_PLANES, shearLocalisation, type ShearPlane } from '../src/measure/aqs.ts';
import { measureElastic, UnrelaxedConfigurationError } from '../src/measure/elastic.ts';
import { d2min, fractionalCoordinate, nonAffineField, slabProfile } from '../src/measure/nonaffine.ts';
import { boxVolume, deform } from '../src/space/box.ts';
import { createRandom } from '../src/util/random.ts';
import { kernelMemoryActive, kernelMemoryUsage } from '../src/util/kernels.ts';

test('σ_xy along the path equals (1/V)·dU/dγ of the relaxed energy, and every stored state is a minimum', () => {
  const sys = cloneSystem(smallGlass(10).system);
  const ftol = 1e-11;
  let worst = 0;
  const r = runAqs(sys, {
    plane: 'xy', maxStrain: 3e-3, step: 1e-4, ftol,
    onState: (_p, s) => {
      const c = cloneSystem(s);
      computeForces(c);
      worst = Math.max(worst, maxForceComponent(c.forces));
    },
  });
  assert.ok(worst < ftol, `largest max|F| of a stored state ${worst}`);
  assert.ok(r.path.every((p) => p.maxForce < ftol));
  const V = r.volume, N = r.N, h = 1e-4;
  const eventAt = new Set(r.events.map((e) => e.gamma));
  let checked = 0;
  for (let k = 1; k + 1 < r.path.length; k++) {
    const [a, b, c] = [r.path[k - 1], r.path[k], r.path[k + 1]];
    if (eventAt.has(b.gamma) || eventAt.has(c.gamma) || Math.abs(c.gamma - a.gamma - 2 * h) > 1e-12) continue;
    const dUdg = (N * (c.energyPerParticle - a.energyPerParticle)) / (2 * h * V);
    // the central difference of U is σ + h²·σ″/6 + O(h⁴); σ″ from the stresses themselves (it can be
    // large: a glass stiffens or softens quickly near its instabilities). What remains is O(h⁴) and
    // the round-off of U: far below 1e-3·μ·h
    const curvature = (c.stress[5] - 2 * b.stress[5] + a.stress[5]) / 6;
    assert.ok(Math.abs(dUdg - curvature - b.stress[5]) < 1e-3 * r.G0 * h, `γ = ${b.gamma}: (1/V)dU/dγ = ${dUdg}, σ_xy = ${b.stress[5]}`);
    checked++;
  }
  assert.ok(checked >= 20, `only ${checked} interior points checked`);
});

for (const plane of ['xy', 'yz'] as ShearPlane[]) {
  test(`Q = 240, plane ${plane}: the small-strain slope of σ equals the linear-response μ to 1e-6`, () => {
    // the three-point slope's error h²·σ‴/3 grows near an instability: seed 5 gives glasses (with
    // either kernel set) without one within a few 1e-6 of γ = 0
    const sys = cloneSystem(smallGlass(240, 256, 5).system);
    const mu = measureElastic(sys).shear[plane];
    const h = 1e-6;
    const r = runAqs(sys, { plane, maxStrain: 2 * h, step: h, ftol: 1e-11 });
    assert.equal(r.events.length, 0);
    const s = r.path.map((p) => p.stress[SHEAR_PLANES[plane].voigt]);
    const slope = (-3 * s[0] + 4 * s[1] - s[2]) / (2 * h); // second order at γ = 0
    assert.ok(Math.abs(slope - mu) < 1e-6 * Math.abs(mu), `slope ${slope}, μ_${plane} ${mu}, relative ${Math.abs(slope / mu - 1)}`);
    assert.ok(Math.abs(r.moduli[0].mu - mu) < 1e-9 * Math.abs(mu));
  });
}

test('Q = 240: the lowest eigenvalue vanishes as (γ_c − γ)^½ before the first plastic event', () => {
  // seed 2: a first event below γ = 0.004 with either kernel set. Over seeds 1–8 and both sets, 10 of
  // the 16 glasses have one; 9 of those 10 fit an exponent within 0.05 of ½ and γ_c within 1 % of the
  // step (the other: exponent 0.43, γ_c 3 % of the step off, its approach points not yet in the
  // square-root regime). Which glasses have an event moves with round-off in their preparation (the
  // kernel set, the order of the neighbor list's pairs).
  const sys = cloneSystem(smallGlass(240, 256, 2).system);
  const r = runAqs(sys, { plane: 'xy', maxStrain: 4e-3, step: 1e-4 });
  assert.ok(r.events.length >= 1, 'no plastic event by γ = 0.004');
  const a = r.firstEvent?.approach;
  assert.ok(a && a.exponent !== null && a.gammaCFromFit !== null, 'no approach fit');
  assert.ok(a.points >= 5, `${a.points} approach points`);
  assert.ok(Math.abs(a.exponent - 0.5) < 0.05, `exponent ${a.exponent}`);
  // the fit extrapolates λ_min² ∝ (γ_c − γ) from approach points within the last step: it meets the
  // bisection's bracket to 1 % of the step
  assert.ok(Math.abs(a.gammaCFromFit - a.gammaC) < 1e-2 * 1e-4, `γ_c: fit ${a.gammaCFromFit}, bracket ${a.gammaC} ± ${a.gammaCError}`);
  const e = r.events[0];
  assert.ok(e.stressDrop > 0 && e.energyDrop > 0 && e.participation > 0 && e.participation <= 1);
  assert.ok(e.lowestEigenvalueBefore !== null && e.lowestEigenvalueBefore < a.lambdaMin[0]);
  // the stress drops across the event and the path is continuous elsewhere
  const k = r.path.findIndex((p) => p.gamma === e.gamma);
  assert.ok(Math.abs(r.path[k - 1].stress[5] - r.path[k].stress[5] - e.stressDrop) < 1e-12);
  assert.ok(Math.abs(e.gamma - a.gammaC) <= a.gammaCError * 1.0001);
});

test('event detector: exactly the events of a synthetic curve (drops, and a rise that relaxes a negative stress), none in noise or in smooth softening', () => {
  const rng = createRandom(7);
  const V = 800, N = 500, G = 10, h = 1e-4, tol = { energy: 1e-9 * N };
  /**
   * Elastic loading σ += G·h from σ₀ with stress jumps j at given steps, each releasing the elastic
   * energy V·((σ + j)² − σ²)/2G (negative for a drop, and for a rise that relaxes a negative σ),
   * plus noise far below the tolerances.
   */
  const curve = (s0: number, steps: number, jumps: Map<number, number>) => {
    const gamma: number[] = [], sigma: number[] = [], energy: number[] = [];
    let s = s0, u = 0;
    for (let k = 0; k < steps; k++) {
      if (k > 0) {
        const s1 = s + G * h;
        u += V * 0.5 * (s + s1) * h;
        s = s1;
        const j = jumps.get(k);
        if (j) { u += (V * j * (s + j / 2)) / G; s += j; }
      }
      gamma.push(k * h);
      sigma.push(s + 1e-10 * rng.normal());
      energy.push(u + 1e-11 * N * rng.normal());
    }
    return { gamma, sigma, energy };
  };
  const drops = new Map([[120, -0.02], [333, -0.002], [334, -0.05], [700, -4e-3]]);
  const { gamma, sigma, energy } = curve(0, 1000, drops);
  assert.deepEqual(detectEvents(gamma, sigma, energy, V, tol), [...drops.keys()]);
  // loading from a residual stress σ₀ < 0: an event that relaxes it raises σ
  const rises = new Map([[40, 0.01], [90, 0.004]]);
  const r = curve(-0.2, 200, rises);
  assert.ok(r.sigma[90] < 0, 'the second event is still in the negative stretch');
  assert.deepEqual(detectEvents(r.gamma, r.sigma, r.energy, V, tol), [...rises.keys()]);
  const flat = gamma.map(() => 0.3 + 1e-10 * rng.normal());
  // noise about a straight line: the energy follows the work V·σ·γ, as on any path of minima
  const flatE = gamma.map((g) => -1000 + V * 0.3 * g + 1e-11 * N * rng.normal());
  assert.deepEqual(detectEvents(gamma, flat, flatE, V, tol), []);
  // softening before a saddle-node: σ = σ_c + A·√(γ_c − γ) falls ever faster, the energy follows exactly
  const gc = 0.05, A = 2;
  const sm = (g: number) => 0.3 + A * Math.sqrt(gc - g);
  const um = (g: number) => V * (0.3 * g - (2 / 3) * A * (gc - g) ** 1.5);
  const gs = Array.from({ length: 500 }, (_, k) => k * h);
  assert.deepEqual(detectEvents(gs, gs.map(sm), gs.map(um), V, tol), []);
  // a steep convex fall, where the trapezoidal work overestimates ∫σ dγ: smooth, so no event either
  const sc = (g: number) => 0.3 + 0.05 * Math.exp(-g / 0.002);
  const uc = (g: number) => V * (0.3 * g - 0.05 * 0.002 * Math.exp(-g / 0.002));
  assert.deepEqual(detectEvents(gs, gs.map(sc), gs.map(uc), V, tol), []);
});

test('step prediction: the extrapolation from k unequal past steps is exact for polynomials of degree k', () => {
  const dh = [0.01, 0.02, 0.005], h = 0.015, g = 0.3;
  const nodes = [g];
  for (const d of dh) nodes.push(nodes[nodes.length - 1] - d);
  for (const [k, X] of [[2, (x: number) => x * x - 3 * x], [3, (x: number) => 2 * x ** 3 - x * x + 0.5 * x]] as Array<[number, (x: number) => number]>) {
    const w = extrapolationWeights(dh.slice(0, k), h);
    const predicted = w.reduce((s, c, j) => s + c * (X(nodes[j]) - X(nodes[j + 1])), 0);
    assert.ok(Math.abs(predicted - (X(g + h) - X(g))) < 1e-15, `degree ${k}: ${predicted} vs ${X(g + h) - X(g)}`);
  }
});

test('D²_min vanishes under a homogeneous deformation and localises where particles moved', () => {
  const sys = smallGlass(10).system;
  const d = deform(sys.box, sys.positions, [0.01, 0.02, -0.01, 0, 0.005, 0.03, 0, 0, -0.02]);
  const strained = { box: d.box, positions: d.pos };
  const affine = d2min(sys, strained);
  assert.ok(Math.max(...affine) < 1e-20, `max D²_min of an affine map ${Math.max(...affine)}`);
  assert.ok(Math.max(...nonAffineField(sys, strained).map(Math.abs)) < 1e-12);
  const moved = strained.positions.slice();
  moved[0] += 0.2;
  const one = d2min(sys, { box: strained.box, positions: moved });
  assert.ok(one[0] > 1e-3 && one.filter((x) => x > 1e-6).length < 40, 'one displaced particle: D² near it only');
  // slab profile: all weight in one slab of a fifth of the box vs spread evenly
  const s = fractionalCoordinate(sys.box, sys.positions, 1);
  const L = sys.box.ly;
  const band = slabProfile(s.map((x) => (x > 0.4 && x < 0.6 ? 1 : 0)), s, L, 0.2 * L, L / 10);
  const even = slabProfile(s.map(() => 1), s, L, 0.2 * L, L / 10);
  assert.ok(band.slabShare > 0.99 && band.localisation > 0.99 && Math.abs(band.slabCentre - 0.5) < 0.05);
  assert.ok(Math.abs(even.slabShare - 0.2) < 0.05 && Math.abs(even.uniform - 0.2) < 1e-12 && Math.abs(even.localisation) < 0.06);
  // the shear-plane form: the gradient axis of xy is y, the slab a quarter of the box by default
  const q = Float64Array.from(s, (x) => (x > 0.4 && x < 0.6 ? 1 : 0));
  const xy = shearLocalisation(q, sys, 'xy');
  assert.ok(Math.abs(xy.uniform - 0.25) < 1e-12 && xy.localisation > 0.99, `band along y seen by xy: ${xy.localisation}`);
  // the same values at random particles: the floor of homogeneous flow, small but above 0 at finite N
  assert.ok(xy.shuffled > 0 && xy.shuffled < 0.2, `shuffled band: ${xy.shuffled}`);
  assert.ok(shearLocalisation(q, sys, 'xz').localisation < 0.5, 'the same band is spread along z, the gradient axis of xz');
});

test('AQS is deterministic: the same glass gives the same path bit for bit', () => {
  const run = () => runAqs(cloneSystem(smallGlass(10, 256, 3).system), { plane: 'xz', maxStrain: 1e-3, step: 2e-4 });
  const a = run(), b = run();
  assert.deepEqual(a.path, b.path);
  assert.deepEqual(a.events, b.events);
});

function jiggled(sys: System, amplitude: number): System {
  const c = cloneSystem(sys);
  const rng = createRandom(5);
  for (let k = 0; k < c.positions.length; k++) c.positions[k] += amplitude * rng.normal();
  return c;
}

test('bad input: plane, strain step, a configuration not at a minimum', () => {
  const sys = smallGlass(10).system;
  assert.throws(() => runAqs(cloneSystem(sys), { plane: 'xx' as ShearPlane, maxStrain: 0.01, step: 1e-4 }), /plane must be xy, xz or yz/);
  assert.throws(() => runAqs(cloneSystem(sys), { plane: 'xy', maxStrain: 0.01, step: -1e-4 }), /strain step must be positive/);
  assert.throws(() => runAqs(jiggled(sys, 0.01), { plane: 'xy', maxStrain: 0.01, step: 1e-4 }), UnrelaxedConfigurationError);
  assert.equal(boxVolume(sys.box) > 0, true);

  const dir = mkdtempSync(join(tmpdir(), 'qglass-aqs-'));
  try {
    const good = join(dir, 'glass.xyz'), bad = join(dir, 'hot.xyz');
    writeExtendedXyz(good, systemToConfiguration(sys, { Q: 10 }));
    writeExtendedXyz(bad, systemToConfiguration(jiggled(sys, 0.01), { Q: 10 }));
    const bin = new URL('../bin/qglass.mjs', import.meta.url).pathname;
    const cli = (...args: string[]) => spawnSync(process.execPath, [bin, 'measure', 'aqs', ...args], { encoding: 'utf8', env: { ...process.env, CI: '1' } });
    for (const [args, message] of [
      [[good, '--plane', 'xx'], /--plane must be xy, xz or yz; got 'xx'/],
      [[good, '--step', '-1e-4'], /--step must be a positive strain increment/],
      [[bad, '--no-soft-spots'], /not at an energy minimum/],
    ] as Array<[string[], RegExp]>) {
      const r = cli(...args);
      assert.equal(r.status, 2, `${args.join(' ')}: exit ${r.status}, stderr ${r.stderr}`);
      assert.match(r.stderr, message);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a long shear path keeps the kernel memory it uses bounded: each step gives its Hessians back', (t) => {
  if (!kernelMemoryActive()) {
    t.skip('the JavaScript kernels are in use: no kernel memory to watch');
    return;
  }
  const sys = cloneSystem(smallGlass(10).system);
  const n = sys.species.length;
  const hessianBytes = 8 * 9 * (n + sys.neighbors.start[n]) + 4 * (2 * n + sys.neighbors.start[n]);
  const allocated: number[] = [];
  runAqs(sys, { plane: 'xy', maxStrain: 0.006, step: 1e-4, ftol: 1e-10, refineDepth: 0, onState: () => { allocated.push(kernelMemoryUsage().allocatedBytes); } });
  assert.ok(allocated.length >= 60);
  const growth = allocated[allocated.length - 1] - allocated[5];
  assert.ok(growth < 2 * hessianBytes, `kernel memory grew by ${growth} bytes over ${allocated.length - 6} steps (one Hessian: ≤ ${hessianBytes})`);
});
