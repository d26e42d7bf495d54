/**
 * Number densities (λ⁻³) per Q. Pressure is the controlled quantity (docs/methods.md §3):
 * - `zero-pressure` (default): densities at which the ensemble-mean p/K of glasses made by the
 *   default protocol is ≤ 1e-3 in magnitude, found by `qglass calibrate`; each entry records how.
 * - `paper`: the densities printed in the paper (strongly compressed glasses with this formula).
 * - an explicit number.
 */
import { ZERO_PRESSURE_TABLE } from './zero-pressure-table.ts';

export const PAPER_DENSITY: Readonly<Record<number, number>> = { 10: 0.777, 20: 0.737, 40: 0.708, 80: 0.694, 160: 0.6802, 240: 0.677 };

export interface CalibratedDensity {
  Q: number;
  density: number;
  /** System size, sample count, and the mean p/K ± standard error measured on fresh seeds. */
  N: number;
  samples: number;
  pOverK: number;
  pOverKError: number;
}

/**
 * How a sample's density was chosen. Besides the rules above: `q-model-zero-pressure`, the Q-model's
 * zero-pressure density used for a glass of another law (repulsive-q compared at equal density),
 * and `target-pressure`, a soft-sphere packing whose density follows from its target pressure.
 */
export type DensityMode = 'zero-pressure' | 'paper' | 'explicit' | 'q-model-zero-pressure' | 'target-pressure';

export interface DensityChoice {
  density: number;
  mode: DensityMode;
}

export function resolveDensity(spec: string | number, Q: number): DensityChoice & { mode: 'zero-pressure' | 'paper' | 'explicit' } {
  if (typeof spec === 'number' || /^[0-9.eE+-]+$/.test(spec)) {
    const density = Number(spec);
    if (!Number.isFinite(density) || density <= 0) throw new RangeError(`density must be a positive number (λ⁻³); got ${spec}`);
    return { density, mode: 'explicit' };
  }
  if (spec === 'paper') {
    const density = PAPER_DENSITY[Q];
    if (density === undefined) {
      throw new RangeError(`the paper printed densities only for Q = ${Object.keys(PAPER_DENSITY).join(', ')}; pass --density NUMBER for Q = ${Q}`);
    }
    return { density, mode: 'paper' };
  }
  if (spec === 'zero-pressure') {
    const entry = ZERO_PRESSURE_TABLE.find((e) => e.Q === Q);
    if (!entry) {
      throw new RangeError(
        `no zero-pressure density is tabulated for Q = ${Q}; run \`qglass calibrate --q ${Q} --n 2048\` and pass its density with --density NUMBER`,
      );
    }
    return { density: entry.density, mode: 'zero-pressure' };
  }
  throw new RangeError(`--density must be zero-pressure, paper or a number; got '${spec}'`);
}
