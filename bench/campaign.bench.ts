/**
 * Campaign throughput: samples per hour for N = 2048 at Q = 10 and Q = 240, with 1 and 2 worker
 * threads, the full default protocol (NVE 10 τ, ftol 1e-10) and every measurement this build has.
 * The 1- and 2-worker runs compute the same samples (same seeds) in fresh directories, so their
 * ratio is the scaling. The process CPU time (all threads) is reported beside the wall time, and
 * the load average before and after: on a shared machine the wall-clock rate also measures the
 * other users.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineCampaign, initCampaign, MEASUREMENTS } from '../src/ensemble/campaign.ts';
import { loadCampaignSamples } from '../src/ensemble/export.ts';
import { STAGES } from '../src/ensemble/pipeline.ts';
import { runCampaign } from '../src/ensemble/runner.ts';
import { resolveDensity } from '../src/model/presets.ts';

const N = 2048;
const SAMPLES = 2;
/** Near-zero-pressure densities at N = 2048 (SPEC.md §1) when the preset table has no entry. */
const FALLBACK_DENSITY: Record<number, number> = { 10: 0.5, 240: 0.65 };

function density(Q: number): { density: number; source: string } {
  try {
    return { density: resolveDensity('zero-pressure', Q).density, source: 'zero-pressure table' };
  } catch {
    return { density: FALLBACK_DENSITY[Q], source: 'fixed near-zero-pressure value (no table entry)' };
  }
}

export async function run(): Promise<object> {
  const measure = MEASUREMENTS.filter((m) => STAGES.has(m));
  const root = mkdtempSync(join(tmpdir(), 'qglass-campaign-bench-'));
  const cases: Array<{ Q: number; workers: number; samplesPerHour: number } & Record<string, unknown>> = [];
  try {
    for (const Q of [10, 240]) {
      const rho = density(Q);
      for (const workers of [1, 2]) {
        const dir = join(root, `Q${Q}-w${workers}`);
        initCampaign(dir, defineCampaign({
          Q: [Q], N, samples: SAMPLES, seed: 1, density: String(rho.density), measure, createdBy: 'bench',
        }));
        const load = loadavg()[0];
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        const summary = await runCampaign(dir, { workers });
        const wall = (performance.now() - t0) / 1000;
        const cpu = process.cpuUsage(cpu0);
        const records = loadCampaignSamples(dir);
        const done = records.filter((r) => r.status === 'done');
        const stageSeconds: Record<string, number> = {};
        for (const r of done) for (const [name, s] of Object.entries(r.stages)) stageSeconds[name] = (stageSeconds[name] ?? 0) + s.seconds / done.length;
        const entry = {
          Q, N, density: rho.density, densitySource: rho.source, workers, samples: SAMPLES, done: done.length, failed: summary.failed,
          wallSeconds: wall, samplesPerHour: (done.length / wall) * 3600,
          cpuSecondsPerSample: (cpu.user + cpu.system) / 1e6 / Math.max(1, done.length),
          meanStageSeconds: stageSeconds, meanPOverK: done.reduce((a, r) => a + (r.pOverK ?? NaN), 0) / done.length,
          loadAverageBefore: load, loadAverageAfter: loadavg()[0],
        };
        process.stderr.write(`  Q=${Q} workers=${workers}: ${entry.samplesPerHour.toFixed(1)} samples/h (${wall.toFixed(0)} s wall, load ${load.toFixed(1)} → ${entry.loadAverageAfter.toFixed(1)})\n`);
        cases.push(entry);
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  const scaling = [10, 240].map((Q) => {
    const [one, two] = [1, 2].map((w) => cases.find((c) => c.Q === Q && c.workers === w)!);
    return { Q, speedup: two.samplesPerHour / one.samplesPerHour };
  });
  return { measure, protocol: 'DEFAULT_PREPARE (NVE 10 τ at T0 = 1, CG to 1e-10)', cores: availableParallelism(), cases, scaling };
}
