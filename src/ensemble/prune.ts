/**
 * Dropping bulky artefacts from finished samples (`qglass campaign prune`): the files and their
 * catalog records go, the numbers stay, and the kinds are recorded as pruned in every catalog of the
 * campaign so that a later run keeps those samples done instead of recomputing them. The first
 * `keep` samples of each point keep theirs (for the report's 3-D view, or a look at one sample).
 */
import { rmSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { ARTEFACT_KINDS, isArtefactKind, readCampaign, type ArtefactKind } from './campaign.ts';
import { Catalog, type ArtefactRecord } from './catalog.ts';
import { acquireLock } from './lock.ts';
import { catalogFiles } from './merge.ts';

export interface PruneSummary {
  kinds: ArtefactKind[];
  keep: number;
  /** Catalog records forgotten (one per sample and kind; a sample in several catalogs counts once per catalog). */
  records: number;
  /** Distinct files removed (or, with dryRun, that would be) and their recorded bytes. */
  files: number;
  bytes: number;
  dryRun: boolean;
}

/** Parse the --artefacts list of `campaign prune`. */
export function parseArtefactKinds(list: readonly string[]): ArtefactKind[] {
  const bad = list.filter((k) => !isArtefactKind(k));
  if (bad.length > 0) throw new RangeError(`unknown artefact kind(s) '${bad.join(',')}': choose from ${ARTEFACT_KINDS.join(', ')}`);
  if (list.length === 0) throw new RangeError(`name the artefact kinds to drop, from ${ARTEFACT_KINDS.join(', ')}`);
  return [...new Set(list as ArtefactKind[])];
}

export function pruneCampaign(dirArg: string, kinds: readonly ArtefactKind[], opts: { keep?: number; dryRun?: boolean } = {}): PruneSummary {
  const dir = resolve(dirArg);
  readCampaign(dir);
  const keep = opts.keep ?? 0;
  if (!(Number.isInteger(keep) && keep >= 0)) throw new RangeError(`--keep must be an integer ≥ 0; got ${keep}`);
  const dryRun = opts.dryRun ?? false;
  const files = new Map<string, number>();
  let records = 0;
  // every lock first: a live run of any catalog stops the prune before anything is changed
  const locks = catalogFiles(dir).map((file) => ({ file, lock: acquireLock(`${file}.lock`, `prune-${process.pid}`) }));
  try {
    for (const { file } of locks) {
      const cat = Catalog.open(file);
      try {
        const gone: ArtefactRecord[] = dryRun ? cat.prunableArtefacts(kinds, keep) : cat.pruneArtefacts(kinds, keep);
        records += gone.length;
        for (const a of gone) files.set(a.path, a.bytes);
      } finally {
        cat.close();
      }
    }
    // after the catalogs no longer name them: a crash in between leaves files nobody reads, never a sample that looks damaged
    if (!dryRun) for (const path of files.keys()) rmSync(insideCampaign(dir, path), { force: true });
  } finally {
    for (const { lock } of locks) lock.release();
  }
  let bytes = 0;
  for (const b of files.values()) bytes += b;
  return { kinds: [...kinds], keep, records, files: files.size, bytes, dryRun };
}

/** An artefact path as recorded, refused if it would lead outside the campaign directory. */
function insideCampaign(dir: string, path: string): string {
  const abs = resolve(join(dir, path));
  if (!abs.startsWith(dir + sep)) throw new RangeError(`artefact path '${path}' in the catalog leads outside ${dir}: refusing to delete it`);
  return abs;
}
