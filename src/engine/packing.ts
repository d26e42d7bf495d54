/**
 * Soft-sphere packings at a target pressure, the controls of jamming physics:
 *  1. N particles (exactly N/2 of each species, from the seed) at uniformly random positions in a
 *     cube whose packing fraction is `startPackingFraction` (well above jamming);
 *  2. energy minimisation (CG; FIRE where CG stalls) to max |F| < forceTolerance·p_target;
 *  3. the box scaled isotropically toward the target pressure, re-minimised after every step: Newton
 *     steps in ln V with the bulk modulus K = −dp/d ln V from the last two states (the affine
 *     modulus for the first step, which overestimates K and so undershoots safely), each step
 *     changing p by at most a factor `maxPressureRatio`; a step that unjams the packing (p ≤ 0) is
 *     undone and halved. Stops when |p − p_target| ≤ pressureTolerance·p_target.
 * No dynamics: the packings are minima reached by compression then decompression, as in the
 * jamming literature. One seed reproduces one packing bit for bit.
 */
import type { PairLaw } from '../model/pair-law.ts';
import { lawMetadata } from '../model/laws.ts';
import { SPHERE_DIAMETERS } from '../model/soft-sphere.ts';
import { boxVolume, cubicBox, dilate } from '../space/box.ts';
import { createRandom, validateSeed } from '../util/random.ts';
import { computeForces } from './forces.ts';
import { buildPairTable } from './pair-table.ts';
import { minimize, minimizeFire, type MinimizeResult } from './minimize.ts';
import { randomSpecies } from './prepare.ts';
import { createSystem, particleCount, sortSpatially, virialPressure, type System } from './system.ts';

export interface PackingOptions {
  /** A soft-sphere law (src/model/soft-sphere.ts). */
  law: PairLaw;
  N: number;
  /** Target pressure (ε/σ_S³). */
  pressure: number;
  seed: number;
  /** Relative tolerance on the pressure (default 1e-3). */
  pressureTolerance?: number;
  /** Minimiser tolerance on the largest force component, relative to the target pressure (default 1e-9). */
  forceTolerance?: number;
  /** Packing fraction of the random start (default 0.8). */
  startPackingFraction?: number;
  /** Largest change of p in one volume step, as a ratio (default 4). */
  maxPressureRatio?: number;
  /** Volume steps allowed (default 200). */
  maxSteps?: number;
}

export interface PackingResult {
  system: System;
  pressure: number;
  packingFraction: number;
  converged: boolean;
  /** Volume steps and minimisations done. */
  steps: number;
  quench: MinimizeResult;
  forceEvaluations: number;
  seconds: number;
}

/** Fraction of the box volume covered by the spheres (overlaps counted twice). */
export function packingFraction(sys: System): number {
  let v = 0;
  for (let i = 0; i < sys.species.length; i++) v += (Math.PI / 6) * SPHERE_DIAMETERS[sys.species[i]] ** 3;
  return v / boxVolume(sys.box);
}

export function validatePackingOptions(o: PackingOptions): void {
  if (o.law.kernel.family !== 'soft-sphere') throw new RangeError(`packings at a target pressure are for soft-sphere laws (harmonic, hertzian); got ${o.law.name}`);
  if (!Number.isInteger(o.N) || o.N < 64 || o.N % 2 !== 0) throw new RangeError(`N must be an even integer ≥ 64 (half small, half large); got ${o.N}`);
  if (!(o.pressure > 0) || !(o.pressure <= 1)) throw new RangeError(`pressure must be in (0, 1] ε/σ³ (the soft-sphere controls span 1e-1 … 1e-4); got ${o.pressure}`);
  validateSeed(o.seed);
}

/** Halvings of one volume step before the packing is given up as not converging. */
const MAX_BACK_OFFS = 8;

/** The protocol's defaults (what the optional fields of PackingOptions default to). */
export const DEFAULT_PACKING = { pressureTolerance: 1e-3, forceTolerance: 1e-9, startPackingFraction: 0.8, maxPressureRatio: 4, maxSteps: 200 } as const;

export function preparePacking(opts: PackingOptions): PackingResult {
  validatePackingOptions(opts);
  const t0 = performance.now();
  const pTarget = opts.pressure;
  const pTol = opts.pressureTolerance ?? DEFAULT_PACKING.pressureTolerance;
  const ftol = (opts.forceTolerance ?? DEFAULT_PACKING.forceTolerance) * pTarget;
  const maxRatio = opts.maxPressureRatio ?? DEFAULT_PACKING.maxPressureRatio;
  const maxSteps = opts.maxSteps ?? DEFAULT_PACKING.maxSteps;
  const rng = createRandom(opts.seed);
  const species = randomSpecies(opts.N, rng);
  let sphereVolume = 0;
  for (let i = 0; i < opts.N; i++) sphereVolume += (Math.PI / 6) * SPHERE_DIAMETERS[species[i]] ** 3;
  const L = Math.cbrt(sphereVolume / (opts.startPackingFraction ?? DEFAULT_PACKING.startPackingFraction));
  const pos = new Float64Array(3 * opts.N);
  for (let k = 0; k < pos.length; k++) pos[k] = L * rng.uniform();
  const sys = createSystem(opts.law, cubicBox(L), pos, species);
  let evaluations = 0;
  const quench = (): MinimizeResult => {
    let r = minimize(sys, { ftol });
    evaluations += r.forceEvaluations;
    if (!r.converged) {
      // harmonic contacts make φ″ jump at contact, which can stall CG's line search near jamming;
      // FIRE needs no line search, and CG then finishes from where it got
      evaluations += minimizeFire(sys, { ftol, maxIterations: 200000 }).forceEvaluations;
      r = minimize(sys, { ftol });
      evaluations += r.forceEvaluations;
    }
    return r;
  };
  let last = quench();
  sortSpatially(sys);
  let p = virialPressure(sys);
  let lnV = Math.log(boxVolume(sys.box));
  let K = affineBulkModulus(sys);
  let steps = 0;
  while (Math.abs(p - pTarget) > pTol * pTarget && steps < maxSteps && last.converged) {
    steps++;
    const pStep = Math.min(p * maxRatio, Math.max(p / maxRatio, pTarget));
    const before = { box: sys.box, pos: sys.positions.slice(), p, lnV };
    let dlnV = (p - pStep) / K;
    for (let tries = 0; ; tries++) {
      const d = dilate(before.box, before.pos, Math.exp(dlnV / 3));
      sys.box = d.box;
      sys.positions.set(d.pos);
      last = quench();
      p = virialPressure(sys);
      if ((p > 0 && last.converged) || tries === MAX_BACK_OFFS) break;
      // unjammed, or the minimisers stalled (near unjamming a large step can leave a floppy region
      // that neither CG nor FIRE brings to the tolerance): a smaller step from the last minimum
      dlnV *= 0.5;
    }
    lnV = Math.log(boxVolume(sys.box));
    const secant = -(p - before.p) / (lnV - before.lnV);
    if (secant > 0 && Number.isFinite(secant)) K = secant;
  }
  computeForces(sys);
  return {
    system: sys, pressure: virialPressure(sys), packingFraction: packingFraction(sys),
    converged: last.converged && Math.abs(virialPressure(sys) - pTarget) <= pTol * pTarget,
    steps, quench: last, forceEvaluations: evaluations, seconds: (performance.now() - t0) / 1000,
  };
}

/** −dp/d ln V without non-affine relaxation, (1/9V)·Σ φ″·r² + (2/3)·p: an upper bound of K. */
function affineBulkModulus(sys: System): number {
  const pairs = buildPairTable(sys);
  let born = 0;
  for (let q = 0; q < pairs.count; q++) born += pairs.d2phi[q] * pairs.r2[q];
  const K = born / (9 * boxVolume(sys.box)) + (2 / 3) * virialPressure(sys);
  if (!(K > 0)) throw new Error(`the random start is not jammed (K = ${K}, ${particleCount(sys)} particles): raise startPackingFraction`);
  return K;
}

/**
 * The numbers a packing reports (the `prepare --json` record of a soft-sphere packing, and a
 * campaign sample's prepare stage), with its rattler count and Z from src/measure/rattlers.ts.
 */
export function packingSummary(r: PackingResult, seed: number, targetPressure: number, contacts: { rattlers: number; Z: number }) {
  const sys = r.system;
  const N = particleCount(sys);
  return {
    ...lawMetadata(sys.model), N, seed, targetPressure, pressure: r.pressure, packingFraction: r.packingFraction,
    finalDensity: N / boxVolume(sys.box), energyPerParticle: sys.energy / N,
    rattlers: contacts.rattlers, rattlerFraction: contacts.rattlers / N, Z: contacts.Z,
    maxForce: r.quench.maxForce, converged: r.converged, volumeSteps: r.steps, forceEvaluations: r.forceEvaluations, timings: { total: r.seconds },
  };
}

/** The metadata a packing's file records: its summary without the bookkeeping, the density as `density`. */
export function packingMetadata(s: ReturnType<typeof packingSummary>) {
  const { timings: _t, forceEvaluations: _f, finalDensity, ...rest } = s;
  return { ...rest, density: finalDensity };
}
