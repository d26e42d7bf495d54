/**
 * The SQLite catalog of a campaign shard (better-sqlite3, WAL): one row per planned sample with its
 * state, each stage's JSON result, and each artefact's size and SHA-256. A sample's results and
 * artefact records are written in one transaction, after its artefacts are on disk, so the catalog
 * never claims a sample whose files are missing; at the next run the checksums tell whether the
 * files are still the ones recorded.
 *
 * Only one process writes a catalog (runs hold a lock file, see lock.ts); readers (status, export)
 * may look at any time thanks to WAL.
 */
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, linkSync, openSync, readSync, realpathSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { SystemError } from '../util/errors.ts';
import type { DensityMode } from '../model/presets.ts';
import type { ArtefactKind } from './campaign.ts';
import type { PlannedSample } from './seeds.ts';

export type SampleStatus = 'pending' | 'running' | 'done' | 'failed';

export interface StageRecord {
  stage: string;
  /** The stage's JSON output, stored as it is. */
  value: unknown;
  seconds: number;
  /** The stage's own convergence verdict (null: the stage has none). */
  converged: boolean | null;
}

export interface ArtefactRecord {
  kind: ArtefactKind;
  /** Relative to the campaign directory. */
  path: string;
  bytes: number;
  sha256: string;
}

export interface SampleOutcome {
  stages: StageRecord[];
  artefacts: ArtefactRecord[];
  seconds: number;
}

export interface CatalogSample {
  Q: number;
  index: number;
  seed: number;
  density: number;
  densityMode: DensityMode;
  status: SampleStatus;
  /** Times the sample was started, and times it failed. */
  attempts: number;
  failures: number;
  error: string | null;
  failedStage: string | null;
  /** Why a sample went back to pending (interrupted run, corrupted artefact). */
  note: string | null;
  runId: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  seconds: number | null;
}

/** Full content of one sample, as merged between catalogs. */
export interface SampleContent {
  sample: CatalogSample;
  stages: StageRecord[];
  artefacts: ArtefactRecord[];
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS samples (
  q REAL NOT NULL, idx INTEGER NOT NULL, seed INTEGER NOT NULL, density REAL NOT NULL, density_mode TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0, failures INTEGER NOT NULL DEFAULT 0,
  error TEXT, failed_stage TEXT, note TEXT, run_id TEXT, started_at TEXT, finished_at TEXT, seconds REAL,
  PRIMARY KEY (q, idx)
);
CREATE TABLE IF NOT EXISTS results (
  q REAL NOT NULL, idx INTEGER NOT NULL, stage TEXT NOT NULL, value TEXT NOT NULL, seconds REAL NOT NULL, converged INTEGER,
  PRIMARY KEY (q, idx, stage),
  FOREIGN KEY (q, idx) REFERENCES samples (q, idx) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS artefacts (
  q REAL NOT NULL, idx INTEGER NOT NULL, kind TEXT NOT NULL, path TEXT NOT NULL, bytes INTEGER NOT NULL, sha256 TEXT NOT NULL,
  PRIMARY KEY (q, idx, kind),
  FOREIGN KEY (q, idx) REFERENCES samples (q, idx) ON DELETE CASCADE
);
`;

const SCHEMA_VERSION = '1';

interface SampleRow {
  q: number; idx: number; seed: number; density: number; density_mode: string; status: string;
  attempts: number; failures: number; error: string | null; failed_stage: string | null; note: string | null;
  run_id: string | null; started_at: string | null; finished_at: string | null; seconds: number | null;
}
interface ResultRow { q: number; idx: number; stage: string; value: string; seconds: number; converged: number | null }
interface ArtefactRow { q: number; idx: number; kind: string; path: string; bytes: number; sha256: string }

/**
 * Catalog files this process has open, by real path, with their number of connections. SQLite's
 * locks are POSIX locks: they belong to the process, and closing any descriptor of the file releases
 * them all. Reading a header with fs while a connection is open would drop them, and another process
 * opening the catalog would then take this one's write-ahead log for abandoned and delete it under
 * the running writer. So a file open here is not read with fs again.
 */
const openFiles = new Map<string, number>();

export class Catalog {
  readonly path: string;
  readonly db: Database.Database;
  private readonly file: string;

  private constructor(path: string, db: Database.Database) {
    this.path = path;
    this.db = db;
    this.file = realpathSync(path);
    openFiles.set(this.file, (openFiles.get(this.file) ?? 0) + 1);
  }

  /**
   * Open (creating if needed) for writing: WAL journal, fully synchronous commits. An existing file
   * is checked first (quick_check, or the full integrity_check); a damaged one is refused, never
   * replaced: an empty or truncated file is damage too, not a fresh start.
   */
  static open(path: string, verify: CatalogVerify = 'quick'): Catalog {
    if (!existsSync(path)) createComplete(path);
    checkHeader(path);
    const db = withPath(path, () => new Database(path, { fileMustExist: true }));
    try {
      checkIntegrity(path, db, verify);
      withPath(path, () => {
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = FULL');
        db.pragma('foreign_keys = ON');
        db.pragma('busy_timeout = 10000');
        db.exec(SCHEMA);
      });
    } catch (err) {
      db.close();
      throw err;
    }
    const cat = new Catalog(path, db);
    const schema = cat.meta('schema');
    if (schema === null) cat.setMeta('schema', SCHEMA_VERSION); // made by a version that wrote it after creation
    else if (schema !== SCHEMA_VERSION) throw new RangeError(`${path} has catalog schema ${schema}; this qglass reads schema ${SCHEMA_VERSION}`);
    return cat;
  }

  /** Open an existing catalog for reading only (null if the file does not exist), checked as open() does. */
  static openReadonly(path: string, verify: CatalogVerify = 'quick'): Catalog | null {
    if (!existsSync(path)) return null;
    checkHeader(path);
    const db = withPath(path, () => new Database(path, { readonly: true, fileMustExist: true }));
    try {
      db.pragma('busy_timeout = 10000');
      checkIntegrity(path, db, verify);
      // A catalog missing its tables is not one of ours (or lost them).
      withPath(path, () => db.prepare('SELECT 1 FROM samples LIMIT 1').get());
    } catch (err) {
      db.close();
      throw err;
    }
    return new Catalog(path, db);
  }

  close(): void {
    this.db.close();
    const left = (openFiles.get(this.file) ?? 1) - 1;
    if (left > 0) openFiles.set(this.file, left);
    else openFiles.delete(this.file);
  }

  meta(key: string): string | null {
    const row = this.db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?').get(key);
    return row ? row.value : null;
  }

  setMeta(key: string, value: string): void {
    this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  /** Artefact kinds dropped from finished samples by `campaign prune`: those samples stay done without them. */
  prunedKinds(): Set<ArtefactKind> {
    const v = this.meta(PRUNED_KEY);
    return new Set(v === null ? [] : (JSON.parse(v) as ArtefactKind[]));
  }

  /** Add kinds to the pruned ones (a merge carries a shard's over to the catalog it is merged into). */
  markPruned(kinds: Iterable<ArtefactKind>): void {
    this.setMeta(PRUNED_KEY, JSON.stringify([...new Set([...this.prunedKinds(), ...kinds])].sort()));
  }

  /**
   * Forget the artefacts of these kinds of the finished samples with index ≥ keep, and record the
   * kinds as pruned, in one transaction. Returns the records forgotten (their files are the caller's to delete).
   */
  pruneArtefacts(kinds: readonly ArtefactKind[], keep: number): ArtefactRecord[] {
    return this.db.transaction(() => {
      this.markPruned(kinds);
      const remove = this.db.prepare('DELETE FROM artefacts WHERE q = ? AND idx = ? AND kind = ?');
      const out = this.prunableArtefacts(kinds, keep);
      for (const a of out) remove.run(a.Q, a.index, a.kind);
      return out;
    })();
  }

  /** The artefacts of these kinds of the finished samples with index ≥ keep: what pruneArtefacts would forget. */
  prunableArtefacts(kinds: readonly ArtefactKind[], keep: number): Array<ArtefactRecord & { Q: number; index: number }> {
    const select = this.db.prepare<[string, number], ArtefactRow>(
      `SELECT a.* FROM artefacts a JOIN samples s ON s.q = a.q AND s.idx = a.idx WHERE s.status = 'done' AND a.kind = ? AND a.idx >= ?`,
    );
    return kinds.flatMap((kind) => select.all(kind, keep).map((row) => ({ ...toArtefact(row), Q: row.q, index: row.idx })));
  }

  /**
   * Tie the catalog to a campaign definition (by hash) and shard the first time; refuse a catalog
   * written for a different definition or shard.
   */
  bind(definitionHash: string, shard: string): void {
    const known = this.meta('definition');
    if (known === null) {
      this.db.transaction(() => { this.setMeta('definition', definitionHash); this.setMeta('shard', shard); })();
      return;
    }
    if (known !== definitionHash) {
      throw new RangeError(`${this.path} was written for a different campaign definition (campaign.json changed?); restore the original campaign.json or start a new campaign directory`);
    }
    const knownShard = this.meta('shard');
    if (knownShard !== shard) throw new RangeError(`${this.path} belongs to shard ${knownShard}, not ${shard}`);
  }

  /** Insert the planned samples that are not in the catalog yet (state pending). */
  plan(samples: readonly PlannedSample[]): number {
    const ins = this.db.prepare(
      `INSERT OR IGNORE INTO samples (q, idx, seed, density, density_mode, status) VALUES (?, ?, ?, ?, ?, 'pending')`,
    );
    return this.db.transaction(() => {
      let added = 0;
      for (const s of samples) added += ins.run(s.Q, s.index, s.seed, s.density, s.densityMode).changes;
      return added;
    })();
  }

  /** Keys "Q/index" of the samples recorded done. */
  doneKeys(): string[] {
    return this.db.prepare<[], { q: number; idx: number }>(`SELECT q, idx FROM samples WHERE status = 'done'`).all().map((r) => `${r.q}/${r.idx}`);
  }

  samples(): CatalogSample[] {
    return this.db.prepare<[], SampleRow>('SELECT * FROM samples ORDER BY idx, q').all().map(toSample);
  }

  sample(Q: number, index: number): CatalogSample | null {
    const row = this.db.prepare<[number, number], SampleRow>('SELECT * FROM samples WHERE q = ? AND idx = ?').get(Q, index);
    return row ? toSample(row) : null;
  }

  stages(Q: number, index: number): StageRecord[] {
    return this.db.prepare<[number, number], ResultRow>('SELECT * FROM results WHERE q = ? AND idx = ? ORDER BY rowid').all(Q, index).map(toStage);
  }

  /** Every stored stage result, grouped by sample key "Q/index". */
  allStages(): Map<string, StageRecord[]> {
    const out = new Map<string, StageRecord[]>();
    for (const row of this.db.prepare<[], ResultRow>('SELECT * FROM results ORDER BY rowid').all()) {
      const key = `${row.q}/${row.idx}`;
      let list = out.get(key);
      if (!list) out.set(key, (list = []));
      list.push(toStage(row));
    }
    return out;
  }

  /** Names of the stored stage results per sample key (without parsing the results). */
  stageNames(): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    for (const row of this.db.prepare<[], { q: number; idx: number; stage: string }>('SELECT q, idx, stage FROM results').all()) {
      const key = `${row.q}/${row.idx}`;
      let set = out.get(key);
      if (!set) out.set(key, (set = new Set()));
      set.add(row.stage);
    }
    return out;
  }

  artefacts(Q: number, index: number): ArtefactRecord[] {
    return this.db.prepare<[number, number], ArtefactRow>('SELECT * FROM artefacts WHERE q = ? AND idx = ? ORDER BY kind').all(Q, index).map(toArtefact);
  }

  allArtefacts(): Map<string, ArtefactRecord[]> {
    const out = new Map<string, ArtefactRecord[]>();
    for (const row of this.db.prepare<[], ArtefactRow>('SELECT * FROM artefacts ORDER BY kind').all()) {
      const key = `${row.q}/${row.idx}`;
      let list = out.get(key);
      if (!list) out.set(key, (list = []));
      list.push(toArtefact(row));
    }
    return out;
  }

  /** Samples left 'running' by a run that no longer exists go back to pending (not counted as failures). */
  requeueInterrupted(): number {
    return this.db
      .prepare(`UPDATE samples SET status = 'pending', note = 'interrupted (run ' || coalesce(run_id, '?') || ')' WHERE status = 'running'`)
      .run().changes;
  }

  markRunning(Q: number, index: number, runId: string): void {
    this.db
      .prepare(`UPDATE samples SET status = 'running', attempts = attempts + 1, run_id = ?, started_at = ? WHERE q = ? AND idx = ?`)
      .run(runId, new Date().toISOString(), Q, index);
  }

  /** Record a finished sample: results, artefacts and state in one transaction. */
  markDone(Q: number, index: number, outcome: SampleOutcome): void {
    const insResult = this.db.prepare('INSERT INTO results (q, idx, stage, value, seconds, converged) VALUES (?, ?, ?, ?, ?, ?)');
    const insArtefact = this.db.prepare('INSERT INTO artefacts (q, idx, kind, path, bytes, sha256) VALUES (?, ?, ?, ?, ?, ?)');
    this.db.transaction(() => {
      this.clearResults(Q, index);
      for (const s of outcome.stages) {
        insResult.run(Q, index, s.stage, JSON.stringify(s.value), s.seconds, s.converged === null ? null : Number(s.converged));
      }
      for (const a of outcome.artefacts) insArtefact.run(Q, index, a.kind, a.path, a.bytes, a.sha256);
      this.db
        .prepare(`UPDATE samples SET status = 'done', error = NULL, failed_stage = NULL, note = NULL, finished_at = ?, seconds = ? WHERE q = ? AND idx = ?`)
        .run(new Date().toISOString(), outcome.seconds, Q, index);
    })();
  }

  markFailed(Q: number, index: number, error: string, stage: string | null, seconds: number | null): void {
    this.db.transaction(() => {
      this.clearResults(Q, index);
      this.db
        .prepare(`UPDATE samples SET status = 'failed', failures = failures + 1, error = ?, failed_stage = ?, note = NULL, finished_at = ?, seconds = ? WHERE q = ? AND idx = ?`)
        .run(error, stage, new Date().toISOString(), seconds, Q, index);
    })();
  }

  /** Send a sample back to pending (its stored results dropped), saying why. */
  markPending(Q: number, index: number, note: string): void {
    this.db.transaction(() => {
      this.clearResults(Q, index);
      this.db.prepare(`UPDATE samples SET status = 'pending', note = ? WHERE q = ? AND idx = ?`).run(note, Q, index);
    })();
  }

  /** Replace a sample's whole content (merge). */
  putContent(c: SampleContent): void {
    const s = c.sample;
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM samples WHERE q = ? AND idx = ?').run(s.Q, s.index);
      this.db
        .prepare(
          `INSERT INTO samples (q, idx, seed, density, density_mode, status, attempts, failures, error, failed_stage, note, run_id, started_at, finished_at, seconds)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(s.Q, s.index, s.seed, s.density, s.densityMode, s.status, s.attempts, s.failures, s.error, s.failedStage, s.note, s.runId, s.startedAt, s.finishedAt, s.seconds);
      const insResult = this.db.prepare('INSERT INTO results (q, idx, stage, value, seconds, converged) VALUES (?, ?, ?, ?, ?, ?)');
      for (const r of c.stages) insResult.run(s.Q, s.index, r.stage, JSON.stringify(r.value), r.seconds, r.converged === null ? null : Number(r.converged));
      const insArtefact = this.db.prepare('INSERT INTO artefacts (q, idx, kind, path, bytes, sha256) VALUES (?, ?, ?, ?, ?, ?)');
      for (const a of c.artefacts) insArtefact.run(s.Q, s.index, a.kind, a.path, a.bytes, a.sha256);
    })();
  }

  content(sample: CatalogSample): SampleContent {
    return { sample, stages: this.stages(sample.Q, sample.index), artefacts: this.artefacts(sample.Q, sample.index) };
  }

  private clearResults(Q: number, index: number): void {
    this.db.prepare('DELETE FROM results WHERE q = ? AND idx = ?').run(Q, index);
    this.db.prepare('DELETE FROM artefacts WHERE q = ? AND idx = ?').run(Q, index);
  }
}

const PRUNED_KEY = 'pruned-artefacts';

/** How a catalog is checked on open: not at all, SQLite's quick_check, or its full integrity_check. */
export type CatalogVerify = 'none' | 'quick' | 'full';

/**
 * A new catalog is built under a temporary name and linked into place complete (tables, schema
 * version, WAL mode): runs of other shards read every catalog of the campaign directory, and must
 * never see one half-created (an empty file is damage). If another run links first, its catalog is used.
 */
function createComplete(path: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const db = withPath(path, () => new Database(tmp));
    try {
      withPath(path, () => {
        db.pragma('journal_mode = WAL');
        db.exec(SCHEMA);
        db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('schema', SCHEMA_VERSION);
      });
    } finally {
      db.close();
    }
    try {
      linkSync(tmp, path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  } finally {
    for (const f of [tmp, `${tmp}-wal`, `${tmp}-shm`]) {
      try { unlinkSync(f); } catch { /* never created, or already removed */ }
    }
  }
}

/** A catalog file that is not a sound SQLite database. */
export class CatalogDamagedError extends RangeError {}

function damaged(path: string, detail: string): CatalogDamagedError {
  return new CatalogDamagedError(
    `catalog ${path} is damaged (${detail.replace(/\s+/g, ' ').trim()}); it was left as it is. Restore it from a backup, or move it aside ` +
      `(mv ${path} ${path}.damaged) and run again: its samples are then computed anew (other catalogs of the campaign are unaffected)`,
  );
}

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/** An empty, truncated or overwritten file is refused before SQLite would treat it as a new database. */
function checkHeader(path: string): void {
  // checked when this process opened it; SQLite has read it since (see openFiles)
  if (openFiles.has(realpathSync(path))) return;
  const size = statSync(path).size;
  if (size === 0) throw damaged(path, 'the file is empty (truncated)');
  const head = Buffer.alloc(100);
  const fd = openSync(path, 'r');
  let got: number;
  try {
    got = readSync(fd, head, 0, 100, 0);
  } finally {
    closeSync(fd);
  }
  if (got < 100 || !head.subarray(0, 16).equals(SQLITE_HEADER)) throw damaged(path, 'not an SQLite database: its header is missing or overwritten');
  // The header records the database size in pages: a shorter file lost its end.
  const pageSize = head.readUInt16BE(16) === 1 ? 65536 : head.readUInt16BE(16);
  const pages = head.readUInt32BE(28);
  const pageCountValid = head.readUInt32BE(92) === head.readUInt32BE(24);
  if (pageCountValid && pages > 0 && size < pages * pageSize && !existsSync(`${path}-wal`)) {
    throw damaged(path, `truncated: ${size} bytes, the header records ${pages} pages of ${pageSize} bytes`);
  }
}

function checkIntegrity(path: string, db: Database.Database, verify: CatalogVerify): void {
  if (verify === 'none') return;
  const rows = withPath(path, () => db.pragma(verify === 'full' ? 'integrity_check' : 'quick_check') as Array<Record<string, string>>);
  const messages = rows.map((r) => Object.values(r)[0]).filter((m) => m !== 'ok');
  if (messages.length > 0) throw damaged(path, `${verify === 'full' ? 'integrity_check' : 'quick_check'}: ${messages.slice(0, 3).join('; ')}${messages.length > 3 ? '; …' : ''}`);
  // SQLite checks its structure, not our content: bytes changed inside a record pass its checks.
  const hasTables = withPath(path, () => db.prepare(`SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN ('samples', 'results', 'artefacts')`).get() as { n: number }).n === 3;
  if (!hasTables) return;
  for (const [what, sql] of CONTENT_CHECKS) {
    const n = withPath(path, () => (db.prepare(sql).get() as { n: number }).n);
    if (n > 0) throw damaged(path, `${n} ${what}`);
  }
}

/** Content a sound catalog never holds, counted in SQL (fast even for large catalogs). */
const CONTENT_CHECKS: ReadonlyArray<readonly [string, string]> = [
  ['sample row(s) with an unknown state or non-numeric key', `SELECT count(*) AS n FROM samples WHERE status NOT IN ('pending', 'running', 'done', 'failed') OR typeof(q) NOT IN ('real', 'integer') OR typeof(idx) != 'integer'`],
  ['stage result(s) that are not valid JSON', `SELECT count(*) AS n FROM results WHERE NOT json_valid(value)`],
  ['artefact record(s) with a malformed SHA-256 or size', `SELECT count(*) AS n FROM artefacts WHERE length(sha256) != 64 OR sha256 GLOB '*[^0-9a-f]*' OR typeof(bytes) != 'integer' OR bytes < 0`],
];

/** Run an SQLite operation; its errors name the catalog file (SQLite's own messages do not). */
function withPath<T>(path: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw catalogError(path, err);
  }
}

/** An error of SQLite on the catalog at path, re-worded to name it (damage: exit 2; disk, I/O: exit 4). */
export function catalogError(path: string, err: unknown): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (!(err instanceof Error) || typeof code !== 'string' || !code.startsWith('SQLITE_') || err.message.includes(path)) return err;
  if (/^SQLITE_(NOTADB|CORRUPT)/.test(code)) return damaged(path, err.message);
  const message = `catalog ${path}: ${err.message}`;
  if (code.startsWith('SQLITE_FULL')) return new SystemError(message, 'ENOSPC');
  if (/^SQLITE_(IOERR|CANTOPEN|READONLY|PERM)/.test(code)) return new SystemError(message, 'EIO');
  return new Error(message);
}

function toSample(r: SampleRow): CatalogSample {
  return {
    Q: r.q, index: r.idx, seed: r.seed, density: r.density, densityMode: r.density_mode as DensityMode,
    status: r.status as SampleStatus, attempts: r.attempts, failures: r.failures, error: r.error,
    failedStage: r.failed_stage, note: r.note, runId: r.run_id, startedAt: r.started_at, finishedAt: r.finished_at, seconds: r.seconds,
  };
}

function toStage(r: ResultRow): StageRecord {
  return { stage: r.stage, value: JSON.parse(r.value), seconds: r.seconds, converged: r.converged === null ? null : r.converged !== 0 };
}

function toArtefact(r: ArtefactRow): ArtefactRecord {
  return { kind: r.kind as ArtefactKind, path: r.path, bytes: r.bytes, sha256: r.sha256 };
}

/** Which of two records of one sample wins when catalogs are united: done > failed > running > pending, then the later finish. */
export function preferredSample(a: CatalogSample, b: CatalogSample): CatalogSample {
  const rank: Record<SampleStatus, number> = { done: 3, failed: 2, running: 1, pending: 0 };
  if (rank[a.status] !== rank[b.status]) return rank[a.status] > rank[b.status] ? a : b;
  return (b.finishedAt ?? '') > (a.finishedAt ?? '') ? b : a;
}
