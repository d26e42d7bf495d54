/**
 * Energy, forces and virial in one pass over the half neighbor list — the hot loop of every
 * dynamics and minimisation step — for any pair law (src/model/pair-law.ts). The law's kernel
 * family picks the loop; each loop reads the law's coefficient block. These TypeScript loops are the
 * reference implementation of the kernels.
 *
 * Force on i from j: F_i = (φ′/r)·(r_j − r_i); the virial accumulates Σ r·φ′ = Σ (φ′/r)·r².
 */
import { KERNEL_COEFFICIENTS, type PairLaw } from '../model/pair-law.ts';
import { type System, refreshNeighbors } from './system.ts';
import { inKernelMemory, kernelArray, kernelCopy, kernelSet, wasmKernels } from '../util/kernels.ts';
import { addThreadVectors, runParallel, splitRows, threadArgs, threadBounds, threadBuffer, threadCount } from '../util/threads.ts';

// Each loop applies the minimum image to the pairs flagged as periodic images, z then y then x
// (tilts carried along), by loops because positions are not wrapped between spatial sorts (cheaper
// than Math.round); it is written out in each loop since a shared function would return three numbers.

/**
 * `inverse-power` family. Algebra in s = x⁻² = λ²/r² so that no square root is taken:
 *   φ = s^(Q/2) − B·s³ + (c4·x² + c2)·x² + c0,  φ′/r = [(6B·s³ − Q·s^(Q/2))·s + 4c4·x² + 2c2]/λ².
 * Self-contained (everything arrives as arguments) so that it can be cloned per Q: each clone's JIT
 * feedback then sees a single repulsion function and inlines it; one shared copy would see one per Q
 * in a process that handles several and fall back to a call per pair.
 */
function inversePowerLoop(
  n: number, start: Int32Array, boundaryStart: Int32Array, pairs: Int32Array, pairType: Uint8Array,
  pos: Float64Array, f: Float64Array, cell: Float64Array, k: Float64Array,
  repulsion: (s: number) => number, withEnergy: boolean, result: Float64Array,
): void {
  const lx = cell[0], ly = cell[1], lz = cell[2], xy = cell[3], xz = cell[4], yz = cell[5];
  const hx = 0.5 * lx, hy = 0.5 * ly, hz = 0.5 * lz;
  const Q = k[0], B = k[2], c4 = k[3], c2 = k[4], c0 = k[5];
  const sixB = 6 * B, fourC4 = 4 * c4, twoC2 = 2 * c2;
  let energy = 0;
  let virial = 0;
  for (let i = 0; i < n; i++) {
    const xi = pos[3 * i], yi = pos[3 * i + 1], zi = pos[3 * i + 2];
    let fxi = 0, fyi = 0, fzi = 0;
    const crossing = boundaryStart[i];
    for (let q = start[i], end = start[i + 1]; q < end; q++) {
      const j = pairs[q];
      let dx = pos[3 * j] - xi, dy = pos[3 * j + 1] - yi, dz = pos[3 * j + 2] - zi;
      if (q >= crossing) {
        while (dz > hz) { dz -= lz; dy -= yz; dx -= xz; }
        while (dz < -hz) { dz += lz; dy += yz; dx += xz; }
        while (dy > hy) { dy -= ly; dx -= xy; }
        while (dy < -hy) { dy += ly; dx += xy; }
        while (dx > hx) dx -= lx;
        while (dx < -hx) dx += lx;
      }
      const r2 = dx * dx + dy * dy + dz * dz;
      const t = pairType[q];
      if (r2 >= k[12 + t]) continue;
      const x2 = r2 * k[9 + t];
      const s = k[6 + t] / r2;
      const xq = repulsion(s);
      const s3 = s * s * s;
      const fr = ((sixB * s3 - Q * xq) * s + fourC4 * x2 + twoC2) * k[9 + t];
      if (withEnergy) {
        energy += xq - B * s3 + (c4 * x2 + c2) * x2 + c0;
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

/** `soft-sphere` family: h = 1 − r/σ, φ = (ε/α)·h^α, φ′/r = −(ε/σ)·h^(α−1)/r (one square root per contact). */
function softSphereLoop(
  n: number, start: Int32Array, boundaryStart: Int32Array, pairs: Int32Array, pairType: Uint8Array,
  pos: Float64Array, f: Float64Array, cell: Float64Array, k: Float64Array,
  withEnergy: boolean, result: Float64Array,
): void {
  const lx = cell[0], ly = cell[1], lz = cell[2], xy = cell[3], xz = cell[4], yz = cell[5];
  const hx = 0.5 * lx, hy = 0.5 * ly, hz = 0.5 * lz;
  const alpha = k[0], epsilon = k[1], harmonic = alpha === 2;
  const energyScale = epsilon / alpha;
  let energy = 0;
  let virial = 0;
  for (let i = 0; i < n; i++) {
    const xi = pos[3 * i], yi = pos[3 * i + 1], zi = pos[3 * i + 2];
    let fxi = 0, fyi = 0, fzi = 0;
    const crossing = boundaryStart[i];
    for (let q = start[i], end = start[i + 1]; q < end; q++) {
      const j = pairs[q];
      let dx = pos[3 * j] - xi, dy = pos[3 * j + 1] - yi, dz = pos[3 * j + 2] - zi;
      if (q >= crossing) {
        while (dz > hz) { dz -= lz; dy -= yz; dx -= xz; }
        while (dz < -hz) { dz += lz; dy += yz; dx += xz; }
        while (dy > hy) { dy -= ly; dx -= xy; }
        while (dy < -hy) { dy += ly; dx += xy; }
        while (dx > hx) dx -= lx;
        while (dx < -hx) dx += lx;
      }
      const r2 = dx * dx + dy * dy + dz * dz;
      const t = pairType[q];
      if (r2 >= k[12 + t]) continue;
      const r = Math.sqrt(r2);
      const is = k[9 + t];
      const h = 1 - r * is;
      const h1 = harmonic ? h : Math.pow(h, alpha - 1); // h^(α−1)
      const fr = -epsilon * is * h1 / r;
      if (withEnergy) {
        energy += energyScale * h1 * h;
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

/** `generic` family: the law's own derivatives per pair (any law, no fast kernel). */
function genericLoop(
  n: number, start: Int32Array, boundaryStart: Int32Array, pairs: Int32Array, pairType: Uint8Array,
  pos: Float64Array, f: Float64Array, cell: Float64Array, law: PairLaw, result: Float64Array,
): void {
  const lx = cell[0], ly = cell[1], lz = cell[2], xy = cell[3], xz = cell[4], yz = cell[5];
  const hx = 0.5 * lx, hy = 0.5 * ly, hz = 0.5 * lz;
  const der = derivativesScratch;
  let energy = 0;
  let virial = 0;
  for (let i = 0; i < n; i++) {
    const xi = pos[3 * i], yi = pos[3 * i + 1], zi = pos[3 * i + 2];
    const crossing = boundaryStart[i];
    for (let q = start[i], end = start[i + 1]; q < end; q++) {
      const j = pairs[q];
      let dx = pos[3 * j] - xi, dy = pos[3 * j + 1] - yi, dz = pos[3 * j + 2] - zi;
      if (q >= crossing) {
        while (dz > hz) { dz -= lz; dy -= yz; dx -= xz; }
        while (dz < -hz) { dz += lz; dy += yz; dx += xz; }
        while (dy > hy) { dy -= ly; dx -= xy; }
        while (dy < -hy) { dy += ly; dx += xy; }
        while (dx > hx) dx -= lx;
        while (dx < -hx) dx += lx;
      }
      const r2 = dx * dx + dy * dy + dz * dz;
      law.derivatives(pairType[q], r2, der);
      if (der[1] === 0 && der[0] === 0) continue;
      const fr = der[1] / Math.sqrt(r2);
      energy += der[0];
      virial += fr * r2;
      const fx = fr * dx, fy = fr * dy, fz = fr * dz;
      f[3 * i] += fx; f[3 * i + 1] += fy; f[3 * i + 2] += fz;
      f[3 * j] -= fx; f[3 * j + 1] -= fy; f[3 * j + 2] -= fz;
    }
  }
  result[0] = energy;
  result[1] = virial;
}
const derivativesScratch = new Float64Array(4);

type InversePowerLoop = typeof inversePowerLoop;
const inversePowerLoops = new Map<number, InversePowerLoop>();

function inversePowerLoopFor(Q: number): InversePowerLoop {
  let loop = inversePowerLoops.get(Q);
  if (!loop) {
    loop = new Function(`return ${inversePowerLoop.toString()}`)() as InversePowerLoop;
    inversePowerLoops.set(Q, loop);
  }
  return loop;
}

/**
 * s ↦ s^(Q/2) as one straight line of multiplications (the squarings and products of intPow,
 * unrolled for this exponent): a loop over the exponent's bits costs a third of the pair time.
 * Same operations in the same order as intPow, so the same bits. One function object per Q keeps
 * the pair loop's call monomorphic.
 */
const repulsionByQ = new Map<number, (s: number) => number>();

function repulsionFor(Q: number, halfQ: number): (s: number) => number {
  let fn = repulsionByQ.get(Q);
  if (!fn) {
    fn = halfQ === 0 ? generalPower(0.5 * Q) : unrolledPower(halfQ);
    repulsionByQ.set(Q, fn);
  }
  return fn;
}

function generalPower(e: number): (s: number) => number {
  return (s) => Math.pow(s, e);
}

function unrolledPower(n: number): (s: number) => number {
  const lines: string[] = [];
  let result = '';
  let base = 's';
  for (let k = 0; n > 0; n >>= 1, k++) {
    if (n & 1) {
      if (result === '') { lines.push(`let r = ${base};`); result = 'r'; }
      else lines.push(`r = r * ${base};`);
    }
    if (n > 1) { lines.push(`const b${k + 1} = ${base} * ${base};`); base = `b${k + 1}`; }
  }
  return new Function('s', `${lines.join(' ')} return r;`) as (s: number) => number;
}

const cell = new Float64Array(6);
const result = new Float64Array(2);

/** The box, results and each law's coefficients where the WebAssembly kernels read them. */
let wasmScratch: { cell: Float64Array; result: Float64Array } | null = null;
const wasmCoefficients = new WeakMap<PairLaw, Float64Array>();

/**
 * What the WebAssembly force kernels read: the law's coefficients, then (from byte 128) the type-lane
 * table, 12 entries of 6 numbers: for two listed pairs of types t0, t1 (entry 3·t0 + t1) the lane
 * pairs (k[6 + t0], k[6 + t1]), (k[9 + t0], k[9 + t1]), (k[12 + t0], k[12 + t1]); for a row's lone
 * last pair of type t0 (entry 9 + t0) the same with t1 = t0 except cutoff² 0 in lane 1, which
 * switches that lane off.
 */
function kernelBlock(k: Float64Array): Float64Array {
  const block = new Float64Array(KERNEL_COEFFICIENTS + 12 * 6);
  block.set(k);
  for (let entry = 0; entry < 12; entry++) {
    const t0 = entry < 9 ? Math.floor(entry / 3) : entry - 9, t1 = entry < 9 ? entry % 3 : t0;
    const e = KERNEL_COEFFICIENTS + 6 * entry;
    for (let slot = 0; slot < 3; slot++) {
      block[e + 2 * slot] = k[6 + 3 * slot + t0];
      block[e + 2 * slot + 1] = k[6 + 3 * slot + t1];
    }
    if (entry >= 9) block[e + 5] = 0;
  }
  return block;
}

/**
 * Forces into sys.forces; with withEnergy (the default) also sys.energy and sys.virial, which
 * dynamics and CG skip on most steps (they only need forces). Returns the energy (NaN when skipped).
 * largestMove2: the largest squared displacement since the last neighbor build, when the caller
 * knows it (see needsRebuild).
 * Runs the WebAssembly kernel of the law's family when that kernel set is in use and the system's
 * arrays live in the kernel memory (as createSystem allocates them), the TypeScript loop otherwise.
 */
export function computeForces(sys: System, withEnergy = true, largestMove2?: number): number {
  refreshNeighbors(sys, largestMove2);
  const { box, positions, forces, neighbors, model } = sys;
  const n = sys.species.length;
  const { start, boundaryStart, pairs, pairType } = neighbors;
  const family = model.kernel.family;
  if (family !== 'generic' && kernelSet() === 'wasm' && inKernelMemory(positions) && inKernelMemory(forces) && inKernelMemory(pairs)) {
    wasmScratch ??= { cell: kernelArray(Float64Array, 6), result: kernelArray(Float64Array, 2) };
    const { cell: c, result: r } = wasmScratch;
    c[0] = box.lx; c[1] = box.ly; c[2] = box.lz; c[3] = box.xy; c[4] = box.xz; c[5] = box.yz;
    let k = wasmCoefficients.get(model);
    if (!k) { k = kernelCopy(Float64Array, kernelBlock(model.kernel.coefficients)); wasmCoefficients.set(model, k); }
    const kernel = family === 'inverse-power' ? 'pairForcesInversePower' : 'pairForcesSoftSphere';
    if (threadCount() > 1) return finish(sys, withEnergy, threadedForces(kernel, sys, c, k, withEnergy));
    // the kernel zeroes the forces itself
    wasmKernels()[kernel](
      0, n, n, start.byteOffset, boundaryStart.byteOffset, pairs.byteOffset, pairType.byteOffset,
      positions.byteOffset, forces.byteOffset, c.byteOffset, k.byteOffset, withEnergy, r.byteOffset,
    );
    return finish(sys, withEnergy, r);
  }
  cell[0] = box.lx; cell[1] = box.ly; cell[2] = box.lz; cell[3] = box.xy; cell[4] = box.xz; cell[5] = box.yz;
  forces.fill(0);
  const k = model.kernel.coefficients;
  switch (family) {
    case 'inverse-power':
      inversePowerLoopFor(k[0])(n, start, boundaryStart, pairs, pairType, positions, forces, cell, k, repulsionFor(k[0], k[1]), withEnergy, result);
      break;
    case 'soft-sphere':
      softSphereLoop(n, start, boundaryStart, pairs, pairType, positions, forces, cell, k, withEnergy, result);
      break;
    case 'generic':
      genericLoop(n, start, boundaryStart, pairs, pairType, positions, forces, cell, model, result);
      break;
  }
  return finish(sys, withEnergy, result);
}

/**
 * The force kernel on threadCount() threads: thread k takes the rows of about 1/T of the listed
 * pairs, into its own force buffer (thread 0 into sys.forces); the buffers are then added in thread
 * order, and so are the energies and virials. Returns the (energy, virial) pair.
 */
function threadedForces(kernel: 'pairForcesInversePower' | 'pairForcesSoftSphere', sys: System, cell: Float64Array, coef: Float64Array, withEnergy: boolean): Float64Array {
  const { positions, forces, neighbors: { start, boundaryStart, pairs, pairType } } = sys;
  const n = sys.species.length, T = threadCount();
  const rows = splitRows(start, n, threadBounds('forces'));
  const parts = threadBuffer('forces-result', 0, 2 * T);
  for (let t = 0; t < T; t++) {
    const a = threadArgs(t);
    a[0] = rows[t]; a[1] = rows[t + 1]; a[2] = n;
    a[3] = start.byteOffset; a[4] = boundaryStart.byteOffset; a[5] = pairs.byteOffset; a[6] = pairType.byteOffset;
    a[7] = positions.byteOffset; a[8] = (t === 0 ? forces : threadBuffer('forces', t, 3 * n)).byteOffset;
    a[9] = cell.byteOffset; a[10] = coef.byteOffset; a[11] = withEnergy ? 1 : 0; a[12] = parts.byteOffset + 16 * t;
  }
  runParallel(kernel);
  addThreadVectors('forces', forces, rows, n);
  for (let t = 1; t < T; t++) { parts[0] += parts[2 * t]; parts[1] += parts[2 * t + 1]; }
  return parts;
}

function finish(sys: System, withEnergy: boolean, r: Float64Array): number {
  sys.energy = withEnergy ? r[0] : NaN;
  sys.virial = withEnergy ? r[1] : NaN;
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
