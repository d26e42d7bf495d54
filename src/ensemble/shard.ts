/**
 * Shards: `--shard i/n` runs a deterministic subset of the campaign's samples chosen so that every
 * shard has about the same expected work. A sample's cost is modelled from the protocol: the NVE
 * run takes nveTime/dt force evaluations with dt ∝ 1/Q (a Q = 240 sample does ~20× the NVE work
 * of a Q = 10 one at the default protocol), plus a fixed allowance for overlap removal, quench and
 * measurements; all force evaluations cost ∝ N. Samples are dealt out heaviest first, each to the
 * shard with the least work so far (ties: fewer samples, then lower index), which keeps every
 * shard within a few per cent of the mean whenever shards hold more than a handful of samples, and
 * mixes the Q values (each shard receives its turn of every Q in sequence). A soft-sphere packing
 * has no NVE run; its decompression takes longer the closer the target pressure is to jamming
 * (measured at N = 256: ~0.5 s per harmonic packing at p ≥ 1e-2, 1.2 s at 1e-3, 5 s at 1e-4),
 * modelled as the fixed allowance times max(1, √(1e-2/p)).
 *
 * Each shard keeps its own catalog file, since SQLite must not be shared between hosts; `merge`
 * unites them. Under a Slurm job array the shard comes from SLURM_ARRAY_TASK_ID /
 * SLURM_ARRAY_TASK_COUNT (offset by SLURM_ARRAY_TASK_MIN).
 */
import { nveSchedule } from '../engine/prepare.ts';
import { controlAxis, controlValues, glassProtocol, type CampaignDefinition } from './campaign.ts';
import { plannedSamples, type PlannedSample } from './seeds.ts';

export interface Shard {
  index: number;
  count: number;
}

/** Force evaluations allowed for everything but the NVE run (overlap removal, quench, measurements). */
export const FIXED_EVALUATIONS = 5000;

export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new RangeError(`--shard must look like i/n (e.g. 0/4); got '${text}'`);
  return validShard(Number(m[1]), Number(m[2]), `--shard ${text}`);
}

function validShard(index: number, count: number, source: string): Shard {
  if (!(count >= 1) || !(index >= 0) || index >= count) {
    throw new RangeError(`${source}: the shard index must satisfy 0 ≤ i < n; got i = ${index}, n = ${count}`);
  }
  return { index, count };
}

/** The shard of a Slurm array task, or null outside a job array. */
export function shardFromSlurm(env: NodeJS.ProcessEnv): Shard | null {
  const id = env.SLURM_ARRAY_TASK_ID, count = env.SLURM_ARRAY_TASK_COUNT;
  if (id === undefined || count === undefined) return null;
  const min = Number(env.SLURM_ARRAY_TASK_MIN ?? 0);
  const i = Number(id) - min, n = Number(count);
  if (!Number.isInteger(i) || !Number.isInteger(n)) {
    throw new RangeError(`cannot read the shard from SLURM_ARRAY_TASK_ID=${id}, SLURM_ARRAY_TASK_COUNT=${count}, SLURM_ARRAY_TASK_MIN=${min}`);
  }
  return validShard(i, n, `Slurm array task ${id} of ${count} (first ${min}); the array must be contiguous, e.g. --array=0-99`);
}

/** Modelled cost of one sample at a point (Q or pressure), in particle force evaluations (N × evaluations). */
export function expectedSampleWork(def: CampaignDefinition, Q: number): number {
  if (controlAxis(def) === 'pressure') return def.N * FIXED_EVALUATIONS * Math.max(1, Math.sqrt(1e-2 / Q));
  return def.N * (nveSchedule({ ...glassProtocol(def), Q }).steps + FIXED_EVALUATIONS);
}

const assignments = new Map<string, Int32Array>();

/** Shard index of every planned sample (by ordinal) for n shards; deterministic in (definition, n). */
export function shardAssignment(def: CampaignDefinition, n: number): Int32Array {
  const key = `${JSON.stringify(def)}|${n}`;
  const cached = assignments.get(key);
  if (cached) return cached;
  const planned = plannedSamples(def);
  const work = new Map(controlValues(def).map((Q) => [Q, expectedSampleWork(def, Q)]));
  const order = planned.slice().sort((a, b) => work.get(b.Q)! - work.get(a.Q)! || a.ordinal - b.ordinal);
  const out = new Int32Array(planned.length);
  const heap = new ShardHeap(n);
  for (const s of order) out[s.ordinal] = heap.addToLightest(work.get(s.Q)!);
  assignments.clear(); // one campaign per process in practice; keep memory bounded
  assignments.set(key, out);
  return out;
}

/** The planned samples of a shard (all of them for null), in canonical order. */
export function shardSamples(def: CampaignDefinition, shard: Shard | null): PlannedSample[] {
  const planned = plannedSamples(def);
  if (shard === null) return planned;
  const assignment = shardAssignment(def, shard.count);
  return planned.filter((s) => assignment[s.ordinal] === shard.index);
}

export interface ShardPlanEntry {
  index: number;
  samples: number;
  /** Modelled work in particle force evaluations (see expectedSampleWork). */
  expectedWork: number;
  /** Samples per point (Q value or pressure). */
  perQ: Record<string, number>;
}

/** The assignment of the campaign's samples to n shards, for `campaign plan`. */
export function shardPlan(def: CampaignDefinition, n: number): { shards: ShardPlanEntry[] } {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`--shards must be an integer ≥ 1; got ${n}`);
  const total = controlValues(def).length * def.samples;
  if (n > total) throw new RangeError(`--shards ${n} exceeds the campaign's ${total} samples; use at most ${total}`);
  const assignment = shardAssignment(def, n);
  const shards: ShardPlanEntry[] = Array.from({ length: n }, (_, index) => ({
    index, samples: 0, expectedWork: 0, perQ: Object.fromEntries(controlValues(def).map((Q) => [String(Q), 0])),
  }));
  for (const s of plannedSamples(def)) {
    const e = shards[assignment[s.ordinal]];
    e.samples++;
    e.expectedWork += expectedSampleWork(def, s.Q);
    e.perQ[String(s.Q)]++;
  }
  return { shards };
}

/** Min-heap of shards by (work, samples, index). */
class ShardHeap {
  private readonly work: Float64Array;
  private readonly count: Int32Array;
  private readonly heap: Int32Array;

  constructor(n: number) {
    this.work = new Float64Array(n);
    this.count = new Int32Array(n);
    this.heap = Int32Array.from({ length: n }, (_, i) => i);
  }

  /** Add work to the lightest shard and return its index. */
  addToLightest(w: number): number {
    const i = this.heap[0];
    this.work[i] += w;
    this.count[i]++;
    this.siftDown(0);
    return i;
  }

  private less(a: number, b: number): boolean {
    return this.work[a] !== this.work[b] ? this.work[a] < this.work[b] : this.count[a] !== this.count[b] ? this.count[a] < this.count[b] : a < b;
  }

  private siftDown(pos: number): void {
    const h = this.heap, n = h.length;
    for (;;) {
      const l = 2 * pos + 1, r = l + 1;
      let m = pos;
      if (l < n && this.less(h[l], h[m])) m = l;
      if (r < n && this.less(h[r], h[m])) m = r;
      if (m === pos) return;
      [h[pos], h[m]] = [h[m], h[pos]];
      pos = m;
    }
  }
}

export function shardLabel(shard: Shard | null): string {
  return shard === null ? 'all' : `${shard.index}/${shard.count}`;
}

/** Catalog file name of a shard (the unsharded catalog is also where `merge` unites the shards). */
export function catalogFileName(shard: Shard | null): string {
  return shard === null ? 'catalog.sqlite' : `catalog.shard-${shard.index}-of-${shard.count}.sqlite`;
}

export const SHARD_CATALOG_PATTERN = /^catalog\.shard-(\d+)-of-(\d+)\.sqlite$/;

/** Seconds of one worker thread per unit of modelled work, from finished samples' wall times; null if none finished. */
export function measuredSecondsPerWork(def: CampaignDefinition, done: ReadonlyArray<{ Q: number; seconds: number | null }>): number | null {
  let seconds = 0, work = 0;
  for (const s of done) {
    if (s.seconds === null || !controlValues(def).includes(s.Q)) continue;
    seconds += s.seconds;
    work += expectedSampleWork(def, s.Q);
  }
  return work > 0 ? seconds / work : null;
}
