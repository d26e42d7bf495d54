/**
 * The virial (Cauchy) stress tensor of a T = 0 configuration, in the mechanics sign convention
 * (tensile positive, so a hydrostatic state has σ = −p·I):
 *
 *   σ_αβ = (1/V)·Σ_pairs (φ′/r)·d_α·d_β ,   d = r_j − r_i
 *
 * and p = −tr(σ)/3 = −(1/(3V))·Σ r·φ′ (docs/methods.md §2). The pressure tensor is −σ.
 * Components in Voigt order xx, yy, zz, yz, xz, xy.
 */
import type { System } from '../engine/system.ts';
import { buildPairTable, type PairTable } from '../engine/pair-table.ts';
import { boxVolume } from '../space/box.ts';

/** Voigt index I → tensor indices (α, β): xx, yy, zz, yz, xz, xy. */
export const VOIGT_PAIRS: ReadonlyArray<readonly [number, number]> = [[0, 0], [1, 1], [2, 2], [1, 2], [0, 2], [0, 1]];
export const VOIGT_LABELS = ['xx', 'yy', 'zz', 'yz', 'xz', 'xy'] as const;

export function stressTensor(sys: System, pairs: PairTable = buildPairTable(sys)): number[] {
  const s = [0, 0, 0, 0, 0, 0];
  const { d, dphiOverR } = pairs;
  for (let p = 0; p < pairs.count; p++) {
    const g = dphiOverR[p], dx = d[3 * p], dy = d[3 * p + 1], dz = d[3 * p + 2];
    s[0] += g * dx * dx; s[1] += g * dy * dy; s[2] += g * dz * dz;
    s[3] += g * dy * dz; s[4] += g * dx * dz; s[5] += g * dx * dy;
  }
  const v = boxVolume(sys.box);
  return s.map((x) => x / v);
}
