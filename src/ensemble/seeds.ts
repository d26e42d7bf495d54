/**
 * The planned samples of a campaign and their seeds. A sample is (Q, index); its seed derives from
 * (master seed, Q, index) alone, so it can be recomputed without the rest of the campaign.
 */
import { deriveSeed } from '../util/random.ts';
import { densityFor, type CampaignDefinition } from './campaign.ts';
import type { DensityMode } from '../model/presets.ts';

export interface PlannedSample {
  Q: number;
  index: number;
  seed: number;
  density: number;
  densityMode: DensityMode;
  /** Position in the campaign's canonical order (index-major, then Q in definition order). */
  ordinal: number;
}

export function sampleSeed(masterSeed: number, Q: number, index: number): number {
  return deriveSeed(masterSeed, Q, index);
}

/**
 * Every sample of the campaign, index-major: all Q values of index 0, then of index 1, ... so a
 * partly finished campaign (or any shard) holds comparable ensembles at every Q.
 */
export function plannedSamples(def: CampaignDefinition): PlannedSample[] {
  const out: PlannedSample[] = [];
  for (let index = 0; index < def.samples; index++) {
    for (const Q of def.Q) {
      const { density, mode } = densityFor(def, Q);
      out.push({ Q, index, seed: sampleSeed(def.seed, Q, index), density, densityMode: mode, ordinal: out.length });
    }
  }
  return out;
}

export function sampleKey(s: { Q: number; index: number }): string {
  return `${s.Q}/${s.index}`;
}
