/**
 * Mechanical disorder χ = sqrt(N)·std(G)/mean(G) over the samples of one ensemble
 * (docs/methods.md §12), in its two conventions:
 *  - pooledPlanes: the single-plane shear moduli μ_xy, μ_xz, μ_yz of every sample pooled (3M values);
 *  - planeAverage: one value per sample, the mean of its three plane moduli (M values).
 * Averaging three partly independent planes narrows the distribution, so planeAverage is smaller,
 * by up to √3. The bootstrap resamples samples (all three planes of a sample together), because the
 * planes of one sample are correlated. The figures use pooledPlanes (`CHI_FIGURE_CONVENTION`).
 */
import { bootstrapMany, mean, std, type BootstrapOptions, type Estimate } from './statistics.ts';

export type ChiConvention = 'pooledPlanes' | 'planeAverage';
export const CHI_FIGURE_CONVENTION: ChiConvention = 'pooledPlanes';

/** χ of a list of moduli measured on systems of N particles. */
export function chi(N: number, moduli: ArrayLike<number>): number {
  return (Math.sqrt(N) * std(moduli)) / mean(moduli);
}

export interface PlaneModuli {
  xy: number;
  xz: number;
  yz: number;
}

export interface DisorderSummary {
  pooledPlanes: Estimate;
  planeAverage: Estimate;
  figureConvention: ChiConvention;
}

/** Both χ conventions of one ensemble (fixed N) with bootstrap errors over samples. */
export function analyzeDisorder(N: number, shear: PlaneModuli[], options: BootstrapOptions = {}): DisorderSummary {
  const statistic = (idx: Int32Array): number[] => {
    const pooled = new Float64Array(3 * idx.length);
    const averaged = new Float64Array(idx.length);
    for (let k = 0; k < idx.length; k++) {
      const s = shear[idx[k]];
      pooled[3 * k] = s.xy;
      pooled[3 * k + 1] = s.xz;
      pooled[3 * k + 2] = s.yz;
      averaged[k] = (s.xy + s.xz + s.yz) / 3;
    }
    return [chi(N, pooled), chi(N, averaged)];
  };
  const [pooledPlanes, planeAverage] = bootstrapMany(shear.length, statistic, options);
  return { pooledPlanes, planeAverage, figureConvention: CHI_FIGURE_CONVENTION };
}
