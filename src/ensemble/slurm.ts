/**
 * An sbatch script running a campaign as a Slurm job array: array task t runs shard
 * (t − first)/(number of tasks) into its own catalog file (SQLite must not be shared between nodes), and
 * resumes where it stopped if it is requeued or resubmitted. `campaign merge` unites the shards.
 */
import { basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { campaignModel, controlAxis, controlValues, type CampaignDefinition } from './campaign.ts';

export interface SlurmOptions {
  /** Contiguous array range "first-last", optionally with a throttle "%k" (e.g. 0-99%20). */
  array?: string;
  cpusPerTask?: number;
  time?: string;
  memPerCpu?: string;
  partition?: string;
  account?: string;
  retries?: number;
}

export interface ArrayRange {
  first: number;
  last: number;
  throttle: number | null;
}

export function parseArrayRange(text: string): ArrayRange {
  const m = /^(\d+)-(\d+)(?:%(\d+))?$/.exec(text.trim());
  if (!m || Number(m[2]) < Number(m[1])) {
    throw new RangeError(`--array must be a contiguous range first-last (optionally %k), e.g. 0-99 or 0-99%20; got '${text}'`);
  }
  return { first: Number(m[1]), last: Number(m[2]), throttle: m[3] === undefined ? null : Number(m[3]) };
}

const QGLASS_BIN = fileURLToPath(new URL('../../bin/qglass.mjs', import.meta.url));

export function slurmScript(dirArg: string, def: CampaignDefinition, opts: SlurmOptions = {}): string {
  const dir = resolve(dirArg);
  const total = controlValues(def).length * def.samples;
  const range = parseArrayRange(opts.array ?? `0-${Math.min(total, 100) - 1}`);
  const tasks = range.last - range.first + 1;
  if (tasks > total) throw new RangeError(`--array ${opts.array} has ${tasks} tasks but the campaign has only ${total} samples; use at most 0-${total - 1}`);
  const cpus = opts.cpusPerTask ?? 4;
  if (!Number.isInteger(cpus) || cpus < 1) throw new RangeError(`--cpus-per-task must be an integer ≥ 1; got ${opts.cpusPerTask}`);
  const perTask = Math.ceil(total / tasks);
  const time = opts.time ?? '24:00:00';
  parseSlurmTime(time);
  const sbatch = [
    `#SBATCH --job-name=qglass-${basename(dir).replace(/[^A-Za-z0-9_.-]/g, '_')}`,
    `#SBATCH --array=${range.first}-${range.last}${range.throttle === null ? '' : `%${range.throttle}`}`,
    '#SBATCH --ntasks=1',
    `#SBATCH --cpus-per-task=${cpus}`,
    `#SBATCH --time=${time}`,
    ...(opts.memPerCpu ? [`#SBATCH --mem-per-cpu=${opts.memPerCpu}`] : []),
    ...(opts.partition ? [`#SBATCH --partition=${opts.partition}`] : []),
    ...(opts.account ? [`#SBATCH --account=${opts.account}`] : []),
    `#SBATCH --output=${dir}/slurm-%A_%a.out`,
    '#SBATCH --requeue',
  ];
  const retries = opts.retries ? ` --retries ${opts.retries}` : '';
  return [
    '#!/bin/bash',
    `# qglass campaign ${dir}`,
    `#   ${campaignModel(def)}, ${controlAxis(def)} = ${controlValues(def).join(', ')}; N = ${def.N}; ${def.samples} samples per point (${total} in all); measure: ${def.measure.join(', ') || 'prepare only'}`,
    `#   ${tasks} array tasks, about ${perTask} samples each, ${cpus} worker threads per task.`,
    `# Submit with \`sbatch THIS_FILE\`. Task t runs shard (t − ${range.first})/${tasks} (balanced by expected work: \`qglass campaign plan DIR --shards ${tasks}\`)`,
    '# into its own catalog file; a task that is killed, requeued or resubmitted (sbatch --array=t THIS_FILE) resumes where it stopped.',
    '# When all tasks have ended, unite the shards:',
    `#   node ${sh(QGLASS_BIN)} campaign merge ${sh(dir)}`,
    '# or submit that as a dependent job: sbatch --dependency=afterany:JOBID --wrap "node ... campaign merge ..."',
    ...sbatch,
    '',
    'set -euo pipefail',
    `NODE=\${NODE:-${sh(process.execPath)}}`,
    // The shard is spelled out rather than read from SLURM_ARRAY_TASK_COUNT, so that resubmitting
    // some tasks alone (sbatch --array=3,7 THIS_FILE) runs the same shards again.
    `SHARD="$((SLURM_ARRAY_TASK_ID - ${range.first}))/${tasks}"`,
    // the job's own limit: a sample that would not finish before Slurm ends the task is left for its next submission
    `"$NODE" ${sh(QGLASS_BIN)} campaign run ${sh(dir)} --shard "$SHARD" --workers "\${SLURM_CPUS_PER_TASK:-1}" --time-limit ${sh(time)}${retries}`,
    '',
  ].join('\n');
}

/**
 * Array tasks so that each finishes within targetSeconds: the campaign's remaining modelled work at
 * the measured rate, spread over cpus worker threads per task, with 20% headroom (shards are
 * balanced to a few per cent, sample times scatter more).
 */
export function suggestArraySize(def: CampaignDefinition, remainingWork: number, secondsPerWork: number, targetSeconds: number, cpus: number): number {
  const taskSeconds = (remainingWork * secondsPerWork) / cpus;
  const tasks = Math.ceil((1.2 * taskSeconds) / targetSeconds);
  return Math.max(1, Math.min(tasks, controlValues(def).length * def.samples));
}

/** A Slurm time (minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS) in seconds. */
export function parseSlurmTime(text: string): number {
  const m = /^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$/.exec(text.trim());
  if (!m) throw new RangeError(`a Slurm time looks like HH:MM:SS, D-HH:MM:SS, MM:SS or minutes; got '${text}'`);
  const [days, x, y, z] = [m[1], m[2], m[3], m[4]].map((v) => (v === undefined ? undefined : Number(v)));
  let seconds: number;
  if (days !== undefined) seconds = days * 86400 + x! * 3600 + (y ?? 0) * 60 + (z ?? 0);
  else if (z !== undefined) seconds = x! * 3600 + y! * 60 + z;
  else seconds = x! * 60 + (y ?? 0);
  if (!(seconds > 0)) throw new RangeError(`the time must be positive; got '${text}'`);
  return seconds;
}

/** Single-quote for the shell when needed. */
function sh(s: string): string {
  return /^[A-Za-z0-9_./:=+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
