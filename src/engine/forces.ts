/**
 * Energy, forces and virial in one pass over the half neighbor list — the hot loop of every
 * dynamics and minimisation step. Algebra in s = x⁻² = λ²/r² so that no square root is taken:
 *
 *   φ      = s^(Q/2) − s³ + (c4·x² + c2)·x² + c0
 *   φ′/r   = [(−Q·s^(Q/2) + 6·s³)·s + 4·c4·x² + 2·c2] / λ²
 *
 * Force on i from j: F_i = (φ′/r)·(r_j − r_i); virial accumulates Σ r·φ′ = Σ (φ′/r)·r².
 */
import type { PairModel } from '../model/potential.ts';
import { type System, refreshNeighbors } from './system.ts';

/**
 * The pair loop. It is self-contained (everything arrives as arguments) so that it can be cloned per
 * Q: each clone's JIT feedback then sees a single repulsion function and inlines it; one shared copy
 * would see one per Q in a process that handles several and fall back to a call per pair.
 * Writes energy and virial into result[0], result[1] when withEnergy.
 */
function pairLoop(
  n: number, start: Int32Array, boundaryStart: Int32Array, pairs: Int32Array, pairType: Uint8Array,
  pos: Float64Array, f: Float64Array, cell: Float64Array,
  Q: number, c4: number, c2: number, c0: number, lambda2: Float64Array, invLambda2: Float64Array, cutoff2: Float64Array,
  repulsion: (s: number) => number, withEnergy: boolean, result: Float64Array,
): void {
  const lx = cell[0], ly = cell[1], lz = cell[2], xy = cell[3], xz = cell[4], yz = cell[5];
  const hx = 0.5 * lx, hy = 0.5 * ly, hz = 0.5 * lz;
  const fourC4 = 4 * c4, twoC2 = 2 * c2;
  let energy = 0;
  let virial = 0;
  for (let i = 0; i < n; i++) {
    const xi = pos[3 * i], yi = pos[3 * i + 1], zi = pos[3 * i + 2];
    let fxi = 0, fyi = 0, fzi = 0;
    const crossing = boundaryStart[i];
    for (let k = start[i], end = start[i + 1]; k < end; k++) {
      const j = pairs[k];
      let dx = pos[3 * j] - xi, dy = pos[3 * j + 1] - yi, dz = pos[3 * j + 2] - zi;
      if (k >= crossing) {
        // minimum image, z then y then x (tilts carried along); loops because positions are not
        // wrapped between spatial sorts (cheaper than Math.round)
        while (dz > hz) { dz -= lz; dy -= yz; dx -= xz; }
        while (dz < -hz) { dz += lz; dy += yz; dx += xz; }
        while (dy > hy) { dy -= ly; dx -= xy; }
        while (dy < -hy) { dy += ly; dx += xy; }
        while (dx > hx) dx -= lx;
        while (dx < -hx) dx += lx;
      }
      const r2 = dx * dx + dy * dy + dz * dz;
      const t = pairType[k];
      if (r2 >= cutoff2[t]) continue;
      const x2 = r2 * invLambda2[t];
      const s = lambda2[t] / r2;
      const xq = repulsion(s);
      const s3 = s * s * s;
      const fr = ((6 * s3 - Q * xq) * s + fourC4 * x2 + twoC2) * invLambda2[t];
      if (withEnergy) {
        energy += xq - s3 + (c4 * x2 + c2) * x2 + c0;
        virial += fr * r2;
      }
      const fx = fr * dx, fy = fr * dy, fz = fr * dz;
      fxi += fx; fyi += fy; fzi += fz;
      f[3 * j] -= fx; f[3 * j + 1] -= fy; f[3 * j + 2] -= fz;
    }
    f[3 * i] += fxi; f[3 * i + 1] += fyi; f[3 * i + 2] += fzi;
  }
  result[0] = energy;
  result[1] = virial;
}

type PairLoop = typeof pairLoop;
const loopsByQ = new Map<number, PairLoop>();

function pairLoopFor(Q: number): PairLoop {
  let loop = loopsByQ.get(Q);
  if (!loop) {
    loop = new Function(`return ${pairLoop.toString()}`)() as PairLoop;
    loopsByQ.set(Q, loop);
  }
  return loop;
}

const cell = new Float64Array(6);
const result = new Float64Array(2);

/**
 * Forces into sys.forces; with withEnergy (the default) also sys.energy and sys.virial, which
 * dynamics and CG skip on most steps (they only need forces). Returns the energy (NaN when skipped).
 */
export function computeForces(sys: System, withEnergy = true): number {
  refreshNeighbors(sys);
  const { box, positions, forces, neighbors } = sys;
  const m: PairModel = sys.model;
  cell[0] = box.lx; cell[1] = box.ly; cell[2] = box.lz; cell[3] = box.xy; cell[4] = box.xz; cell[5] = box.yz;
  forces.fill(0);
  pairLoopFor(m.Q)(
    sys.species.length, neighbors.start, neighbors.boundaryStart, neighbors.pairs, neighbors.pairType,
    positions, forces, cell, m.Q, m.c4, m.c2, m.c0, m.lambda2, m.invLambda2, m.cutoff2, m.repulsion, withEnergy, result,
  );
  sys.energy = withEnergy ? result[0] : NaN;
  sys.virial = withEnergy ? result[1] : NaN;
  sys.forceEvaluations++;
  return sys.energy;
}

/** Largest absolute force component (the minimisers' convergence measure). */
export function maxForceComponent(f: Float64Array): number {
  let m = 0;
  for (let k = 0; k < f.length; k++) {
    const a = Math.abs(f[k]);
    if (a > m) m = a;
  }
  return m;
}
