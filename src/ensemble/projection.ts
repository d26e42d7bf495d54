/**
 * What a campaign will cost before it runs: the core-hours of the samples still to compute and the
 * wall time on the worker threads at hand. A sample's cost is its modelled work (expectedSampleWork
 * in shard.ts: N × (NVE steps + a fixed allowance), in particle force evaluations) times a rate in
 * seconds of one core per unit of work. The rate is the campaign's own once it has finished samples
 * (measuredSecondsPerWork: their times over their work), else a calibration measured by
 * bench/paper-cost.bench.ts on the development machine (below), the one of the nearest N.
 */
import type { CampaignDefinition } from './campaign.ts';
import { expectedSampleWork, measuredSecondsPerWork } from './shard.ts';

export interface RateCalibration {
  N: number;
  /** CPU seconds of one core per unit of modelled work. */
  secondsPerWork: number;
  source: string;
}

/**
 * Pooled CPU seconds per unit of work: the total CPU time of one sample at Q = 10 and one at Q = 240
 * (the paper's protocol and measurements, one worker thread) over their total modelled work,
 * bench/results/paper-cost-N500.json and paper-cost-0040.json. N = 10976 was measured on a quiet
 * machine (load average below 1; per Q 4.27e-7 and 3.15e-7; two more runs within the hour gave
 * 3.15e-7 and 3.24e-7 pooled, paper-cost-0105.json and paper-cost.json: the largest is kept), N = 500
 * at a load of 5–8 on its 2 cores (1.23e-6 and 6.3e-7): the fixed allowance of the work model is too
 * small for the measurements at Q = 10.
 */
export const CALIBRATIONS: readonly RateCalibration[] = [
  { N: 500, secondsPerWork: 7.11e-7, source: 'bench/paper-cost.bench.ts at N = 500 on a 2-core AMD EPYC VM, 2026-12-02' },
  { N: 10976, secondsPerWork: 3.30e-7, source: 'bench/paper-cost.bench.ts at N = 10976 on a 2-core AMD EPYC VM, 2026-12-04 00:40' },
];

/** The calibration measured at the N nearest to n (by ratio). */
export function calibrationFor(n: number): RateCalibration {
  return CALIBRATIONS.reduce((a, b) => (Math.abs(Math.log(b.N / n)) < Math.abs(Math.log(a.N / n)) ? b : a));
}

export interface CampaignProjection {
  /** Samples still to compute (pending or running), and those already done. */
  samples: number;
  done: number;
  secondsPerWork: number;
  /** Where the rate comes from: the campaign's finished samples or a calibration. */
  rateSource: string;
  coreHours: number;
  workers: number;
  /** coreHours spread over min(workers, samples) threads. */
  wallHours: number;
}

export function projectCampaign(
  def: CampaignDefinition,
  samples: ReadonlyArray<{ Q: number; status: string; seconds: number | null }>,
  workers: number,
): CampaignProjection {
  if (!(Number.isInteger(workers) && workers >= 1)) throw new RangeError(`workers must be an integer ≥ 1; got ${workers}`);
  const done = samples.filter((s) => s.status === 'done');
  const todo = samples.filter((s) => s.status === 'pending' || s.status === 'running');
  const measured = measuredSecondsPerWork(def, done);
  const calibration = calibrationFor(def.N);
  const secondsPerWork = measured ?? calibration.secondsPerWork;
  const rateSource = measured !== null ? `the ${done.length} finished sample(s) of this campaign` : calibration.source;
  const work = todo.reduce((t, s) => t + expectedSampleWork(def, s.Q), 0);
  const coreHours = (work * secondsPerWork) / 3600;
  return {
    samples: todo.length, done: done.length, secondsPerWork, rateSource, coreHours, workers,
    wallHours: todo.length > 0 ? coreHours / Math.min(workers, todo.length) : 0,
  };
}

/** Hours to three significant digits, whole hours from 100 on. */
export function formatHours(h: number): string {
  return h >= 100 ? h.toFixed(0) : h.toPrecision(3);
}

/** The projection as one line, e.g. for stderr before a run starts. */
export function projectionText(p: CampaignProjection): string {
  const wall = p.wallHours >= 1 ? `${formatHours(p.wallHours)} h` : `${(p.wallHours * 60).toPrecision(3)} min`;
  return `projected cost: ${p.samples} sample(s) to compute${p.done > 0 ? ` (${p.done} done)` : ''}, ${formatHours(p.coreHours)} core-hours, ` +
    `about ${wall} wall on ${p.workers} worker thread(s) ` +
    `(${p.secondsPerWork.toExponential(2)} core-seconds per modelled particle force evaluation, from ${p.rateSource})`;
}
