/**
 * Low-frequency vibrational modes (docs/methods.md §7): the lowest
 * eigenpairs ω², ψ of the Hessian H (unit masses) above the three rigid translations, each with
 * its participation ratio, and the sound-speed scales the spectrum is read against.
 *
 * The eigensolver is thick-restart Lanczos on the sparse Hessian (src/linalg/lanczos.ts), in the
 * space orthogonal to the uniform translations (projected out of every Krylov vector, so they can
 * never be returned). Each pair is checked explicitly: residual ‖Hψ − ω²ψ‖ and a converged flag
 * (residual ≤ tol·‖H‖, ‖H‖ estimated by the largest Ritz value).
 *
 *   participation  e = (Σ_i |ψ_i|²)² / (N·Σ_i |ψ_i|⁴)     (ψ_i the 3-vector of particle i)
 *   c_s = sqrt(G/ρ),  a₀ = (V/N)^(1/3),  ω₀ = c_s/a₀,  ω₁ = 2π·c_s/L   (m = 1, L = V^(1/3))
 *
 * A real plane wave (sine or cosine) has e = 2/3, a displacement of one particle e = 1/N;
 * quasilocalized modes have e ≪ 1. ω₁ is the lowest transverse plane-wave band of a cubic box of
 * side L.
 */
import type { System } from '../engine/system.ts';
import { LANCZOS_DEFAULTS, lanczosSmallest, type LanczosOptions } from '../linalg/lanczos.ts';
import { projectOutTranslations } from '../linalg/vectors.ts';
import { boxVolume } from '../space/box.ts';
import { harmonicOf, type Harmonic } from './harmonic.ts';

export interface ModesOptions {
  /** Number of lowest non-zero modes (default 20). */
  count?: number;
  /** Convergence: ‖Hψ − ω²ψ‖ ≤ tol·‖H‖ (default 1e-10). */
  tol?: number;
  /** Initial Lanczos block size (default 1); grown automatically when exactly degenerate eigenvalues show up (crystals). */
  blockSize?: number;
  /** Eigensolver settings beyond these (basis size, restart, seed, matvec budget). */
  lanczos?: Partial<Omit<LanczosOptions, 'count' | 'tol' | 'blockSize' | 'project'>>;
  /** Pair table and Hessian of sys when the caller has them already (built here otherwise). */
  harmonic?: Harmonic;
}

export const DEFAULT_MODE_COUNT = 20;

export interface ModesResult {
  N: number;
  count: number;
  /** Eigenvalues ω² ascending (ε/(m·λ²) units). */
  omega2: number[];
  /** ω = sqrt(ω²); a negative ω² (the configuration is not at a minimum) gives ω = −sqrt(−ω²). */
  omega: number[];
  participation: number[];
  /** ‖Hψ − ω²ψ‖ per mode (unit ψ). */
  residual: number[];
  pairConverged: boolean[];
  /** Every mode's residual is within `tolerance`, and no degenerate ω² can be missing copies. */
  converged: boolean;
  /** The absolute residual bound: tol·‖H‖. */
  tolerance: number;
  tol: number;
  /** ‖H‖ estimate (largest Ritz value). */
  hessianNorm: number;
  /** Hessian–vector products and Lanczos steps. */
  matvecs: number;
  iterations: number;
  restarts: number;
  /** Final block size, eigensolver runs (more than one when exact degeneracies made the block grow), most copies of one ω². */
  blockSize: number;
  runs: number;
  largestMultiplicity: number;
  /** Largest force component at the configuration (modes of a non-minimum are not harmonic modes). */
  maxForce: number;
  /** count × 3N, row r the unit eigenvector of omega2[r] (particle-major x, y, z). */
  vectors: Float64Array;
  /** Seconds: Hessian assembly, eigensolver, everything. */
  timings: { hessian: number; eigensolver: number; total: number };
}

export function measureModes(sys: System, opts: ModesOptions = {}): ModesResult {
  const count = opts.count ?? DEFAULT_MODE_COUNT;
  const tol = opts.tol ?? LANCZOS_DEFAULTS.tol;
  const blockSize = opts.blockSize ?? LANCZOS_DEFAULTS.blockSize;
  const n = sys.species.length;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be a positive integer; got ${count}`);
  if (count > 3 * n - 3) throw new RangeError(`count ${count} exceeds the ${3 * n - 3} non-translational modes of N = ${n} particles`);
  const clock = () => performance.now() / 1000;
  const t0 = clock();
  const { operator, maxForce } = opts.harmonic ?? harmonicOf(sys);
  const t1 = clock();
  const r = lanczosSmallest(operator, { ...opts.lanczos, count, tol, blockSize, project: projectOutTranslations });
  const t2 = clock();
  const omega2 = Array.from(r.values);
  const participation: number[] = [];
  for (let k = 0; k < count; k++) participation.push(participationRatio(r.vectors, 3 * n * k, 3 * n));
  return {
    N: n, count, omega2, omega: omega2.map(signedSqrt), participation, residual: Array.from(r.residuals),
    pairConverged: r.pairConverged, converged: r.converged, tolerance: r.tolerance, tol, hessianNorm: r.normEstimate,
    matvecs: r.matvecs, iterations: r.iterations, restarts: r.restarts,
    blockSize: r.blockSize, runs: r.runs, largestMultiplicity: r.largestMultiplicity, maxForce,
    vectors: r.vectors, timings: { hessian: t1 - t0, eigensolver: t2 - t1, total: t2 - t0 },
  };
}

function signedSqrt(x: number): number {
  return x >= 0 ? Math.sqrt(x) : -Math.sqrt(-x);
}

/** e = (Σ_i |ψ_i|²)² / (N·Σ_i |ψ_i|⁴) of the 3N-vector psi[offset .. offset + length). */
export function participationRatio(psi: Float64Array, offset = 0, length = psi.length - offset): number {
  if (length % 3 !== 0 || length === 0) throw new RangeError(`a mode has 3 components per particle; got length ${length}`);
  let s2 = 0, s4 = 0;
  for (let i = offset; i < offset + length; i += 3) {
    const a = psi[i] * psi[i] + psi[i + 1] * psi[i + 1] + psi[i + 2] * psi[i + 2];
    s2 += a;
    s4 += a * a;
  }
  return (s2 * s2) / ((length / 3) * s4);
}

export interface SoundScales {
  /** Shear modulus used (ε/λ³). */
  G: number;
  /** Number density N/V. */
  density: number;
  /** Shear-wave speed sqrt(G/ρ) (m = 1). */
  cs: number;
  /** (V/N)^(1/3). */
  a0: number;
  /** c_s/a₀. */
  omega0: number;
  /** Box side V^(1/3) (the box of a prepared glass is cubic). */
  L: number;
  /** 2π·c_s/L: the lowest transverse plane-wave frequency of the box. */
  omega1: number;
}

/** c_s, a₀, ω₀ and ω₁ of a sample from its shear modulus G (e.g. measureElastic(sys).G). */
export function soundScales(G: number, sys: Pick<System, 'box' | 'species'>): SoundScales {
  if (!(G > 0)) throw new RangeError(`the shear modulus must be positive to define a sound speed; got ${G}`);
  const V = boxVolume(sys.box);
  const n = sys.species.length;
  const density = n / V;
  const cs = Math.sqrt(G / density);
  const a0 = Math.cbrt(V / n);
  const L = Math.cbrt(V);
  return { G, density, cs, a0, omega0: cs / a0, L, omega1: (2 * Math.PI * cs) / L };
}
