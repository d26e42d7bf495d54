import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_PREPARE, prepareLiquid } from '../src/engine/prepare.ts';
import { minimize, minimizeFire, type DescentMethod } from '../src/engine/minimize.ts';
import { computeForces, maxForceComponent } from '../src/engine/forces.ts';
import { createSystem, systemFromConfiguration, type System } from '../src/engine/system.ts';
import { readExtendedXyz } from '../src/io/xyz.ts';
import { lawFromMetadata, makePairLaw } from '../src/model/laws.ts';
import { dilate } from '../src/space/box.ts';

const liquids = new Map<number, System>();

/** End-of-NVE state of the default protocol (short run), as a fresh copy each call. */
function liquid(Q: number): System {
  let s = liquids.get(Q);
  if (!s) {
    s = prepareLiquid({ ...DEFAULT_PREPARE, Q, N: 256, density: Q <= 20 ? 0.55 : 0.62, seed: 7, nveTime: 1 }).system;
    liquids.set(Q, s);
  }
  return createSystem(s.model, s.box, s.positions.slice(), s.species.slice(), s.neighbors.skin);
}

test('the default quench (L-BFGS) reaches max |F| < 1e-10 from a liquid at Q = 10 and 240 with at most 1.5 force evaluations per iteration', () => {
  for (const Q of [10, 240]) {
    const sys = liquid(Q);
    computeForces(sys);
    const e0 = sys.energy;
    const r = minimize(sys, { ftol: 1e-10 });
    assert.ok(r.converged && r.reason === 'ftol', `Q=${Q}: ${JSON.stringify(r)}`);
    // the reported force is that of the returned positions, re-evaluated from scratch
    const check = createSystem(sys.model, sys.box, sys.positions.slice(), sys.species.slice());
    computeForces(check);
    assert.ok(maxForceComponent(check.forces) < 1e-10, `Q=${Q}: fresh max |F| = ${maxForceComponent(check.forces)}`);
    assert.ok(Math.abs(check.energy - r.energy) <= 1e-12 * Math.abs(r.energy), `Q=${Q}: energy ${check.energy} vs ${r.energy}`);
    assert.ok(r.energy < e0, `Q=${Q}: energy went from ${e0} to ${r.energy}`);
    // one evaluation after the loop for energy and virial; the rest belong to iterations
    assert.ok((r.forceEvaluations - 2) / r.iterations <= 1.5, `Q=${Q}: ${r.forceEvaluations} evaluations for ${r.iterations} iterations`);
  }
});

test('every descent method (PR+ CG, Hager–Zhang CG, L-BFGS) reaches max |F| < 1e-10 at Q = 240', () => {
  for (const method of ['cg-pr', 'cg-hz', 'lbfgs'] as DescentMethod[]) {
    const sys = liquid(240);
    const r = minimize(sys, { ftol: 1e-10, method, lineTol: method === 'lbfgs' ? 0.9 : 0.1 });
    assert.ok(r.converged, `${method}: ${JSON.stringify(r)}`);
    assert.ok(r.maxForce < 1e-10 && r.forceEvaluations >= r.iterations, `${method}: ${JSON.stringify(r)}`);
  }
});

test('FIRE 2.0 converges on a small glass-forming liquid at Q = 10', () => {
  const sys = liquid(10);
  const r = minimizeFire(sys, { ftol: 1e-8, variant: 'fire2', maxStep: 0.1, dtMax: 0.05, maxIterations: 100_000 });
  assert.ok(r.converged && r.maxForce < 1e-8, JSON.stringify(r));
});

test('quenches are bit-reproducible: the same start gives the same minimum bit for bit', () => {
  const a = liquid(240), b = liquid(240);
  const ra = minimize(a), rb = minimize(b);
  assert.equal(ra.iterations, rb.iterations);
  assert.equal(ra.energy, rb.energy);
  assert.deepEqual(a.positions, b.positions);
});

test('a tolerance below the round-off floor or too few iterations ends with converged: false, never silently', () => {
  const sys = liquid(10);
  const few = minimize(sys, { ftol: 1e-10, maxIterations: 20 });
  assert.equal(few.converged, false);
  assert.equal(few.reason, 'max-iterations');
  assert.ok(few.maxForce >= 1e-10);
  const floor = minimize(sys, { ftol: 1e-18, stallIterations: 200 });
  assert.equal(floor.converged, false);
  assert.equal(floor.reason, 'stalled');
  assert.ok(floor.maxForce < 1e-10, `the stalled search still ends at the best it reached: ${floor.maxForce}`);
});

test('a quench that plain L-BFGS leaves stalled (a repulsive-q glass with rattlers, Q = 240) converges once each particle\'s step is scaled by its stiffness', () => {
  // the end of a plain L-BFGS quench of the repulsive-q, Q = 240, N = 1372 glass of seed 3832170373,
  // stalled at max |F| = 1.3e-5: a dozen particles in cages whose walls are ~1e-4 as stiff as a contact
  const conf = readExtendedXyz(new URL('./fixtures/repulsive-q240-n1372-stalled.xyz', import.meta.url).pathname);
  const start = () => systemFromConfiguration(conf, lawFromMetadata(conf.meta));
  const plain = minimize(start(), { preconditionOnStall: false });
  assert.equal(plain.reason, 'stalled');
  assert.ok(plain.maxForce > 1e-10);
  const rescued = start();
  const r = minimize(rescued);
  assert.equal(r.reason, 'ftol', `max |F| = ${r.maxForce} after ${r.iterations} iterations`);
  assert.ok(r.preconditionedAt !== null && r.preconditionedAt > 0, 'the preconditioner took over only at the stall');
  assert.ok(maxForceComponent(rescued.forces) < 1e-10);
  // the same basin: the stalled state is already within round-off of the minimum's energy
  assert.ok(Math.abs(r.energy - plain.energy) < 1e-9 * Math.abs(r.energy), `${r.energy} vs ${plain.energy}`);
  assert.ok(r.energy <= plain.energy + 1e-12 * Math.abs(r.energy));
});

test('a line search whose first trial lands deep in a Q = 1000 core still brackets the minimum (no step stuck at the other end)', () => {
  // a quenched Q = 1000 glass dilated by 1e-6: the first trial step (0.1 λ for the largest force)
  // drives pairs into the x^-1000 core, where g is ~1e10 times g(0); plain secant steps from that end
  // stay at α ≈ 0 and the search makes no progress at all
  const law = makePairLaw('q-model', { Q: 1000 });
  const s = prepareLiquid({ ...DEFAULT_PREPARE, Q: 1000, N: 256, density: 0.668, seed: 3, nveTime: 1 }).system;
  const sys = createSystem(law, s.box, s.positions.slice(), s.species.slice());
  assert.equal(minimize(sys).reason, 'ftol');
  const d = dilate(sys.box, sys.positions, 1 + 1e-6);
  const dilated = createSystem(law, d.box, d.pos, sys.species.slice());
  const r = minimize(dilated, { maxIterations: 20000 });
  assert.equal(r.reason, 'ftol', `max |F| = ${r.maxForce} after ${r.iterations} iterations`);
  assert.ok(r.forceEvaluations < 1.5 * r.iterations + 50, `${r.forceEvaluations} force evaluations for ${r.iterations} iterations`);
});
