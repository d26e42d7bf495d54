/**
 * Samples claimed across catalogs. The catalogs of one campaign (the unsharded one and any shard's)
 * may be written at the same time by different runs, so before computing a sample a run claims it
 * with a file DIR/.claims/Q<Q>-<index> created exclusively, naming the run and its catalog lock.
 * A claim is live while that lock is held by that run (lock.ts decides when a holder is provably
 * gone); a dead run's claims are taken over. After claiming, the run looks for the sample done in
 * any other catalog of the directory and copies that record instead of computing it. A run records
 * its outcome before dropping its claim, so whoever claims next sees it done.
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Catalog, CatalogDamagedError, type SampleContent } from './catalog.ts';
import { heldBy } from './lock.ts';
import { SHARD_CATALOG_PATTERN, catalogFileName } from './shard.ts';

export const CLAIMS_DIR = '.claims';

interface ClaimInfo {
  runId: string;
  pid: number;
  host: string;
  /** Lock file of the claimant's catalog. */
  lock: string;
}

type SampleId = { Q: number; index: number };

export type ClaimResult =
  | { kind: 'claimed' }
  | { kind: 'busy'; runId: string }
  | { kind: 'done-elsewhere'; catalog: string; content: SampleContent };

export class SampleClaims {
  private readonly root: string;
  private readonly readers = new Map<string, Catalog>();

  constructor(private readonly dir: string, private readonly runId: string, private readonly lockPath: string, private readonly ownCatalog: string) {
    this.root = join(dir, CLAIMS_DIR);
    mkdirSync(this.root, { recursive: true });
  }

  private file(s: SampleId): string {
    return join(this.root, `Q${s.Q}-${s.index}`);
  }

  /** Claim s for this run, unless a live run has it; then check other catalogs for it done. */
  claim(s: SampleId): ClaimResult {
    const path = this.file(s);
    const info: ClaimInfo = { runId: this.runId, pid: process.pid, host: hostname(), lock: this.lockPath };
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(path, 'wx');
        writeSync(fd, JSON.stringify(info));
        closeSync(fd);
        const done = this.doneElsewhere(s);
        if (done) {
          this.release(s);
          return { kind: 'done-elsewhere', ...done };
        }
        return { kind: 'claimed' };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = readClaim(path);
      if (holder === null && !olderThan(path, 5000)) return { kind: 'busy', runId: '?' }; // being written right now
      if (holder && holder.runId !== this.runId && liveClaim(holder)) return { kind: 'busy', runId: holder.runId };
      // Our own leftover or a dead run's claim: take it over.
      try { unlinkSync(path); } catch { /* another run took it over first; the exclusive create decides */ }
    }
    const holder = readClaim(path);
    return { kind: 'busy', runId: holder?.runId ?? '?' };
  }

  release(s: SampleId): void {
    const path = this.file(s);
    if (readClaim(path)?.runId === this.runId) {
      try { unlinkSync(path); } catch { /* already gone */ }
    }
  }

  /** Whether a live run other than this one has claimed s. */
  claimedByOther(s: SampleId): boolean {
    const holder = readClaim(this.file(s));
    return holder !== null && holder.runId !== this.runId && liveClaim(holder);
  }

  /** The sample's record in another catalog of the directory where it is done, if any. */
  doneElsewhere(s: SampleId): { catalog: string; content: SampleContent } | null {
    for (const file of this.otherCatalogs()) {
      const cat = this.reader(file);
      const rec = cat?.sample(s.Q, s.index);
      if (cat && rec?.status === 'done') return { catalog: file, content: cat.content(rec) };
    }
    return null;
  }

  /** Keys ("Q/index") of samples done in other catalogs, with the catalog holding each. */
  allDoneElsewhere(): Map<string, string> {
    const out = new Map<string, string>();
    for (const file of this.otherCatalogs()) {
      const cat = this.reader(file);
      if (!cat) continue;
      for (const key of cat.doneKeys()) if (!out.has(key)) out.set(key, file);
    }
    return out;
  }

  close(): void {
    for (const c of this.readers.values()) c.close();
    this.readers.clear();
  }

  private otherCatalogs(): string[] {
    const files = readdirSync(this.dir).filter((f) => f === catalogFileName(null) || SHARD_CATALOG_PATTERN.test(f)).sort();
    return files.map((f) => join(this.dir, f)).filter((f) => f !== this.ownCatalog);
  }

  /**
   * Another catalog of the directory, to read; null when it does not exist or cannot be read. A
   * damaged one is its own run's concern (that run, status and merge name it): here it only means
   * nothing is known done there, and it is looked at again next time.
   */
  private reader(file: string): Catalog | null {
    let cat = this.readers.get(file);
    if (!cat && existsSync(file)) {
      try {
        cat = Catalog.openReadonly(file, 'none') ?? undefined;
      } catch (err) {
        if (!(err instanceof CatalogDamagedError)) throw err;
      }
      if (cat) this.readers.set(file, cat);
    }
    return cat ?? null;
  }
}

function readClaim(path: string): ClaimInfo | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as ClaimInfo;
  } catch {
    return null;
  }
}

function olderThan(path: string, ms: number): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs > ms;
  } catch {
    return true;
  }
}

/** A claim is live while its run still holds its catalog lock. */
function liveClaim(c: ClaimInfo): boolean {
  return heldBy(c.lock, c.runId);
}

