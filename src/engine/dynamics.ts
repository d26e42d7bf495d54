/**
 * Constant-energy (NVE) velocity-Verlet dynamics, unit masses.
 *
 * Time step rule: the vibration frequency of a pair pressed into the core scales like
 * Q·sqrt(T) (φ″ ~ Q²·φ/r² with φ ~ T at the turning point), so dt = min(dtMax, dtFactor/(Q·sqrt(T))).
 * dtFactor = 0.06 keeps the drift of the preparation run (10 τ from T₀ = 1) near or below 2e-3 ε per
 * particle (N = 500, 20 samples: at most 2.0e-4 at Q = 10, 1.4e-3 at Q = 40, 2.4e-3 at Q = 240;
 * 0.09 and 0.12 exceed it at Q = 40 and 240 although the glasses do not change). dtMax = 0.012 is the
 * largest dt measured at Q = 10 with the drift within that bound and glasses indistinguishable from
 * those of dt = 0.006 (docs/timestep.md); below it the cap no longer binds at Q = 10.
 */
import type { Random } from '../util/random.ts';
import { computeForces } from './forces.ts';
import { type System, particleCount, sortSpatially } from './system.ts';
import { setOuterSkin, setSkin } from '../space/neighbors.ts';
import { inKernelMemory, kernelCopy, kernelSet, releaseArray } from '../util/kernels.ts';
import { runOnThreads, threadCount } from '../util/threads.ts';

export const DEFAULT_DT_FACTOR = 0.06;
export const DEFAULT_DT_MAX = 0.012;

export function timeStepFor(Q: number, temperature: number, dtFactor = DEFAULT_DT_FACTOR, dtMax = DEFAULT_DT_MAX): number {
  if (!(temperature > 0)) throw new RangeError(`temperature must be > 0 to choose a time step; got ${temperature}`);
  return Math.min(dtMax, dtFactor / (Q * Math.sqrt(temperature)));
}

/** Maxwell–Boltzmann velocities at temperature T with zero total momentum, rescaled to exactly T (3N − 3 degrees of freedom). */
export function maxwellBoltzmannVelocities(n: number, temperature: number, rng: Random): Float64Array {
  if (!(temperature >= 0)) throw new RangeError(`temperature must be ≥ 0; got ${temperature}`);
  const v = new Float64Array(3 * n);
  const sd = Math.sqrt(temperature);
  for (let k = 0; k < 3 * n; k++) v[k] = sd * rng.normal();
  removeMomentum(v);
  const t = kineticTemperature(v);
  if (t > 0) {
    const scale = Math.sqrt(temperature / t);
    for (let k = 0; k < v.length; k++) v[k] *= scale;
  }
  return v;
}

export function removeMomentum(v: Float64Array): void {
  const n = v.length / 3;
  let px = 0, py = 0, pz = 0;
  for (let i = 0; i < n; i++) { px += v[3 * i]; py += v[3 * i + 1]; pz += v[3 * i + 2]; }
  px /= n; py /= n; pz /= n;
  for (let i = 0; i < n; i++) { v[3 * i] -= px; v[3 * i + 1] -= py; v[3 * i + 2] -= pz; }
}

export function kineticEnergy(v: Float64Array): number {
  let s = 0;
  for (let k = 0; k < v.length; k++) s += v[k] * v[k];
  return 0.5 * s;
}

/** Instantaneous temperature 2K/(3N − 3). */
export function kineticTemperature(v: Float64Array): number {
  return (2 * kineticEnergy(v)) / (v.length - 3);
}

export function totalMomentum(v: Float64Array): [number, number, number] {
  let px = 0, py = 0, pz = 0;
  for (let k = 0; k < v.length; k += 3) { px += v[k]; py += v[k + 1]; pz += v[k + 2]; }
  return [px, py, pz];
}

/**
 * Neighbor skin for dynamics: per step, pair work grows with the skin and rebuild work falls like
 * 1/skin times the distance a particle travels, so the optimum skin goes like the square root of
 * that distance (∝ dt·√T). The constant and the clamp come from timing N = 10976 at Q = 10 (best
 * 0.2–0.3) and Q = 240 (best 0.1).
 */
export function dynamicsSkin(dt: number, temperature: number): number {
  return Math.min(0.3, Math.max(0.1, 5 * Math.sqrt(dt * Math.sqrt(Math.max(temperature, 0)))));
}

/**
 * Skin of the outer neighbor list during dynamics (filtered into the list of skin `skin` at each
 * rebuild; src/space/neighbors.ts), 0 for none: the cells are searched again only once a particle
 * has moved (outer − skin)/2. It pays where the list's skin is at the floor of dynamicsSkin (stiff
 * Q, small dt): at skin 0.1 an outer list of 0.5 lasts four to five rebuilds. At skin 0.3 (Q = 10)
 * the outer list lasted two and filtering it cost what the searches saved, so there is none.
 * Timed at N = 10976 (docs/performance.md).
 */
export function dynamicsOuterSkin(skin: number): number {
  return skin <= 0.15 ? 5 * skin : 0;
}

export interface NveOptions {
  dt: number;
  steps: number;
  /** Neighbor skin during the run (default dynamicsSkin(dt, T) from the initial velocities); the system's skin is restored afterwards. */
  skin?: number;
  /**
   * Skin of the outer list the neighbor list is filtered from during the run (default
   * dynamicsOuterSkin(skin); 0: none, every rebuild searches the cells). Not used in a box too
   * narrow for its radius.
   */
  outerSkin?: number;
  /** Spatially re-sort particles every this many neighbor-list builds (0: never). */
  sortEveryBuilds?: number;
  /** Called every progressEvery steps with the number of steps done. */
  onProgress?: (done: number) => void;
  progressEvery?: number;
  /** Energy samples for the drift estimate are taken every this many steps. */
  sampleEvery?: number;
}

export interface NveResult {
  steps: number;
  dt: number;
  initialEnergy: number;
  finalEnergy: number;
  /** max_t |E(t) − E(0)| / N over the sampled steps. */
  energyDrift: number;
  finalTemperature: number;
}

/**
 * Run velocity Verlet in place on sys and v. Throws (with the step reached) if the energy stops
 * being finite or the drift exceeds the total kinetic scale by far: the time step is too large.
 */
export function runNve(sys: System, velocities: Float64Array, opts: NveOptions): NveResult {
  const { dt, steps } = opts;
  if (!(dt > 0)) throw new RangeError(`dt must be > 0; got ${dt}`);
  const n = particleCount(sys);
  const sortEvery = opts.sortEveryBuilds ?? 20;
  const sampleEvery = opts.sampleEvery ?? 10;
  const progressEvery = opts.progressEvery ?? 500;
  const half = 0.5 * dt;
  const systemSkin = sys.neighbors.skin;
  const inKernels = kernelSet() === 'wasm' && inKernelMemory(sys.positions) && inKernelMemory(sys.forces);
  // the kernels sweep arrays in their own memory: the velocities move there for the run
  const v = inKernels && !inKernelMemory(velocities) ? kernelCopy(Float64Array, velocities) : velocities;
  const sweeps = inKernels ? kernelSweeps(sys, v, half, dt) : typedArraySweeps(sys, v, half, dt);
  const skin = opts.skin ?? dynamicsSkin(dt, kineticTemperature(v));
  setSkin(sys.neighbors, skin);
  setOuterSkin(sys.neighbors, opts.outerSkin ?? dynamicsOuterSkin(skin));
  try {
    computeForces(sys);
    const e0 = sys.energy + kineticEnergy(v);
    let drift = 0;
    let lastSortBuild = sys.neighbors.builds;
    // the closing kick of a step is left pending, and done in the next step's sweep, except where
    // the velocities are read (energy samples, the end)
    let kickPending = false;
    for (let step = 1; step <= steps; step++) {
      const moved2 = sweeps.kickDrift(kickPending);
      // every particle was within skin/2 of the list's reference before this step (or the list was
      // rebuilt): one now beyond the skin moved more than skin/2 in one step, the integration has blown up
      if (!(moved2 <= sys.neighbors.skin ** 2)) {
        throw new Error(
          `NVE dynamics diverged at step ${step} (a particle moved more than half the neighbor skin, ${(0.5 * sys.neighbors.skin).toPrecision(3)} λ, in one step): ` +
          `the time step dt = ${dt} is too large for this Q and temperature`,
        );
      }
      const sample = step % sampleEvery === 0 || step === steps;
      computeForces(sys, sample, moved2);
      kickPending = !sample;
      if (sample) {
        sweeps.kick();
        const e = sys.energy + kineticEnergy(v);
        if (!Number.isFinite(e) || Math.abs(e - e0) > 10 * n * Math.max(1, Math.abs(e0) / n)) {
          throw new Error(
            `NVE dynamics diverged at step ${step} (energy ${e}, started at ${e0}): the time step dt = ${dt} is too large for this Q and temperature`,
          );
        }
        drift = Math.max(drift, Math.abs(e - e0) / n);
      }
      // sorting permutes velocities and forces alike, so a pending kick stays valid
      if (sortEvery > 0 && sys.neighbors.builds - lastSortBuild >= sortEvery) {
        sortSpatially(sys, [v]);
        lastSortBuild = sys.neighbors.builds;
      }
      if (opts.onProgress && step % progressEvery === 0) opts.onProgress(step);
    }
    return {
      steps, dt, initialEnergy: e0, finalEnergy: sys.energy + kineticEnergy(v), energyDrift: drift,
      finalTemperature: kineticTemperature(v),
    };
  } finally {
    setOuterSkin(sys.neighbors, 0);
    setSkin(sys.neighbors, systemSkin);
    if (v !== velocities) {
      velocities.set(v);
      releaseArray(v);
    }
  }
}

/**
 * The sweeps of a velocity-Verlet step: kick and drift (after the previous step's closing kick if it
 * was left pending), returning the largest squared displacement from the neighbor list's reference
 * positions; and the closing kick.
 */
interface VerletSweeps {
  kickDrift(closingKick: boolean): number;
  kick(): void;
}

function typedArraySweeps(sys: System, v: Float64Array, half: number, dt: number): VerletSweeps {
  const pos = sys.positions, f = sys.forces;
  return {
    kickDrift(closingKick) {
      const ref = sys.neighbors.reference;
      let worst = 0;
      for (let k = 0; k < v.length; k += 3) {
        let moved = 0;
        for (let c = k; c < k + 3; c++) {
          v[c] += half * f[c];
          if (closingKick) v[c] += half * f[c];
          pos[c] += dt * v[c];
          const d = pos[c] - ref[c];
          moved += d * d;
        }
        if (moved > worst || Number.isNaN(moved)) worst = moved;
      }
      return worst;
    },
    kick() {
      for (let k = 0; k < v.length; k++) v[k] += half * f[k];
    },
  };
}

/** The sweeps in the kernels (assembly/dynamics.ts), split over the threads in equal ranges of particles. */
function kernelSweeps(sys: System, v: Float64Array, half: number, dt: number): VerletSweeps {
  const x = sys.positions.byteOffset, f = sys.forces.byteOffset, vp = v.byteOffset;
  const n = v.length / 3;
  const from = (t: number) => Math.floor((n * t) / threadCount());
  let closing = false;
  const kickDriftArgs = (t: number, a: Float64Array) => {
    a[0] = from(t); a[1] = from(t + 1); a[2] = vp; a[3] = x; a[4] = f; a[5] = sys.neighbors.reference.byteOffset; a[6] = half; a[7] = dt; a[8] = closing ? 1 : 0;
  };
  const kickArgs = (t: number, a: Float64Array) => { a[0] = from(t); a[1] = from(t + 1); a[2] = vp; a[3] = f; a[4] = half; };
  return {
    kickDrift(closingKick) {
      closing = closingKick;
      const moved = runOnThreads('verletKickDrift', kickDriftArgs);
      let worst = 0;
      for (let t = 0; t < threadCount(); t++) worst = Math.max(worst, moved[t]);
      return worst;
    },
    kick() {
      runOnThreads('verletKick', kickArgs);
    },
  };
}
