/**
 * Checking a campaign's artefacts against what the catalogs recorded, for the commands that read a
 * campaign (report, export): the size of every finished sample's files always, their SHA-256 too
 * with --verify full. A damaged sample is named, never silently used.
 */
import { resolve } from 'node:path';
import { controlAxis, pointLabel, readCampaign } from './campaign.ts';
import { Catalog } from './catalog.ts';
import { unitedSamples } from './merge.ts';
import { checkArtefact } from './runner.ts';
import { sampleKey } from './seeds.ts';

export type ArtefactVerify = 'size' | 'full';

export interface DamagedSample {
  /** The point's control value, and the point as people read it (Q=10, p=0.001). */
  Q: number;
  point: string;
  index: number;
  reason: string;
}

export function damagedSamples(dirArg: string, verify: ArtefactVerify): DamagedSample[] {
  const dir = resolve(dirArg);
  const def = readCampaign(dir);
  const done = unitedSamples(dir, def).filter((u) => u.sample.status === 'done' && u.catalog !== null);
  const out: DamagedSample[] = [];
  for (const file of new Set(done.map((u) => u.catalog!))) {
    const cat = Catalog.openReadonly(file, 'none')!;
    try {
      const artefacts = cat.allArtefacts();
      for (const u of done.filter((x) => x.catalog === file)) {
        for (const a of artefacts.get(sampleKey(u.sample)) ?? []) {
          const reason = checkArtefact(dir, a, verify === 'full' ? 'checksum' : 'size');
          if (reason) {
            out.push({ Q: u.sample.Q, point: pointLabel(controlAxis(def), u.sample.Q), index: u.sample.index, reason });
            break;
          }
        }
      }
    } finally {
      cat.close();
    }
  }
  return out.sort((a, b) => a.index - b.index || a.Q - b.Q);
}

export function damageWarning(d: DamagedSample): string {
  return `sample ${d.point} #${d.index} is damaged: ${d.reason} (\`qglass campaign run\` recomputes it)`;
}

export function parseArtefactVerify(text: string): ArtefactVerify {
  if (text !== 'size' && text !== 'full') throw new RangeError(`--verify must be size or full; got '${text}'`);
  return text;
}
