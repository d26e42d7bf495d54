/**
 * Running a campaign (or one shard of it) on worker threads.
 *
 * Start-up makes the catalog trustworthy again after any crash: take the catalog's lock, check the
 * catalog file's integrity (a damaged one is refused, never replaced), add the
 * shard's planned samples not yet recorded, send samples left 'running' by a dead run back to
 * pending, check every finished sample's artefacts against the recorded size and SHA-256 (a missing,
 * truncated or altered file sends the sample back to pending), and delete half-written temporary
 * files of this shard's samples, and copy in the samples other catalogs of the campaign (other
 * shards, the unsharded one) already hold done. Then pending samples (and failed ones the retry
 * policy allows) are computed in canonical order, one per worker at a time, each claimed first
 * (claims.ts) so that concurrent runs of other catalogs never compute it too. The main thread is the
 * catalog's only writer: a worker writes the artefacts, reports back, and the main thread records
 * the sample in one transaction, after checking that it still holds the lock.
 *
 * A transient I/O failure (disk full, I/O error) leaves its sample pending, not failed, and stops
 * the run with an OS error: the next run computes it once the disk is fixed.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { controlAxis, controlValues, definitionHash, pointLabel, pointOfDirectory, readCampaign, SAMPLES_DIR, type CampaignDefinition } from './campaign.ts';
import { Catalog, catalogError, type ArtefactRecord, type CatalogSample, type SampleStatus } from './catalog.ts';
import { SampleClaims } from './claims.ts';
import { acquireLock, type RunLock } from './lock.ts';
import { SystemError } from '../util/errors.ts';
import { expectedArtefacts, missingStages, sha256, type FromWorker, type SampleTask, type ToWorker } from './pipeline.ts';
import { sampleKey, type PlannedSample } from './seeds.ts';
import type { QStatus } from './export.ts';
import { catalogFileName, expectedSampleWork, measuredSecondsPerWork, shardLabel, shardSamples, type Shard } from './shard.ts';
import { unitedSamples } from './merge.ts';

export interface RunOptions {
  /** Worker threads (default: all available cores). */
  workers?: number;
  shard?: Shard | null;
  /** A failed sample is attempted again while its failures ≤ retries (across runs). Default 0. */
  retries?: number;
  /**
   * How finished samples' artefacts are checked at start-up: size and SHA-256 (default), size only,
   * or (full) size and SHA-256 plus SQLite's full integrity_check of the catalog instead of quick_check.
   */
  verify?: 'checksum' | 'size' | 'full';
  onEvent?: (event: RunEvent) => void;
  /** Stop gracefully: no new samples, running ones abandoned and sent back to pending. */
  signal?: AbortSignal;
  /**
   * Seconds the run may take (a batch job's time limit): a sample starts only if, by the times of
   * finished samples (expectedSeconds), it is expected to end within the limit with
   * TIME_LIMIT_HEADROOM to spare; the others stay pending for a later run. Before any sample of the
   * campaign has finished there is nothing to estimate from, and samples start.
   */
  timeLimit?: number;
}

/** Sample times scatter (by tens of per cent at the same Q): a start needs this factor on the estimate. */
export const TIME_LIMIT_HEADROOM = 1.2;

export interface QProgress extends QStatus {
  /** Finished in this run, and the rate (samples per hour) and ETA (s) that implies; null before the first. */
  doneThisRun: number;
  failedThisRun: number;
  perHour: number | null;
  etaSeconds: number | null;
}

export interface Recovery {
  /** Samples a dead run had left 'running'. */
  interrupted: number;
  /** Finished samples whose artefacts failed the check, with the reason. */
  invalidated: Array<{ Q: number; index: number; reason: string }>;
  temporaryFilesRemoved: number;
  /** Samples found done in another catalog of the campaign and copied in, not computed. */
  imported: number;
  /** Why a stale lock was taken over (null: none). */
  staleLock: string | null;
}

export type RunEvent =
  | { type: 'start'; runId: string; shard: string; catalog: string; workers: number; queued: number; skippedFailed: number; recovery: Recovery; progress: QProgress[] }
  | {
      type: 'sample'; sample: PlannedSample; status: 'done' | 'failed'; seconds: number; error?: string; stage?: string | null;
      willRetry: boolean; progress: QProgress[];
    };

export interface RunSummary {
  runId: string;
  shard: string;
  catalog: string;
  workers: number;
  recovery: Recovery;
  computed: number;
  failed: number;
  /** Samples another catalog's run finished while this one ran (copied in, not computed). */
  importedDuringRun: number;
  /** Failed samples left alone by the retry policy. */
  skippedFailed: number;
  aborted: boolean;
  /** Samples not started because they were not expected to finish within the time limit (they stay pending). */
  leftForTimeLimit: number;
  seconds: number;
  progress: QProgress[];
}

export async function runCampaign(dirArg: string, opts: RunOptions = {}): Promise<RunSummary> {
  const dir = resolve(dirArg);
  const def = readCampaign(dir);
  const missing = missingStages(def);
  if (missing.length > 0) throw new RangeError(`this qglass cannot run the measurement(s) ${missing.join(', ')} that the campaign asks for`);
  if (opts.workers !== undefined && (!Number.isInteger(opts.workers) || opts.workers < 1)) {
    throw new RangeError(`workers must be an integer ≥ 1; got ${opts.workers}`);
  }
  if (opts.timeLimit !== undefined && !(opts.timeLimit > 0 && Number.isFinite(opts.timeLimit))) throw new RangeError(`the time limit must be a positive number of seconds; got ${opts.timeLimit}`);
  const startedAt = performance.now();
  const retries = opts.retries ?? 0;
  if (!Number.isInteger(retries) || retries < 0) throw new RangeError(`retries must be an integer ≥ 0; got ${retries}`);
  const shard = opts.shard ?? null;
  const runId = `${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${randomBytes(3).toString('hex')}`;
  const catalogPath = join(dir, catalogFileName(shard));
  const lock = acquireLock(`${catalogPath}.lock`, runId);
  let catalog: Catalog | null = null;
  let claims: SampleClaims | null = null;
  try {
    catalog = Catalog.open(catalogPath, opts.verify === 'full' ? 'full' : 'quick');
    catalog.bind(definitionHash(def), shardLabel(shard));
    claims = new SampleClaims(dir, runId, lock.path, catalogPath);
    const planned = shardSamples(def, shard);
    catalog.plan(planned);
    const recovery: Recovery = {
      interrupted: catalog.requeueInterrupted(),
      invalidated: verifyFinished(dir, def, catalog, opts.verify === 'size' ? 'size' : 'checksum'),
      temporaryFilesRemoved: removeTemporaryFiles(dir, def, planned, claims),
      imported: importDoneElsewhere(catalog, planned, claims),
      staleLock: lock.tookOver,
    };
    return await execute(dir, def, catalog, planned, { ...opts, retries, runId, shard, recovery, lock, claims, startedAt });
  } catch (err) {
    throw catalogError(catalogPath, err);
  } finally {
    claims?.close();
    catalog?.close();
    lock.release();
  }
}

/** Copy in the records of this shard's unfinished samples that another catalog holds done. */
function importDoneElsewhere(catalog: Catalog, planned: PlannedSample[], claims: SampleClaims): number {
  const elsewhere = claims.allDoneElsewhere();
  if (elsewhere.size === 0) return 0;
  const mine = new Set(planned.map(sampleKey));
  let imported = 0;
  for (const s of catalog.samples()) {
    const key = sampleKey(s);
    if (s.status === 'done' || !mine.has(key) || !elsewhere.has(key)) continue;
    const found = claims.doneElsewhere(s);
    if (found) {
      catalog.putContent(found.content);
      imported++;
    }
  }
  return imported;
}

/** Check every finished sample's results and artefacts; send the doubtful ones back to pending. */
function verifyFinished(dir: string, def: CampaignDefinition, catalog: Catalog, mode: 'checksum' | 'size'): Recovery['invalidated'] {
  const out: Recovery['invalidated'] = [];
  const stagesBySample = catalog.stageNames();
  const artefactsBySample = catalog.allArtefacts();
  const pruned = catalog.prunedKinds();
  const wantedKinds = expectedArtefacts(def);
  for (const s of catalog.samples()) {
    if (s.status !== 'done') continue;
    const key = sampleKey(s);
    const stages = stagesBySample.get(key) ?? new Set<string>();
    const artefacts = artefactsBySample.get(key) ?? [];
    let reason: string | null = null;
    const missingStage = ['prepare', ...def.measure].find((m) => !stages.has(m));
    if (missingStage) reason = `no stored result for stage ${missingStage}`;
    for (const kind of wantedKinds) {
      if (reason) break;
      const a = artefacts.find((x) => x.kind === kind);
      if (a) reason = checkArtefact(dir, a, mode);
      else if (!pruned.has(kind)) reason = `no ${kind} artefact recorded`;
    }
    if (reason) {
      catalog.markPending(s.Q, s.index, `recomputing: ${reason}`);
      out.push({ Q: s.Q, index: s.index, reason });
    }
  }
  return out;
}

/** null if the file on disk is the recorded one, else what is wrong with it. */
export function checkArtefact(dir: string, a: ArtefactRecord, mode: 'checksum' | 'size'): string | null {
  const abs = join(dir, a.path);
  if (!existsSync(abs)) return `${a.path} is missing`;
  const size = statSync(abs).size;
  if (size !== a.bytes) return `${a.path} has ${size} bytes, ${a.bytes} recorded (truncated or overwritten)`;
  if (mode === 'checksum' && sha256(readFileSync(abs)) !== a.sha256) return `${a.path} does not match its recorded SHA-256 (corrupted)`;
  return null;
}

/** Temporary files of atomic writes interrupted by a crash: only this shard's samples that no live run of another catalog has claimed. */
function removeTemporaryFiles(dir: string, def: CampaignDefinition, planned: PlannedSample[], claims: SampleClaims): number {
  const root = join(dir, SAMPLES_DIR);
  if (!existsSync(root)) return 0;
  const mine = new Set(planned.map(sampleKey));
  let removed = 0;
  for (const qDir of readdirSync(root)) {
    const Q = pointOfDirectory(controlAxis(def), qDir);
    if (Q === null) continue;
    for (const f of readdirSync(join(root, qDir))) {
      const m = /^\.(\d+)-[^/]*\.tmp$/.exec(f);
      const sample = m ? { Q, index: Number(m[1]) } : null;
      if (sample && mine.has(sampleKey(sample)) && !claims.claimedByOther(sample)) {
        unlinkSync(join(root, qDir, f));
        removed++;
      }
    }
  }
  return removed;
}

/** Errors of the file system that pass (disk full, I/O error, too many open files): the sample stays pending. */
const TRANSIENT_CODES = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EAGAIN', 'EMFILE', 'ENFILE', 'ESTALE', 'ETIMEDOUT']);

/** How long a sample another run is computing waits before it is looked at again. */
const BUSY_RETRY_MS = 1000;

interface ExecuteContext extends RunOptions {
  retries: number;
  runId: string;
  shard: Shard | null;
  recovery: Recovery;
  lock: RunLock;
  claims: SampleClaims;
  /** performance.now() when the run began (the time limit counts from there). */
  startedAt: number;
}

async function execute(dir: string, def: CampaignDefinition, catalog: Catalog, planned: PlannedSample[], ctx: ExecuteContext): Promise<RunSummary> {
  const t0 = performance.now();
  const byKey = new Map(planned.map((s) => [sampleKey(s), s]));
  const tracker = new ProgressTracker(controlValues(def), planned, catalog.samples());
  const eligible = (s: CatalogSample) => s.status === 'pending' || (s.status === 'failed' && s.failures <= ctx.retries);
  const records = catalog.samples().filter((s) => byKey.has(sampleKey(s)));
  const queue: PlannedSample[] = records.filter(eligible).map((s) => byKey.get(sampleKey(s))!).sort((a, b) => a.ordinal - b.ordinal);
  const skippedFailed = records.filter((s) => s.status === 'failed' && !eligible(s)).length;
  const workerCount = Math.min(ctx.workers ?? availableParallelism(), queue.length);
  const base = { runId: ctx.runId, shard: shardLabel(ctx.shard), catalog: catalog.path, workers: workerCount, recovery: ctx.recovery };
  ctx.onEvent?.({ type: 'start', ...base, queued: queue.length, skippedFailed, progress: tracker.snapshot() });

  let computed = 0, failed = 0, importedDuringRun = 0, leftForTimeLimit = 0;
  const { lock, claims } = ctx;
  // finished samples' wall times (every catalog of the campaign, then this run's), for the time limit
  const timed: { Q: number; seconds: number | null }[] = ctx.timeLimit === undefined ? [] : unitedSamples(dir, def).filter((u) => u.sample.status === 'done').map((u) => u.sample);
  const fitsTimeLimit = (s: PlannedSample) => {
    if (ctx.timeLimit === undefined) return true;
    const expected = expectedSeconds(def, timed, s.Q);
    return expected === null || (performance.now() - ctx.startedAt) / 1000 + TIME_LIMIT_HEADROOM * expected <= ctx.timeLimit;
  };
  const aborted = await new Promise<boolean>((resolveRun, rejectRun) => {
    const inFlight = new Map<Worker, PlannedSample>();
    const workers = new Set<Worker>();
    /** Samples claimed by a live run of another catalog: looked at again once the queue is empty. */
    const busy: PlannedSample[] = [];
    const waiting = new Set<Worker>();
    let retryTimer: NodeJS.Timeout | null = null;
    let stopping = false;
    let fatal: Error | null = null;
    const fail = (err: unknown) => { fatal ??= err instanceof Error ? err : new Error(String(err)); };

    const finishIfIdle = () => {
      if (inFlight.size > 0) return;
      if ((queue.length > 0 || busy.length > 0) && !stopping && fatal === null) return;
      if (retryTimer) clearTimeout(retryTimer);
      for (const w of workers) void w.terminate();
      workers.clear();
      ctx.signal?.removeEventListener('abort', onAbort);
      if (fatal) rejectRun(fatal);
      else resolveRun(stopping);
    };
    /** The next sample this run may compute, claimed; samples done elsewhere are copied in on the way. */
    const nextSample = (): PlannedSample | undefined => {
      while (queue.length > 0) {
        const s = queue.shift()!;
        if (!fitsTimeLimit(s)) { leftForTimeLimit++; continue; }
        const c = claims.claim(s);
        if (c.kind === 'claimed') return s;
        if (c.kind === 'busy') { busy.push(s); continue; }
        lock.assertHeld();
        catalog.putContent(c.content);
        importedDuringRun++;
        tracker.set(s, 'done');
      }
      return undefined;
    };
    const dispatch = (w: Worker) => {
      let next: PlannedSample | undefined;
      if (!stopping && !fatal) {
        try {
          next = nextSample();
          if (next) {
            lock.assertHeld();
            catalog.markRunning(next.Q, next.index, ctx.runId);
          }
        } catch (err) {
          if (next) claims.release(next);
          next = undefined;
          fail(err);
        }
      }
      if (!next) {
        if (busy.length > 0 && !stopping && !fatal) {
          waiting.add(w);
          retryTimer ??= setTimeout(() => {
            retryTimer = null;
            queue.push(...busy.splice(0));
            queue.sort((a, b) => a.ordinal - b.ordinal);
            for (const v of [...waiting]) { waiting.delete(v); dispatch(v); }
          }, BUSY_RETRY_MS);
          return;
        }
        workers.delete(w);
        void w.terminate();
        finishIfIdle();
        return;
      }
      tracker.set(next, 'running');
      inFlight.set(w, next);
      const task: SampleTask = { dir, definition: def, sample: next };
      w.postMessage({ type: 'run', task } satisfies ToWorker);
    };
    const recordFailure = (s: PlannedSample, error: string, stage: string | null, seconds: number | null) => {
      lock.assertHeld();
      catalog.markFailed(s.Q, s.index, error, stage, seconds);
      claims.release(s);
      failed++;
      const failures = catalog.sample(s.Q, s.index)?.failures ?? Infinity;
      const willRetry = failures <= ctx.retries;
      if (willRetry) queue.push(s);
      tracker.set(s, 'failed', true);
      ctx.onEvent?.({ type: 'sample', sample: s, status: 'failed', seconds: seconds ?? 0, error, stage, willRetry, progress: tracker.snapshot() });
    };
    /** A failure of the disk, not of the sample: it goes back to pending and the run stops. */
    const recordTransient = (s: PlannedSample, error: string, code: string) => {
      lock.assertHeld();
      catalog.markPending(s.Q, s.index, `transient I/O error (${code}): ${error}`);
      claims.release(s);
      tracker.set(s, 'pending');
      fail(new SystemError(`${pointLabel(controlAxis(def), s.Q)} #${s.index}: ${error}; the sample stays pending and the run stops: free space or fix the device, then run again`, code));
    };
    const spawn = () => {
      const w = new Worker(new URL('./worker.mjs', import.meta.url));
      workers.add(w);
      let ready = false;
      w.on('message', (msg: FromWorker) => {
        if (msg.type === 'ready') {
          ready = true;
          dispatch(w);
          return;
        }
        const s = inFlight.get(w);
        if (!s) return;
        inFlight.delete(w);
        try {
          if (msg.type === 'done') {
            lock.assertHeld();
            catalog.markDone(s.Q, s.index, msg.outcome);
            claims.release(s);
            computed++;
            timed.push({ Q: s.Q, seconds: msg.outcome.seconds });
            tracker.set(s, 'done', true);
            ctx.onEvent?.({ type: 'sample', sample: s, status: 'done', seconds: msg.outcome.seconds, willRetry: false, progress: tracker.snapshot() });
          } else if (msg.code !== undefined && TRANSIENT_CODES.has(msg.code)) {
            recordTransient(s, msg.error, msg.code);
          } else {
            recordFailure(s, msg.error, msg.stage, msg.seconds);
          }
        } catch (err) {
          fail(err);
        }
        dispatch(w);
      });
      const onDeath = (reason: string) => {
        if (!workers.has(w)) return;
        workers.delete(w);
        waiting.delete(w);
        const s = inFlight.get(w);
        inFlight.delete(w);
        if (!ready) {
          // A worker that cannot even start would fail every sample: stop the run instead.
          fail(new Error(`a worker thread failed to start: ${reason}`));
        } else if (s) {
          try {
            recordFailure(s, `the worker thread died: ${reason}`, null, null);
          } catch (err) {
            fail(err);
          }
          if ((queue.length > 0 || busy.length > 0) && !stopping && fatal === null) spawn();
        }
        finishIfIdle();
      };
      w.on('error', (err) => onDeath(err.message));
      w.on('exit', (code) => onDeath(`exit code ${code}`));
    };

    const onAbort = () => {
      stopping = true;
      for (const [w, s] of inFlight) {
        try {
          lock.assertHeld();
          catalog.markPending(s.Q, s.index, `stopped (run ${ctx.runId})`);
          claims.release(s);
        } catch (err) {
          fail(err);
        }
        tracker.set(s, 'pending');
        workers.delete(w);
        void w.terminate();
      }
      inFlight.clear();
      finishIfIdle();
    };
    ctx.signal?.addEventListener('abort', onAbort, { once: true });
    if (ctx.signal?.aborted) stopping = true;

    if (workerCount === 0 || stopping) finishIfIdle();
    else for (let i = 0; i < workerCount; i++) spawn();
  });
  return { ...base, computed, failed, importedDuringRun, skippedFailed, aborted, leftForTimeLimit, seconds: (performance.now() - t0) / 1000, progress: tracker.snapshot() };
}

/**
 * What a sample at Q should take, from finished samples: their mean at the same Q, else the rate per
 * unit of modelled work over all of them (the model leaves out stages such as aqs, whose cost grows
 * with Q faster than the NVE run's); null when none has finished.
 */
function expectedSeconds(def: CampaignDefinition, done: ReadonlyArray<{ Q: number; seconds: number | null }>, Q: number): number | null {
  const same = done.filter((d) => d.Q === Q && d.seconds !== null).map((d) => d.seconds!);
  if (same.length > 0) return same.reduce((a, b) => a + b, 0) / same.length;
  const rate = measuredSecondsPerWork(def, done);
  return rate === null ? null : rate * expectedSampleWork(def, Q);
}

/** Per-Q counts of this shard's samples, and the rate and ETA of this run. */
class ProgressTracker {
  private readonly status = new Map<string, SampleStatus>();
  private readonly perQ = new Map<number, QProgress>();
  private readonly t0 = performance.now();

  constructor(Qs: readonly number[], planned: readonly PlannedSample[], recorded: readonly CatalogSample[]) {
    for (const Q of Qs) {
      this.perQ.set(Q, { Q, planned: 0, done: 0, failed: 0, running: 0, pending: 0, doneThisRun: 0, failedThisRun: 0, perHour: null, etaSeconds: null });
    }
    const recordedStatus = new Map(recorded.map((s) => [sampleKey(s), s.status]));
    for (const s of planned) {
      const st = recordedStatus.get(sampleKey(s)) ?? 'pending';
      this.status.set(sampleKey(s), st);
      const q = this.perQ.get(s.Q)!;
      q.planned++;
      q[st]++;
    }
  }

  set(s: PlannedSample, next: SampleStatus, finished = false): void {
    const key = sampleKey(s);
    const q = this.perQ.get(s.Q)!;
    q[this.status.get(key)!]--;
    q[next]++;
    this.status.set(key, next);
    if (finished && next === 'done') q.doneThisRun++;
    if (finished && next === 'failed') q.failedThisRun++;
  }

  snapshot(): QProgress[] {
    const hours = (performance.now() - this.t0) / 3.6e6;
    return [...this.perQ.values()].map((q) => {
      const perHour = q.doneThisRun > 0 && hours > 0 ? q.doneThisRun / hours : null;
      const remaining = q.pending + q.running;
      return { ...q, perHour, etaSeconds: perHour ? (remaining / perHour) * 3600 : remaining === 0 ? 0 : null };
    });
  }
}
