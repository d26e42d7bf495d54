/**
 * The glass preparation protocol (docs/methods.md §3), one sample:
 *  1. FCC lattice in a cube of volume N/ρ, species assigned at random (exactly N/2 each).
 *  2. Overlap removal: FIRE with a per-particle step cap until E/N ≤ overlapEnergy.
 *  3. Maxwell–Boltzmann velocities at T₀, zero momentum, NVE velocity Verlet for nveTime.
 *  4. Instant quench: L-BFGS with a line search on the directional force, to max |F| < ftol.
 *  5. Optionally: relax the box volume to p = 0 (isotropic scaling, re-quenched each step).
 * Every open choice is a field of PrepareOptions with the default given here.
 */
import { makePairLaw } from '../model/laws.ts';
import { cubicBox, dilate, boxVolume } from '../space/box.ts';
import { fccCellsFor, fccPositions } from '../space/lattice.ts';
import { createRandom } from '../util/random.ts';
import { maxwellBoltzmannVelocities, runNve, timeStepFor, DEFAULT_DT_FACTOR, DEFAULT_DT_MAX, type NveResult } from './dynamics.ts';
import { computeForces } from './forces.ts';
import { minimize, minimizeFire, type MinimizeResult } from './minimize.ts';
import { createSystem, particleCount, sortSpatially, virialPressure, type System } from './system.ts';
import { checkDensity } from '../model/limits.ts';

export interface PrepareOptions {
  /** The pair law: the Q-model (default) or its purely repulsive variant. */
  model?: 'q-model' | 'repulsive-q';
  Q: number;
  N: number;
  density: number;
  seed: number;
  /** Initial temperature of the NVE run (ε/k_B). */
  t0: number;
  /** Duration of the NVE run (τ). */
  nveTime: number;
  /** dt = min(dtMax, dtFactor/(Q·sqrt(T₀))); an explicit dt overrides the rule. */
  dtFactor: number;
  dtMax: number;
  dt?: number;
  /** Quench tolerance on the largest force component (ε/λ). */
  ftol: number;
  /** Overlap removal stops once the energy per particle is below this (ε). */
  overlapEnergy: number;
  /** FIRE step cap per particle during overlap removal (λ). */
  overlapMaxStep: number;
  /** Relax the box volume to p = 0 after the quench, to |p|/K below this (0: off). */
  relaxPressureTol: number;
  maxCgIterations: number;
  /** Neighbor skin outside the NVE run (λ; default defaultSkin(Q)); the NVE run picks its own (dynamicsSkin). */
  skin?: number;
}

export const DEFAULT_PREPARE: Omit<PrepareOptions, 'Q' | 'N' | 'density' | 'seed'> = {
  t0: 1.0,
  nveTime: 10,
  dtFactor: DEFAULT_DT_FACTOR,
  dtMax: DEFAULT_DT_MAX,
  ftol: 1e-10,
  overlapEnergy: 1.0,
  overlapMaxStep: 0.05,
  relaxPressureTol: 0,
  maxCgIterations: 1_000_000,
};

export type Stage = 'overlap' | 'nve' | 'quench' | 'relax';

export interface PrepareProgress {
  stage: Stage;
  /** Fraction of the stage done, in [0, 1] (quench: progress in log max-force). */
  fraction: number;
}

export interface PrepareResult {
  system: System;
  options: PrepareOptions;
  dt: number;
  nve: NveResult;
  overlap: MinimizeResult;
  quench: MinimizeResult;
  relax: { steps: number; bulkModulus: number } | null;
  timings: { overlap: number; nve: number; quench: number; relax: number; total: number };
}

/** Random species with exactly N/2 of each (Fisher–Yates on a half-and-half array). */
export function randomSpecies(n: number, rng: { below(n: number): number }): Uint8Array {
  const sp = new Uint8Array(n);
  for (let i = n >> 1; i < n; i++) sp[i] = 1;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    const t = sp[i]; sp[i] = sp[j]; sp[j] = t;
  }
  return sp;
}

/** The NVE run's time step (the protocol's rule unless dt is given) and its number of steps. */
export function nveSchedule(o: Pick<PrepareOptions, 'Q' | 't0' | 'dtFactor' | 'dtMax' | 'dt' | 'nveTime'>): { dt: number; steps: number } {
  const dt = o.dt ?? timeStepFor(o.Q, o.t0, o.dtFactor, o.dtMax);
  return { dt, steps: Math.round(o.nveTime / dt) };
}

export function validatePrepareOptions(o: PrepareOptions): void {
  fccCellsFor(o.N);
  if (!(o.density > 0) || !Number.isFinite(o.density)) throw new RangeError(`density must be a positive number (λ⁻³); got ${o.density}`);
  checkDensity(o.density);
  if (!(o.t0 > 0)) throw new RangeError(`t0 must be > 0; got ${o.t0}`);
  if (!(o.nveTime >= 0)) throw new RangeError(`nveTime must be ≥ 0; got ${o.nveTime}`);
  if (!(o.ftol > 0)) throw new RangeError(`ftol must be > 0; got ${o.ftol}`);
  if (o.dt !== undefined && !(o.dt > 0)) throw new RangeError(`dt must be > 0; got ${o.dt}`);
}

/** The state just before the quench: the system at the end of the NVE run (steps 1–3). */
export interface LiquidResult {
  system: System;
  dt: number;
  nve: NveResult;
  overlap: MinimizeResult;
  timings: { overlap: number; nve: number };
}

/** Steps 1–3 of the protocol: lattice, overlap removal, NVE; the system is left mid-trajectory, unquenched. */
export function prepareLiquid(opts: PrepareOptions, onProgress?: (p: PrepareProgress) => void): LiquidResult {
  validatePrepareOptions(opts);
  const model = makePairLaw(opts.model ?? 'q-model', { Q: opts.Q });
  const rng = createRandom(opts.seed);
  const k = fccCellsFor(opts.N);
  const length = Math.cbrt(opts.N / opts.density);
  const box = cubicBox(length);
  const species = randomSpecies(opts.N, rng);
  const sys = createSystem(model, box, fccPositions(k, length), species, opts.skin);
  const clock = () => performance.now() / 1000;
  const t0 = clock();

  onProgress?.({ stage: 'overlap', fraction: 0 });
  const overlap = minimizeFire(sys, {
    ftol: opts.ftol, maxStep: opts.overlapMaxStep, maxIterations: 100000,
    stopWhen: (s) => s.energy / particleCount(s) <= opts.overlapEnergy,
  });
  sortSpatially(sys);
  const t1 = clock();

  const { dt, steps } = nveSchedule(opts);
  const v = maxwellBoltzmannVelocities(opts.N, opts.t0, rng);
  const nve = runNve(sys, v, {
    dt, steps, onProgress: (done) => onProgress?.({ stage: 'nve', fraction: done / steps }),
  });
  sortSpatially(sys);
  const t2 = clock();
  return { system: sys, dt, nve, overlap, timings: { overlap: t1 - t0, nve: t2 - t1 } };
}

export function prepareGlass(opts: PrepareOptions, onProgress?: (p: PrepareProgress) => void): PrepareResult {
  const { system: sys, dt, nve, overlap, timings } = prepareLiquid(opts, onProgress);
  const clock = () => performance.now() / 1000;
  const t2 = clock();
  const quench = quenchToMinimum(sys, opts, (fraction) => onProgress?.({ stage: 'quench', fraction }));
  const t3 = clock();
  const relax = opts.relaxPressureTol > 0 ? relaxToZeroPressure(sys, opts, quench) : null;
  const t4 = clock();
  return {
    system: sys, options: opts, dt, nve, overlap, quench: relax ? relax.quench : quench,
    relax: relax ? { steps: relax.steps, bulkModulus: relax.bulkModulus } : null,
    timings: { ...timings, quench: t3 - t2, relax: t4 - t3, total: timings.overlap + timings.nve + (t4 - t2) },
  };
}

/** The quench and box-relaxation settings (of PrepareOptions) that re-minimising a given configuration uses. */
export type RelaxOptions = Pick<PrepareOptions, 'ftol' | 'relaxPressureTol' | 'maxCgIterations'>;

function quenchToMinimum(sys: System, opts: RelaxOptions, onFraction?: (f: number) => void): MinimizeResult {
  let fStart = 0;
  return minimize(sys, {
    ftol: opts.ftol, maxIterations: opts.maxCgIterations,
    onProgress: (_it, fmax) => {
      if (fStart === 0) fStart = fmax;
      onFraction?.(Math.min(1, Math.max(0, Math.log(fStart / fmax) / Math.log(fStart / opts.ftol))));
    },
  });
}

/**
 * Bulk modulus K = −V dp/dV by finite dilation of a quenched system: scale by (1 ± δ), re-minimise,
 * difference the pressure. Leaves sys unchanged. Used by calibration and volume relaxation before
 * (and as a check on) the Hessian route. K ≤ 0 means a probe crossed a plastic instability and fell
 * into another minimum (relaxToZeroPressure then probes smaller dilations).
 */
export function finiteDilationBulkModulus(sys: System, ftol: number, delta = 1e-6): number {
  const p: number[] = [];
  for (const sign of [-1, 1]) {
    const copy = cloneSystem(sys);
    const d = dilate(copy.box, copy.positions, 1 + sign * delta);
    copy.box = d.box;
    copy.positions.set(d.pos);
    const r = minimize(copy, { ftol });
    if (!r.converged) throw new Error(`re-minimisation after a dilation of ${sign * delta} did not converge (max |F| = ${r.maxForce})`);
    p.push(virialPressure(copy));
  }
  // V ∝ (1+δ)³: dV/V = 3·(2δ) between the two states
  return -(p[1] - p[0]) / (6 * delta);
}

export function cloneSystem(sys: System): System {
  const c = createSystem(sys.model, sys.box, sys.positions.slice(), sys.species.slice(), sys.neighbors.skin);
  computeForces(c);
  return c;
}

/**
 * K by finite dilation for the volume iteration. A glass can sit within a dilation of 1e-6 of a
 * plastic instability (seen at N = 500, Q = 240: K = −14517 at δ = 1e-6, 243 at 1e-7, 245.5 at 1e-8);
 * the re-minimised state then lies in another minimum and the difference is meaningless, most
 * visibly K ≤ 0. Smaller dilations are tried until K > 0.
 */
function dilationBulkModulus(sys: System, ftol: number): number {
  const tried: string[] = [];
  for (const delta of [1e-6, 1e-7, 1e-8]) {
    const K = finiteDilationBulkModulus(sys, ftol, delta);
    if (K > 0) return K;
    tried.push(`${K.toPrecision(4)} at δ = ${delta}`);
  }
  throw new Error(`the bulk modulus by finite dilation is not positive (${tried.join(', ')}): every dilation probe crosses a plastic instability, so the volume iteration has no slope to follow; prepare the glass from another seed, or keep it at fixed density`);
}

/** Newton iteration on the volume: scale by (1 + p/(3K)), re-quench, until |p|/K < tol. */
export function relaxToZeroPressure(sys: System, opts: RelaxOptions, quenched: MinimizeResult): { steps: number; bulkModulus: number; quench: MinimizeResult } {
  let quench = quenched;
  for (let step = 0; step <= 50; step++) {
    const K = dilationBulkModulus(sys, opts.ftol);
    const p = virialPressure(sys);
    if (Math.abs(p) / K < opts.relaxPressureTol) return { steps: step, bulkModulus: K, quench };
    const d = dilate(sys.box, sys.positions, 1 + p / (3 * K));
    sys.box = d.box;
    sys.positions.set(d.pos);
    quench = quenchToMinimum(sys, opts);
    if (!quench.converged) throw new Error(`re-quench during pressure relaxation did not converge (max |F| = ${quench.maxForce})`);
  }
  throw new Error(`pressure relaxation did not reach |p|/K < ${opts.relaxPressureTol} in 50 steps (p = ${virialPressure(sys)}, V = ${boxVolume(sys.box)})`);
}

/** The numbers a preparation reports (the `prepare --json` record). */
export function prepareSummary(r: PrepareResult, densityMode: string) {
  const sys = r.system;
  const N = particleCount(sys);
  return {
    model: sys.model.name, Q: r.options.Q, N, density: r.options.density, densityMode, seed: r.options.seed,
    finalDensity: N / (sys.box.lx * sys.box.ly * sys.box.lz),
    energyPerParticle: sys.energy / N, pressure: virialPressure(sys), maxForce: r.quench.maxForce,
    converged: r.quench.converged, minimizerIterations: r.quench.iterations,
    forceEvaluations: r.overlap.forceEvaluations + r.quench.forceEvaluations + r.nve.steps + 1,
    mdSteps: r.nve.steps, dt: r.dt, energyDrift: r.nve.energyDrift, nveFinalTemperature: r.nve.finalTemperature,
    relax: r.relax, timings: r.timings,
  };
}
