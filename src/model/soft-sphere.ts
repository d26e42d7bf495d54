/**
 * Soft repulsive spheres (kernel family `soft-sphere`), the standard controls of jamming physics:
 *
 *   φ(r) = (ε/α)·(1 − r/σ_ij)^α   for r < σ_ij, else 0;   σ_ij = (σ_i + σ_j)/2
 *
 * harmonic α = 2, Hertzian α = 5/2; the 50:50 bidisperse mixture σ_S = 1, σ_L = 1.4 (so
 * σ_SS = 1, σ_SL = 1.2, σ_LL = 1.4). Pressure in ε/σ_S³. With h = 1 − r/σ:
 *   φ′ = −(ε/σ)·h^(α−1),  φ″ = (ε(α−1)/σ²)·h^(α−2),  φ‴ = −(ε(α−1)(α−2)/σ³)·h^(α−3).
 * For α = 2, φ″ is constant inside contact and φ‴ = 0; for α = 5/2, φ‴ diverges like h^(-1/2) at
 * contact (the Hertzian law's own singularity).
 */
import { cutoffArrays, KERNEL_COEFFICIENTS, type PairLaw } from './pair-law.ts';

export const SPHERE_DIAMETERS: readonly number[] = [1.0, 1.4];
/** σ_SS, σ_SL, σ_LL indexed by pair type s_i + s_j. */
export const PAIR_SIGMA: readonly number[] = [1.0, 1.2, 1.4];

export function harmonicSpheres(): PairLaw {
  return softSpheres('harmonic', 2);
}

export function hertzianSpheres(): PairLaw {
  return softSpheres('hertzian', 2.5);
}

export function softSpheres(name: string, alpha: number, epsilon = 1): PairLaw {
  if (!(alpha > 1) || !Number.isFinite(alpha)) throw new RangeError(`soft-sphere exponent α must be a finite number > 1; got ${alpha}`);
  const cut = cutoffArrays(PAIR_SIGMA);
  const coefficients = new Float64Array(KERNEL_COEFFICIENTS);
  coefficients.set([alpha, epsilon]);
  coefficients.set([...PAIR_SIGMA, ...PAIR_SIGMA.map((s) => 1 / s), ...cut.cutoff2], 6);
  const derivatives = (t: number, r2: number, out: Float64Array): void => {
    if (r2 >= cut.cutoff2[t]) {
      out[0] = out[1] = out[2] = out[3] = 0;
      return;
    }
    const sigma = PAIR_SIGMA[t];
    const h = 1 - Math.sqrt(r2) / sigma;
    const h2 = alpha === 2 ? 1 : Math.pow(h, alpha - 2); // h^(α−2); the others follow from it
    const h1 = h2 * h;
    out[0] = (epsilon / alpha) * h1 * h;
    out[1] = -(epsilon / sigma) * h1;
    out[2] = (epsilon * (alpha - 1) / (sigma * sigma)) * h2;
    out[3] = alpha === 2 ? 0 : -(epsilon * (alpha - 1) * (alpha - 2) / (sigma * sigma * sigma)) * (h2 / h);
  };
  return {
    name, parameters: { alpha }, ...cut,
    // overlaps are small fractions of σ and minimiser steps smaller still
    defaultSkin: 0.2,
    contactLaw: true,
    derivatives, kernel: { family: 'soft-sphere', coefficients },
  };
}
