/**
 * Shards: `--shard i/n` takes the samples whose canonical ordinal is ≡ i (mod n), a deterministic
 * subset that mixes every Q. Each shard keeps its own catalog file, since SQLite must not be
 * shared between hosts; `merge` unites them. Under a Slurm job array the shard comes from
 * SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT (offset by SLURM_ARRAY_TASK_MIN).
 */
import type { PlannedSample } from './seeds.ts';

export interface Shard {
  index: number;
  count: number;
}

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

export function inShard(sample: PlannedSample, shard: Shard | null): boolean {
  return shard === null || sample.ordinal % shard.count === shard.index;
}

export function shardLabel(shard: Shard | null): string {
  return shard === null ? 'all' : `${shard.index}/${shard.count}`;
}

/** Catalog file name of a shard (the unsharded catalog is also where `merge` unites the shards). */
export function catalogFileName(shard: Shard | null): string {
  return shard === null ? 'catalog.sqlite' : `catalog.shard-${shard.index}-of-${shard.count}.sqlite`;
}

export const SHARD_CATALOG_PATTERN = /^catalog\.shard-(\d+)-of-(\d+)\.sqlite$/;
