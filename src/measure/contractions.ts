/**
 * Matrix-free contractions of the second- and third-order energy derivatives with a vector z
 * (docs/methods.md §9 and §11). Per pair
 * ⟨ij⟩: z_ij = z_j − z_i, a = n·z_ij, b² = |z_ij − a·n|², C = φ″/r − φ′/r²,
 *
 *   κ = z·H·z  = Σ [φ″·a² + (φ′/r)·b²]           (stiffness terms + force terms)
 *   τ = U‴⋮zzz = Σ [φ‴·a³ + 3C·a·b²]
 *   U‴:zz      : g = φ‴·a²·n + C·[(b² − 2a²)·n + 2a·z_ij]   added to j, subtracted from i
 *
 * and κ = k₊ + k₋ + f₊ + f₋: each pair's stiffness term φ″·a² goes to k₊ (φ″ > 0) or k₋ (φ″ < 0),
 * its force term (φ′/r)·b² to f₊ (φ′ > 0, tensile) or f₋ (φ′ < 0, compressed). These are small
 * differences of large sums, so every sum is compensated (Neumaier). H·z itself is in
 * src/measure/hessian.ts.
 *
 * The engine's pair table (src/engine/pair-table.ts: d, r², φ′/r, φ″) is extended once per
 * configuration with r and φ‴ from the system's pair law, so the repeated contractions of an
 * iterative solver are plain loops over typed arrays.
 */
import { type System } from '../engine/system.ts';
import { buildPairTable, type PairTable } from '../engine/pair-table.ts';
import { inKernelMemory, kernelArray, kernelCopy, kernelMemoryActive, kernelSet, scratchArray, scratchCopy, wasmKernels } from '../util/kernels.ts';

/** The interacting pairs with what the third-order contractions need besides φ′/r and φ″. */
export interface ContractionTable extends PairTable {
  /** Number of particles. */
  n: number;
  /** Pair distance r = |d|. */
  r: Float64Array;
  /** φ‴ per pair. */
  d3phi: Float64Array;
}

/**
 * Extend the pair table of sys (built from its refreshed neighbor list unless given) with r and φ‴.
 * The table is copied into the kernel memory when the wasm kernels are loaded: the contractions of
 * one configuration are repeated many times (an NQLE search), the copy is made once.
 */
export function buildContractionTable(sys: System, pairs: PairTable = buildPairTable(sys)): ContractionTable {
  const { model, species: sp } = sys;
  const r = kernelArray(Float64Array, pairs.count), d3phi = kernelArray(Float64Array, pairs.count);
  const der = new Float64Array(4);
  for (let p = 0; p < pairs.count; p++) {
    model.derivatives(sp[pairs.i[p]] + sp[pairs.j[p]], pairs.r2[p], der);
    r[p] = Math.sqrt(pairs.r2[p]);
    d3phi[p] = der[3];
  }
  const inKernel = kernelMemoryActive()
    ? { i: kernelCopy(Int32Array, pairs.i), j: kernelCopy(Int32Array, pairs.j), d: kernelCopy(Float64Array, pairs.d), dphiOverR: kernelCopy(Float64Array, pairs.dphiOverR), d2phi: kernelCopy(Float64Array, pairs.d2phi) }
    : {};
  return { ...pairs, ...inKernel, n: sp.length, r, d3phi };
}

export interface ModeContractions {
  /** κ = z·H·z = kPlus + kMinus + fPlus + fMinus. */
  kappa: number;
  /** τ = U‴⋮zzz. */
  tau: number;
  /** Stiffness terms φ″·a² of pairs with φ″ > 0 and φ″ < 0. */
  kPlus: number;
  kMinus: number;
  /** Force terms (φ′/r)·b² of tensile (φ′ > 0) and compressed (φ′ < 0) pairs. */
  fPlus: number;
  fMinus: number;
}

/**
 * κ, τ and the k±/f± split of κ for the vector z in one pass over the pairs; when `uzz` is given
 * (length 3N) it receives U‴:zz. All sums are compensated (Neumaier).
 */
export function modeContractions(table: ContractionTable, z: Float64Array, uzz: Float64Array | null = null): ModeContractions {
  if (z.length !== 3 * table.n) throw new RangeError(`vector has length ${z.length}, expected 3N = ${3 * table.n}`);
  if (uzz !== null) {
    if (uzz.length !== z.length) throw new RangeError(`U‴:zz output has length ${uzz.length}, expected ${z.length}`);
    uzz.fill(0);
  }
  const { count, i: pi, j: pj, d, r, dphiOverR, d2phi, d3phi } = table;
  if (kernelSet() === 'wasm' && inKernelMemory(pi) && inKernelMemory(d3phi)) {
    const zs = inKernelMemory(z) ? z : scratchCopy('contractions z', z);
    const us = uzz === null ? null : inKernelMemory(uzz) ? uzz : scratchCopy('contractions uzz', uzz);
    const out = scratchArray('contractions sums', 10);
    wasmKernels().modeContractions(
      count, pi.byteOffset, pj.byteOffset, d.byteOffset, r.byteOffset, dphiOverR.byteOffset, d2phi.byteOffset, d3phi.byteOffset,
      zs.byteOffset, us === null ? 0 : us.byteOffset, out.byteOffset,
    );
    if (uzz !== null && us !== uzz) uzz.set(us!);
    return fromSums(out[0], out[1], out[2], out[3], out[4], out[5], out[6], out[7], out[8], out[9]);
  }
  // Neumaier sums: value and compensation for k₊, k₋, f₊, f₋, τ
  let kp = 0, kpc = 0, km = 0, kmc = 0, fp = 0, fpc = 0, fm = 0, fmc = 0, ta = 0, tac = 0;
  for (let p = 0; p < count; p++) {
    const i3 = 3 * pi[p], j3 = 3 * pj[p];
    const rr = r[p], inv = 1 / rr;
    const nx = d[3 * p] * inv, ny = d[3 * p + 1] * inv, nz = d[3 * p + 2] * inv;
    const zx = z[j3] - z[i3], zy = z[j3 + 1] - z[i3 + 1], zz = z[j3 + 2] - z[i3 + 2];
    const a = nx * zx + ny * zy + nz * zz;
    const px = zx - a * nx, py = zy - a * ny, pz = zz - a * nz;
    const b2 = px * px + py * py + pz * pz;
    const g1 = dphiOverR[p], phi2 = d2phi[p], phi3 = d3phi[p];
    const a2 = a * a;

    const s = phi2 * a2;
    if (phi2 >= 0) { const t = kp + s; kpc += Math.abs(kp) >= Math.abs(s) ? (kp - t) + s : (s - t) + kp; kp = t; }
    else { const t = km + s; kmc += Math.abs(km) >= Math.abs(s) ? (km - t) + s : (s - t) + km; km = t; }
    const f = g1 * b2;
    if (g1 >= 0) { const t = fp + f; fpc += Math.abs(fp) >= Math.abs(f) ? (fp - t) + f : (f - t) + fp; fp = t; }
    else { const t = fm + f; fmc += Math.abs(fm) >= Math.abs(f) ? (fm - t) + f : (f - t) + fm; fm = t; }

    const C = (phi2 - g1) * inv;
    const c3 = phi3 * a2 * a + 3 * C * a * b2;
    { const t = ta + c3; tac += Math.abs(ta) >= Math.abs(c3) ? (ta - t) + c3 : (c3 - t) + ta; ta = t; }

    if (uzz !== null) {
      const cn = phi3 * a2 + C * (b2 - 2 * a2), cz = 2 * C * a;
      const gx = cn * nx + cz * zx, gy = cn * ny + cz * zy, gz = cn * nz + cz * zz;
      uzz[j3] += gx; uzz[j3 + 1] += gy; uzz[j3 + 2] += gz;
      uzz[i3] -= gx; uzz[i3 + 1] -= gy; uzz[i3 + 2] -= gz;
    }
  }
  return fromSums(kp, kpc, km, kmc, fp, fpc, fm, fmc, ta, tac);
}

/** The contractions from the Neumaier sums (value, compensation) of k₊, k₋, f₊, f₋ and τ. */
function fromSums(kp: number, kpc: number, km: number, kmc: number, fp: number, fpc: number, fm: number, fmc: number, ta: number, tac: number): ModeContractions {
  const kPlus = kp + kpc, kMinus = km + kmc, fPlus = fp + fpc, fMinus = fm + fmc;
  return { kappa: compensatedSum([kp, kpc, km, kmc, fp, fpc, fm, fmc]), tau: ta + tac, kPlus, kMinus, fPlus, fMinus };
}

/** Neumaier-compensated sum of a short list. */
function compensatedSum(values: readonly number[]): number {
  let s = 0, c = 0;
  for (const v of values) {
    const t = s + v;
    c += Math.abs(s) >= Math.abs(v) ? (s - t) + v : (v - t) + s;
    s = t;
  }
  return s + c;
}

/** The k±/f± decomposition (and τ) of a mode z of a system, tabulating its pairs first. */
export function decomposeMode(sys: System, z: Float64Array): ModeContractions {
  return modeContractions(buildContractionTable(sys), z);
}
