/**
 * Uniting catalogs. Each shard writes catalog.shard-i-of-n.sqlite; `merge` copies their samples
 * into catalog.sqlite, keeping per sample the most advanced record (done > failed > running >
 * pending, then the later finish), so merging is idempotent and may be repeated as shards progress.
 * Readers (status, export) apply the same rule on the fly, so they see every catalog in the
 * directory whether merged or not.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { definitionHash, readCampaign, type CampaignDefinition } from './campaign.ts';
import { Catalog, preferredSample, type CatalogSample, type SampleContent } from './catalog.ts';
import { acquireLock, staleReason } from './lock.ts';
import { plannedSamples, sampleKey } from './seeds.ts';
import { catalogFileName, SHARD_CATALOG_PATTERN } from './shard.ts';

/** Catalog files of the campaign: the main one first (if present), then shards in name order. */
export function catalogFiles(dir: string): string[] {
  const main = join(dir, catalogFileName(null));
  const shards = readdirSync(dir).filter((f) => SHARD_CATALOG_PATTERN.test(f)).sort().map((f) => join(dir, f));
  return [...(existsSync(main) ? [main] : []), ...shards];
}

/** Open a catalog for reading and check that it belongs to this definition. */
function openChecked(path: string, hash: string): Catalog {
  const cat = Catalog.openReadonly(path)!;
  const known = cat.meta('definition');
  if (known !== null && known !== hash) {
    cat.close();
    throw new RangeError(`${path} belongs to a different campaign definition than ${resolve(path, '..')}/campaign.json; move it out of the campaign directory`);
  }
  return cat;
}

export interface UnitedSample {
  sample: CatalogSample;
  /** The catalog file holding the chosen record (null: planned, in no catalog yet). */
  catalog: string | null;
}

/** Whether a live run holds the catalog's lock. */
export function catalogInUse(file: string): boolean {
  const lock = `${file}.lock`;
  return existsSync(lock) && staleReason(lock) === null;
}

/**
 * Every planned sample with its most advanced record over all catalogs of the directory, in
 * canonical order (pending, from no catalog, if none has it). A sample still marked 'running' in a
 * catalog no live run holds was interrupted: it is reported as pending, as the next run will treat it.
 */
export function unitedSamples(dir: string, def: CampaignDefinition): UnitedSample[] {
  const hash = definitionHash(def);
  const best = new Map<string, UnitedSample>();
  for (const file of catalogFiles(dir)) {
    const cat = openChecked(file, hash);
    const live = catalogInUse(file);
    try {
      for (const recorded of cat.samples()) {
        const s = recorded.status === 'running' && !live ? { ...recorded, status: 'pending' as const, note: `interrupted (run ${recorded.runId})` } : recorded;
        const key = sampleKey(s);
        const have = best.get(key);
        if (!have || preferredSample(have.sample, s) !== have.sample) best.set(key, { sample: s, catalog: file });
      }
    } finally {
      cat.close();
    }
  }
  return plannedSamples(def).map((p) => best.get(sampleKey(p)) ?? {
    catalog: null,
    sample: {
      Q: p.Q, index: p.index, seed: p.seed, density: p.density, densityMode: p.densityMode, status: 'pending', attempts: 0, failures: 0,
      error: null, failedStage: null, note: null, runId: null, startedAt: null, finishedAt: null, seconds: null,
    },
  });
}

export interface MergeSummary {
  target: string;
  shards: Array<{ file: string; samples: number; imported: number; active: boolean }>;
  imported: number;
}

export function mergeShards(dirArg: string): MergeSummary {
  const dir = resolve(dirArg);
  const def = readCampaign(dir);
  const hash = definitionHash(def);
  const targetPath = join(dir, catalogFileName(null));
  const shardFiles = catalogFiles(dir).filter((f) => f !== targetPath);
  if (shardFiles.length === 0) throw new RangeError(`no shard catalogs (catalog.shard-i-of-n.sqlite) in ${dir}: nothing to merge`);
  const lock = acquireLock(`${targetPath}.lock`, `merge-${process.pid}`);
  const target = Catalog.open(targetPath);
  const summary: MergeSummary = { target: targetPath, shards: [], imported: 0 };
  try {
    target.bind(hash, 'all');
    target.plan(plannedSamples(def));
    for (const file of shardFiles) {
      const shard = openChecked(file, hash);
      try {
        const entry = { file, samples: 0, imported: 0, active: catalogInUse(file) };
        target.markPruned(shard.prunedKinds());
        for (const s of shard.samples()) {
          entry.samples++;
          const have = target.sample(s.Q, s.index);
          if (have && preferredSample(have, s) === have) continue;
          const content: SampleContent = shard.content(s);
          target.putContent(content);
          entry.imported++;
        }
        summary.imported += entry.imported;
        summary.shards.push(entry);
      } finally {
        shard.close();
      }
    }
  } finally {
    target.close();
    lock.release();
  }
  return summary;
}
