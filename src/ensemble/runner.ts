/**
 * Running a campaign (or one shard of it) on worker threads.
 *
 * Start-up makes the catalog trustworthy again after any crash: take the catalog's lock, add the
 * shard's planned samples not yet recorded, send samples left 'running' by a dead run back to
 * pending, check every finished sample's artefacts against the recorded size and SHA-256 (a missing,
 * truncated or altered file sends the sample back to pending), and delete half-written temporary
 * files of this shard's samples. Then pending samples (and failed ones the retry policy allows) are
 * computed in canonical order, one per worker at a time. The main thread is the catalog's only
 * writer: a worker writes the artefacts, reports back, and the main thread records the sample in
 * one transaction.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { definitionHash, readCampaign, SAMPLES_DIR, type CampaignDefinition } from './campaign.ts';
import { Catalog, type ArtefactRecord, type CatalogSample, type SampleStatus } from './catalog.ts';
import { acquireLock } from './lock.ts';
import { expectedArtefacts, missingStages, sha256, type FromWorker, type SampleTask, type ToWorker } from './pipeline.ts';
import { plannedSamples, sampleKey, type PlannedSample } from './seeds.ts';
import type { QStatus } from './export.ts';
import { catalogFileName, inShard, shardLabel, type Shard } from './shard.ts';

export interface RunOptions {
  /** Worker threads (default: all available cores). */
  workers?: number;
  shard?: Shard | null;
  /** A failed sample is attempted again while its failures ≤ retries (across runs). Default 0. */
  retries?: number;
  /** How finished samples' artefacts are checked at start-up: size and SHA-256 (default), or size only. */
  verify?: 'checksum' | 'size';
  onEvent?: (event: RunEvent) => void;
  /** Stop gracefully: no new samples, running ones abandoned and sent back to pending. */
  signal?: AbortSignal;
}

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
  /** Failed samples left alone by the retry policy. */
  skippedFailed: number;
  aborted: boolean;
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
  const retries = opts.retries ?? 0;
  if (!Number.isInteger(retries) || retries < 0) throw new RangeError(`retries must be an integer ≥ 0; got ${retries}`);
  const shard = opts.shard ?? null;
  const runId = `${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${randomBytes(3).toString('hex')}`;
  const catalogPath = join(dir, catalogFileName(shard));
  const lock = acquireLock(`${catalogPath}.lock`, runId);
  let catalog: Catalog | null = null;
  try {
    catalog = Catalog.open(catalogPath);
    catalog.bind(definitionHash(def), shardLabel(shard));
    const planned = plannedSamples(def).filter((s) => inShard(s, shard));
    catalog.plan(planned);
    const recovery: Recovery = {
      interrupted: catalog.requeueInterrupted(),
      invalidated: verifyFinished(dir, def, catalog, opts.verify ?? 'checksum'),
      temporaryFilesRemoved: removeTemporaryFiles(dir, def, shard),
      staleLock: lock.tookOver,
    };
    return await execute(dir, def, catalog, planned, { ...opts, retries, runId, shard, recovery });
  } finally {
    catalog?.close();
    lock.release();
  }
}

/** Check every finished sample's results and artefacts; send the doubtful ones back to pending. */
function verifyFinished(dir: string, def: CampaignDefinition, catalog: Catalog, mode: 'checksum' | 'size'): Recovery['invalidated'] {
  const out: Recovery['invalidated'] = [];
  const stagesBySample = catalog.stageNames();
  const artefactsBySample = catalog.allArtefacts();
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
      reason = a ? checkArtefact(dir, a, mode) : `no ${kind} artefact recorded`;
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

/** Temporary files of atomic writes interrupted by a crash: only this shard's samples, whose lock we hold. */
function removeTemporaryFiles(dir: string, def: CampaignDefinition, shard: Shard | null): number {
  const root = join(dir, SAMPLES_DIR);
  if (!existsSync(root)) return 0;
  const mine = new Set(plannedSamples(def).filter((s) => inShard(s, shard)).map(sampleKey));
  let removed = 0;
  for (const qDir of readdirSync(root)) {
    const Q = Number(qDir.slice(1));
    if (!qDir.startsWith('Q') || !Number.isFinite(Q)) continue;
    for (const f of readdirSync(join(root, qDir))) {
      const m = /^\.(\d+)-[^/]*\.tmp$/.exec(f);
      if (m && mine.has(sampleKey({ Q, index: Number(m[1]) }))) {
        unlinkSync(join(root, qDir, f));
        removed++;
      }
    }
  }
  return removed;
}

interface ExecuteContext extends RunOptions {
  retries: number;
  runId: string;
  shard: Shard | null;
  recovery: Recovery;
}

async function execute(dir: string, def: CampaignDefinition, catalog: Catalog, planned: PlannedSample[], ctx: ExecuteContext): Promise<RunSummary> {
  const t0 = performance.now();
  const byKey = new Map(planned.map((s) => [sampleKey(s), s]));
  const tracker = new ProgressTracker(def.Q, planned, catalog.samples());
  const eligible = (s: CatalogSample) => s.status === 'pending' || (s.status === 'failed' && s.failures <= ctx.retries);
  const records = catalog.samples().filter((s) => byKey.has(sampleKey(s)));
  const queue: PlannedSample[] = records.filter(eligible).map((s) => byKey.get(sampleKey(s))!).sort((a, b) => a.ordinal - b.ordinal);
  const skippedFailed = records.filter((s) => s.status === 'failed' && !eligible(s)).length;
  const workerCount = Math.min(ctx.workers ?? availableParallelism(), queue.length);
  const base = { runId: ctx.runId, shard: shardLabel(ctx.shard), catalog: catalog.path, workers: workerCount, recovery: ctx.recovery };
  ctx.onEvent?.({ type: 'start', ...base, queued: queue.length, skippedFailed, progress: tracker.snapshot() });

  let computed = 0, failed = 0;
  const aborted = await new Promise<boolean>((resolveRun, rejectRun) => {
    const inFlight = new Map<Worker, PlannedSample>();
    const workers = new Set<Worker>();
    let stopping = false;
    let fatal: Error | null = null;

    const finishIfIdle = () => {
      if (inFlight.size > 0) return;
      if (queue.length > 0 && !stopping && fatal === null) return;
      for (const w of workers) void w.terminate();
      workers.clear();
      ctx.signal?.removeEventListener('abort', onAbort);
      if (fatal) rejectRun(fatal);
      else resolveRun(stopping);
    };
    const dispatch = (w: Worker) => {
      const next = stopping || fatal ? undefined : queue.shift();
      if (!next) {
        workers.delete(w);
        void w.terminate();
        finishIfIdle();
        return;
      }
      catalog.markRunning(next.Q, next.index, ctx.runId);
      tracker.set(next, 'running');
      inFlight.set(w, next);
      const task: SampleTask = { dir, definition: def, sample: next };
      w.postMessage({ type: 'run', task } satisfies ToWorker);
    };
    const recordFailure = (s: PlannedSample, error: string, stage: string | null, seconds: number | null) => {
      catalog.markFailed(s.Q, s.index, error, stage, seconds);
      failed++;
      const failures = catalog.sample(s.Q, s.index)?.failures ?? Infinity;
      const willRetry = failures <= ctx.retries;
      if (willRetry) queue.push(s);
      tracker.set(s, 'failed', true);
      ctx.onEvent?.({ type: 'sample', sample: s, status: 'failed', seconds: seconds ?? 0, error, stage, willRetry, progress: tracker.snapshot() });
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
            catalog.markDone(s.Q, s.index, msg.outcome);
            computed++;
            tracker.set(s, 'done', true);
            ctx.onEvent?.({ type: 'sample', sample: s, status: 'done', seconds: msg.outcome.seconds, willRetry: false, progress: tracker.snapshot() });
          } else {
            recordFailure(s, msg.error, msg.stage, msg.seconds);
          }
        } catch (err) {
          fatal = err as Error;
        }
        dispatch(w);
      });
      const onDeath = (reason: string) => {
        if (!workers.has(w)) return;
        workers.delete(w);
        const s = inFlight.get(w);
        inFlight.delete(w);
        if (!ready) {
          // A worker that cannot even start would fail every sample: stop the run instead.
          fatal ??= new Error(`a worker thread failed to start: ${reason}`);
        } else if (s) {
          try {
            recordFailure(s, `the worker thread died: ${reason}`, null, null);
          } catch (err) {
            fatal ??= err as Error;
          }
          if (queue.length > 0 && !stopping && fatal === null) spawn();
        }
        finishIfIdle();
      };
      w.on('error', (err) => onDeath(err.message));
      w.on('exit', (code) => onDeath(`exit code ${code}`));
    };

    const onAbort = () => {
      stopping = true;
      for (const [w, s] of inFlight) {
        catalog.markPending(s.Q, s.index, `stopped (run ${ctx.runId})`);
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
  return { ...base, computed, failed, skippedFailed, aborted, seconds: (performance.now() - t0) / 1000, progress: tracker.snapshot() };
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
