/**
 * Calibration of the cost projection of `qglass paper --full` (src/ensemble/projection.ts): one
 * sample of the paper's full campaign (N = 10976, its protocol, density and measurements) for each
 * Q of QGLASS_BENCH_Q (default 10,240), each run alone through the campaign runner with one worker
 * thread. Recorded: the process CPU seconds per sample (all threads; the time to compare on a
 * shared machine), the wall seconds, the stage times, the modelled work (expectedSampleWork:
 * N × (NVE steps + fixed allowance)) and CPU seconds per unit of work, per Q and pooled (total CPU
 * over total work, the constant the projection uses). QGLASS_BENCH_N overrides N.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { paperCampaign } from '../src/cli/commands/paper.ts';
import { defineCampaign, initCampaign } from '../src/ensemble/campaign.ts';
import { loadCampaignSamples } from '../src/ensemble/export.ts';
import { runCampaign } from '../src/ensemble/runner.ts';
import { expectedSampleWork } from '../src/ensemble/shard.ts';

export async function run(): Promise<object> {
  const paper = paperCampaign('full').definition;
  const N = Number(process.env.QGLASS_BENCH_N ?? paper.N);
  const Qs = (process.env.QGLASS_BENCH_Q ?? '10,240').split(',').map(Number);
  const root = mkdtempSync(join(tmpdir(), 'qglass-paper-cost-'));
  const rows = [];
  let cpuTotal = 0, workTotal = 0;
  try {
    for (const Q of Qs) {
      const def = defineCampaign({
        Q: [Q], N, samples: 1, seed: paper.seed, density: paper.density!.rule, protocol: paper.protocol,
        measure: paper.measure, modes: paper.modes.count, nqle: paper.nqle.count, createdBy: 'bench',
      });
      const dir = join(root, `Q${Q}`);
      initCampaign(dir, def);
      const load = loadavg()[0];
      const c = process.cpuUsage();
      const t = performance.now();
      const summary = await runCampaign(dir, { workers: 1 });
      const wallSeconds = (performance.now() - t) / 1000;
      const u = process.cpuUsage(c);
      const cpuSeconds = (u.user + u.system) / 1e6;
      const [rec] = loadCampaignSamples(dir);
      if (summary.failed > 0 || rec.status !== 'done') throw new Error(`Q = ${Q}: the sample failed (${rec.error ?? rec.status})`);
      const work = expectedSampleWork(def, Q);
      cpuTotal += cpuSeconds;
      workTotal += work;
      const row = {
        Q, N, cpuSeconds, wallSeconds, sampleSeconds: rec.seconds, work, cpuSecondsPerWork: cpuSeconds / work,
        stageSeconds: Object.fromEntries(Object.entries(rec.stages).map(([k, s]) => [k, s.seconds])),
        loadAverageBefore: load, loadAverageAfter: loadavg()[0],
      };
      rows.push(row);
      process.stderr.write(`Q=${Q} N=${N}: ${cpuSeconds.toFixed(0)} CPU-s (${wallSeconds.toFixed(0)} s wall), ${row.cpuSecondsPerWork.toExponential(3)} CPU-s per unit of work, load ${load.toFixed(1)} → ${row.loadAverageAfter.toFixed(1)}\n`);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return { N, measure: paper.measure, samples: rows, pooledCpuSecondsPerWork: cpuTotal / workTotal };
}
