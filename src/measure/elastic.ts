/**
 * Athermal elastic moduli with non-affine relaxation (docs/methods.md §5).
 *
 * A homogeneous deformation x → (I + η·E)·x of box and particles (E a 3×3 displacement gradient)
 * followed by relaxation changes the virial stress σ (src/measure/stress.ts, tensile positive) by
 *
 *   dσ_αβ/dη = (1/V)·[A_αβ(E) − Ξ_αβ·H⁺·Ξ(E)] − σ_αβ·tr(E)
 *
 *   A_αβ(E) = Σ_pairs (φ″ − φ′/r)·d_α d_β (d·E·d)/r² + (φ′/r)·[(E·d)_α d_β + (E·d)_β d_α]   (affine)
 *   Ξ(E)    = ∂²U/∂x∂η, per pair (φ″ − φ′/r)·(d·E·d)/r²·d + (φ′/r)·E·d = M·E·d (M the pair stiffness
 *             block of src/measure/hessian.ts), added to j, subtracted from i
 *
 * The last term is the change of 1/V. Ξ_αβ is Ξ of the symmetric strain of plane αβ (at a minimum
 * it is also ∂σ_αβ·V/∂x; the two differ by terms proportional to the net forces, which vanish at
 * mechanical equilibrium — also why the per-pair forms of Ξ in docs/methods.md §5, which differ from
 * these by such terms, give the same vectors there). Ξ is linear in E, so six solves H·u_J = Ξ_J (one per
 * symmetric strain) give the response to every homogeneous strain.
 *
 * Convention of the 6×6 tensor (`voigt`): stress–strain coefficients B_IJ = dσ_I/dε_J, the
 * derivative of the true (Cauchy, virial) stress of the relaxed solid with respect to the symmetric
 * small strain ε (no rotation), Voigt order xx, yy, zz, yz, xz, xy, engineering shear strains
 * (ε_4 = 2ε_yz, …). All pre-stress terms are included, because B is the derivative of the actual
 * stress: for an isotropic state at pressure p, B_ijkl = C_ijkl − p·(δ_ik δ_jl + δ_il δ_jk − δ_ij δ_kl)
 * with C the energy-expansion tensor in Lagrangian strain, i.e. B11 = C11 − p, B12 = C12 + p,
 * B44 = C44 − p (C itself is not the stress–strain tensor at p ≠ 0). With a
 * non-hydrostatic residual stress B need not be exactly symmetric; combinations below use
 * (B_IJ + B_JI)/2.
 *
 * Reported moduli:
 * - K ≡ −V·dp/dV from uniform dilation: K = (1/(9V))·[Σ φ″·r² − Ξ_η·H⁺·Ξ_η] + (2/3)·p; it equals
 *   (B11+B22+B33 + 2(B12+B13+B23))/9 of the tensor.
 * - μ_αβ = dσ_αβ/dγ for the simple shear x_α → x_α + γ·x_β (α < β), relaxation included; it
 *   differs from B of plane αβ by the rotation of the residual stress, (σ_ββ − σ_αα)/2.
 * - G = (μ_xy + μ_xz + μ_yz)/3 (used for ν); Gvoigt = the Voigt isotropic average of the tensor,
 *   [(B11+B22+B33) − (B12+B13+B23) + 3(B44+B55+B66)]/15.
 * - ν = (3K − 2G)/(2(3K + G)), G/K, p = −tr(σ)/3, p/K.
 */
import type { PairTable } from '../engine/pair-table.ts';
import { minimize } from '../engine/minimize.ts';
import { cloneSystem } from '../engine/prepare.ts';
import type { System } from '../engine/system.ts';
import { DEFAULT_CG_TOL, solveCgMany, type CgResult } from '../linalg/cg.ts';
import { hessianBlockCount } from '../linalg/hessian.ts';
import { dot } from '../linalg/vectors.ts';
import { boxVolume, deform } from '../space/box.ts';
import { harmonicOf, type Harmonic } from './harmonic.ts';
import { pairStiffnessBlock } from './hessian.ts';
import { stressTensor, VOIGT_PAIRS } from './stress.ts';

export interface ElasticOptions {
  /** Relative residual of the CG solves (default 1e-10). */
  tol?: number;
  /** Iteration limit per CG solve (default: solveCg's). */
  maxIterations?: number;
  /** Compute moduli even if the configuration is not at a minimum (default false). */
  allowUnrelaxed?: boolean;
  /** Largest accepted max|F| as a fraction of the rms pair force |φ′| (default 1e-6). */
  forceTolerance?: number;
  /** Called once the six solves (run together) are done. */
  onProgress?: (solvesDone: number, solves: number) => void;
  /** Pair table and Hessian of sys when the caller has them already (built here otherwise). */
  harmonic?: Harmonic;
}

export const DEFAULT_FORCE_TOLERANCE = 1e-6;

export interface ElasticResult {
  N: number;
  volume: number;
  density: number;
  /** Bulk modulus −V·dp/dV (relaxed). */
  K: number;
  /** Mean of the three simple-shear moduli. */
  G: number;
  /** Voigt isotropic average of the tensor's shear response. */
  Gvoigt: number;
  /** Poisson's ratio from K and G; nuVoigt from K and Gvoigt. */
  nu: number;
  nuVoigt: number;
  GOverK: number;
  pressure: number;
  pOverK: number;
  /** μ_αβ = dσ_αβ/dγ of the simple shears x_α += γ·x_β. */
  shear: { xy: number; xz: number; yz: number };
  /** B_IJ = dσ_I/dε_J, Voigt order xx, yy, zz, yz, xz, xy (see the module comment). */
  voigt: number[][];
  /** Virial stress σ, Voigt order (tensile positive). */
  stress: number[];
  /** (1/V)·A_I per displacement-gradient component (6 × 9, row-major E index 3α+β). */
  affine: number[][];
  /** (1/V)·Ξ_I·H⁺·Ξ_J (6 × 6, symmetrised). */
  nonaffine: number[][];
  converged: boolean;
  /** Total CG iterations over the six solves, and each solve's record. */
  cgIterations: number;
  cgSolves: Array<{ iterations: number; residual: number; reason: CgResult['reason'] }>;
  cgTolerance: number;
  maxForce: number;
  /** rms |φ′| over interacting pairs: the scale max|F| is judged against. */
  typicalPairForce: number;
  hessianBlocks: number;
  /** Seconds: pair table + Hessian assembly, the six solves, everything. */
  timings: { hessian: number; solves: number; total: number };
}

export class UnrelaxedConfigurationError extends Error {}

/** dσ/dη (Voigt order) of the relaxed solid for a homogeneous displacement gradient E (9 numbers, row-major). */
export function stressResponse(r: Pick<ElasticResult, 'stress' | 'affine' | 'nonaffine'>, E: ArrayLike<number>): number[] {
  const trace = E[0] + E[4] + E[8];
  const eps = [E[0], E[4], E[8], E[5] + E[7], E[2] + E[6], E[1] + E[3]];
  const out: number[] = [];
  for (let I = 0; I < 6; I++) {
    let s = -r.stress[I] * trace;
    for (let k = 0; k < 9; k++) s += r.affine[I][k] * E[k];
    for (let J = 0; J < 6; J++) s -= r.nonaffine[I][J] * eps[J];
    out.push(s);
  }
  return out;
}

/** Unit simple shear x_α += γ·x_β as a displacement gradient. */
export function simpleShear(alpha: number, beta: number): number[] {
  const E = new Array<number>(9).fill(0);
  E[3 * alpha + beta] = 1;
  return E;
}

/** Unit Voigt strain J (engineering shear: ε_αβ = ε_βα = 1/2). */
export function voigtStrain(J: number): number[] {
  const [a, b] = VOIGT_PAIRS[J];
  const E = new Array<number>(9).fill(0);
  if (a === b) E[4 * a] = 1;
  else E[3 * a + b] = E[3 * b + a] = 0.5;
  return E;
}

/**
 * Ξ(E) = ∂²U/∂x∂η for the displacement gradient E (= −dF/dη under affine deformation), exact also
 * away from a minimum; written into out (3N).
 */
export function strainForceDerivative(pairs: PairTable, E: ArrayLike<number>, out: Float64Array): void {
  out.fill(0);
  const { i: pi, j: pj, d } = pairs;
  const m = blockScratch;
  const e0 = E[0], e1 = E[1], e2 = E[2], e3 = E[3], e4 = E[4], e5 = E[5], e6 = E[6], e7 = E[7], e8 = E[8];
  for (let p = 0; p < pairs.count; p++) {
    const dx = d[3 * p], dy = d[3 * p + 1], dz = d[3 * p + 2];
    const ex = e0 * dx + e1 * dy + e2 * dz, ey = e3 * dx + e4 * dy + e5 * dz, ez = e6 * dx + e7 * dy + e8 * dz;
    // Ξ per pair is the pair stiffness block applied to E·d
    pairStiffnessBlock(pairs, p, m, 0);
    const vx = m[0] * ex + m[1] * ey + m[2] * ez, vy = m[3] * ex + m[4] * ey + m[5] * ez, vz = m[6] * ex + m[7] * ey + m[8] * ez;
    const i = 3 * pi[p], j = 3 * pj[p];
    out[j] += vx; out[j + 1] += vy; out[j + 2] += vz;
    out[i] -= vx; out[i + 1] -= vy; out[i + 2] -= vz;
  }
}
const blockScratch = new Float64Array(9);

/** Affine term A_I(E) per unit E component: 6 × 9 (divided by V by the caller). */
function affineTerms(pairs: PairTable): Float64Array {
  const A = new Float64Array(54);
  const D = new Float64Array(9);
  const { d, r2, dphiOverR, d2phi } = pairs;
  for (let p = 0; p < pairs.count; p++) {
    const g = dphiOverR[p];
    const c = (d2phi[p] - g) / r2[p];
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) D[3 * a + b] = d[3 * p + a] * d[3 * p + b];
    for (let I = 0; I < 6; I++) {
      const al = VOIGT_PAIRS[I][0], be = VOIGT_PAIRS[I][1];
      const cq = c * D[3 * al + be];
      for (let k = 0; k < 9; k++) A[9 * I + k] += cq * D[k];
      // (E·d)_α d_β + (E·d)_β d_α: E_αδ·d_δ·d_β + E_βδ·d_δ·d_α
      for (let de = 0; de < 3; de++) {
        A[9 * I + 3 * al + de] += g * D[3 * de + be];
        A[9 * I + 3 * be + de] += g * D[3 * de + al];
      }
    }
  }
  return A;
}

/**
 * Moduli of the configuration sys as it stands (positions are not changed; its forces, energy and
 * neighbor list are refreshed). Throws UnrelaxedConfigurationError if max|F| is above
 * forceTolerance × the rms pair force, unless allowUnrelaxed. Unconverged CG solves are reported
 * through `converged` and `cgSolves`, never hidden.
 */
export function measureElastic(sys: System, opts: ElasticOptions = {}): ElasticResult {
  const tol = opts.tol ?? DEFAULT_CG_TOL;
  const forceTolerance = opts.forceTolerance ?? DEFAULT_FORCE_TOLERANCE;
  const clock = () => performance.now() / 1000;
  const t0 = clock();
  const n = sys.species.length;
  const V = boxVolume(sys.box);

  const shared = opts.harmonic ?? harmonicOf(sys);
  const { pairs, hessian: H, maxForce } = shared;
  let f2 = 0;
  for (let p = 0; p < pairs.count; p++) f2 += pairs.dphiOverR[p] ** 2 * pairs.r2[p];
  const typicalPairForce = Math.sqrt(f2 / Math.max(1, pairs.count));
  if (!opts.allowUnrelaxed && !(maxForce <= forceTolerance * typicalPairForce)) {
    throw new UnrelaxedConfigurationError(
      `configuration is not at an energy minimum: max |F| = ${maxForce.toExponential(3)} is ` +
      `${(maxForce / typicalPairForce).toExponential(2)} of the rms pair force ${typicalPairForce.toExponential(3)} ` +
      `(accepted: ${forceTolerance.toExponential(1)}). Linear-response moduli assume mechanical equilibrium; ` +
      `minimise the configuration first (max |F| ≲ 1e-10), or set allowUnrelaxed to compute them anyway.`,
    );
  }
  const t1 = clock();

  const stress = stressTensor(sys, pairs);
  const A = affineTerms(pairs);
  let bornDilation = 0;
  for (let p = 0; p < pairs.count; p++) bornDilation += pairs.d2phi[p] * pairs.r2[p];

  // the six solves in lockstep: one pass over the stored Hessian per round serves all of them
  const xi: Float64Array[] = [];
  for (let J = 0; J < 6; J++) {
    const b = new Float64Array(3 * n);
    strainForceDerivative(pairs, voigtStrain(J), b);
    xi.push(b);
  }
  const solved = solveCgMany(shared.operator, xi, { tol, maxIterations: opts.maxIterations, preconditioner: shared.preconditioner });
  const u = solved.map((res) => res.x);
  const cgSolves: ElasticResult['cgSolves'] = solved.map((res) => ({ iterations: res.iterations, residual: res.residual, reason: res.reason }));
  opts.onProgress?.(6, 6);
  const t2 = clock();

  const nonaffine: number[][] = [];
  for (let I = 0; I < 6; I++) {
    nonaffine.push([]);
    for (let J = 0; J < 6; J++) nonaffine[I].push((dot(xi[I], u[J]) + dot(xi[J], u[I])) / (2 * V));
  }
  const affine: number[][] = [];
  for (let I = 0; I < 6; I++) affine.push(Array.from(A.subarray(9 * I, 9 * I + 9), (x) => x / V));
  const parts = { stress, affine, nonaffine };

  const voigt: number[][] = Array.from({ length: 6 }, () => new Array<number>(6).fill(0));
  for (let J = 0; J < 6; J++) {
    const col = stressResponse(parts, voigtStrain(J));
    for (let I = 0; I < 6; I++) voigt[I][J] = col[I];
  }
  const shear = {
    xy: stressResponse(parts, simpleShear(0, 1))[5],
    xz: stressResponse(parts, simpleShear(0, 2))[4],
    yz: stressResponse(parts, simpleShear(1, 2))[3],
  };
  const pressure = -(stress[0] + stress[1] + stress[2]) / 3;
  // Dilation: Ξ_η = Ξ_xx + Ξ_yy + Ξ_zz, so Ξ_η·H⁺·Ξ_η is the sum of the normal-strain block.
  let nonaffineDilation = 0;
  for (let I = 0; I < 3; I++) for (let J = 0; J < 3; J++) nonaffineDilation += nonaffine[I][J];
  const K = (bornDilation / V - nonaffineDilation) / 9 + (2 / 3) * pressure;
  const G = (shear.xy + shear.xz + shear.yz) / 3;
  const sym = (I: number, J: number) => 0.5 * (voigt[I][J] + voigt[J][I]);
  const Gvoigt = (voigt[0][0] + voigt[1][1] + voigt[2][2] - (sym(0, 1) + sym(0, 2) + sym(1, 2)) + 3 * (voigt[3][3] + voigt[4][4] + voigt[5][5])) / 15;
  const poisson = (g: number) => (3 * K - 2 * g) / (2 * (3 * K + g));
  const t3 = clock();
  return {
    N: n, volume: V, density: n / V,
    K, G, Gvoigt, nu: poisson(G), nuVoigt: poisson(Gvoigt), GOverK: G / K, pressure, pOverK: pressure / K,
    shear, voigt, stress, affine, nonaffine,
    converged: cgSolves.every((s) => s.reason === 'converged'),
    cgIterations: cgSolves.reduce((s, c) => s + c.iterations, 0),
    cgSolves, cgTolerance: tol, maxForce, typicalPairForce, hessianBlocks: hessianBlockCount(H),
    timings: { hessian: t1 - t0, solves: t2 - t1, total: t3 - t0 },
  };
}

/**
 * The reference route: dσ/dη by finite deformation. Strain a copy of the box and particles by
 * ±delta·E (E upper triangular, as the cell stays upper triangular), re-minimise each to max|F| <
 * ftol, and take the central difference of the virial stress. sys is left unchanged. Check that
 * the result does not depend on delta (small enough to avoid plastic events, large enough for the
 * minimisation error not to dominate).
 */
export function finiteStrainStressResponse(sys: System, E: ArrayLike<number>, opts: { delta?: number; ftol?: number } = {}): number[] {
  const delta = opts.delta ?? 1e-5;
  const ftol = opts.ftol ?? 1e-12;
  const sigma: number[][] = [];
  for (const sign of [1, -1]) {
    const copy = cloneSystem(sys);
    const e = Array.from(E, (x) => sign * delta * x);
    const strained = deform(copy.box, copy.positions, e);
    copy.box = strained.box;
    copy.positions.set(strained.pos);
    const r = minimize(copy, { ftol });
    if (!r.converged) throw new Error(`re-minimisation after a strain of ${sign * delta} did not converge (max |F| = ${r.maxForce}, ${r.reason})`);
    sigma.push(stressTensor(copy));
  }
  return sigma[0].map((s, I) => (s - sigma[1][I]) / (2 * delta));
}
