/**
 * The planned samples of a campaign and their seeds. A sample is (point, index); its seed derives
 * from (master seed, point, index) alone, so it can be recomputed without the rest of the campaign.
 */
import { deriveSeed } from '../util/random.ts';
import { controlAxis, controlValues, densityFor, type CampaignDefinition, type ControlAxis } from './campaign.ts';
import type { DensityMode } from '../model/presets.ts';

export interface PlannedSample {
  /** The point's control value: Q, or the target pressure of a soft-sphere campaign (the catalog's q column). */
  Q: number;
  index: number;
  seed: number;
  density: number;
  densityMode: DensityMode;
  /** Position in the campaign's canonical order (index-major, then points in definition order). */
  ordinal: number;
}

/**
 * A sample's seed. Pressures enter by their logarithm (to 1e-3): deriveSeed rounds its parts to
 * thousandths, which would give every pressure below 5e-4 the same seed; the extra part keeps
 * pressure seeds apart from Q seeds.
 */
export function sampleSeed(masterSeed: number, Q: number, index: number, axis: ControlAxis = 'Q'): number {
  return axis === 'Q' ? deriveSeed(masterSeed, Q, index) : deriveSeed(masterSeed, -1, Math.log10(Q), index);
}

/**
 * Every sample of the campaign, index-major: all points of index 0, then of index 1, ... so a
 * partly finished campaign (or any shard) holds comparable ensembles at every point.
 */
export function plannedSamples(def: CampaignDefinition): PlannedSample[] {
  const out: PlannedSample[] = [];
  const axis = controlAxis(def);
  for (let index = 0; index < def.samples; index++) {
    for (const Q of controlValues(def)) {
      const { density, mode } = densityFor(def, Q);
      out.push({ Q, index, seed: sampleSeed(def.seed, Q, index, axis), density, densityMode: mode, ordinal: out.length });
    }
  }
  return out;
}

export function sampleKey(s: { Q: number; index: number }): string {
  return `${s.Q}/${s.index}`;
}
