/**
 * `qglass paper [--quick | --full | --controls]`: the paper's figures from scratch. --quick (also
 * `qglass start`, what `npm start` runs) is a small but complete campaign over the six Q values, run
 * and reported in one go; --full sets up the paper's scale (N = 10976, 1000 samples per Q) as a
 * resumable campaign; --controls runs the Q-model beside its controls (repulsive-q glasses,
 * harmonic packings) and reports Figure 7. All drive the campaign module (src/ensemble) and the
 * report (src/report).
 */
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { controlAxis, DEFAULT_MEASUREMENTS, defineCampaign, holdsCampaign, initCampaign, pointLabel, readCampaign, type CampaignDefinition, type CampaignInput } from '../../ensemble/campaign.ts';
import { unitedSamples } from '../../ensemble/merge.ts';
import { projectCampaign, projectionText } from '../../ensemble/projection.ts';
import { plannedSamples } from '../../ensemble/seeds.ts';
import { STAGES } from '../../ensemble/pipeline.ts';
import { runCampaign, type RunEvent, type RunSummary } from '../../ensemble/runner.ts';
import { guessZeroPressureDensity } from '../../ensemble/calibrate.ts';
import { ZERO_PRESSURE_TABLE } from '../../model/zero-pressure-table.ts';
import { reportFromCampaign, reportFromCampaigns } from '../../report/report.ts';
import { parseInteger, UserError } from '../errors.ts';
import { VERSION } from '../../util/version.ts';
import { formatDuration } from './campaign.ts';
import { reportText } from './report.ts';
import { checkOutputDirectory } from '../../io/output-path.ts';

export const PAPER_Q = [10, 20, 40, 80, 160, 240];

/** The two scales. quick: about 10 minutes on 2 cores; full: the paper's ensembles. */
export const PAPER_SCALES = {
  quick: { N: 500, samples: 20, modes: 20, seed: 1, dir: 'paper-quick' },
  full: { N: 10976, samples: 1000, modes: 20, seed: 1, dir: 'paper-full' },
} as const;

type Scale = keyof typeof PAPER_SCALES;

/**
 * The density rule: the calibrated zero-pressure table when it covers every Q; otherwise each
 * sample's box is relaxed to p = 0 after the quench, starting from the calibration's ln Q guess.
 */
export function paperDensity(Qs: readonly number[]): Pick<CampaignInput, 'density' | 'protocol'> & { note: string } {
  if (Qs.every((Q) => ZERO_PRESSURE_TABLE.some((e) => e.Q === Q))) {
    return { density: 'zero-pressure', note: 'densities: the calibrated zero-pressure table' };
  }
  return {
    density: Qs.map((Q) => `${Q}:${guessZeroPressureDensity(Q).toFixed(4)}`).join(','),
    protocol: { relaxPressureTol: 1e-6 },
    note: 'densities: no calibrated zero-pressure table for every Q, so each glass is relaxed to p = 0 (|p|/K < 1e-6) after the quench',
  };
}

/**
 * The paper campaign at a scale, with every measurement of the paper this build can make (AQS shear
 * goes beyond the paper and is opt-in: `campaign init --measure …,aqs`).
 */
export function paperCampaign(scale: Scale): { definition: CampaignDefinition; notes: string[] } {
  const s = PAPER_SCALES[scale];
  const measure = DEFAULT_MEASUREMENTS.filter((m) => STAGES.has(m));
  const unavailable = DEFAULT_MEASUREMENTS.filter((m) => !STAGES.has(m));
  const density = paperDensity(PAPER_Q);
  const definition = defineCampaign({
    Q: PAPER_Q, N: s.N, samples: s.samples, seed: s.seed, density: density.density, protocol: density.protocol,
    measure, modes: s.modes, createdBy: `qglass ${VERSION}`,
  });
  const notes = [density.note];
  if (unavailable.length > 0) notes.push(`this build cannot measure ${unavailable.join(', ')}: the report will say what is missing`);
  return { definition, notes };
}

/**
 * The controls set: small enough for about 10 minutes on 2 cores by default (measured: see
 * docs/controls.md). Each law is one campaign in its own subdirectory of the output directory. The
 * Q-model beyond the zero-pressure table (Q = 480, 1000) is a campaign of its own whose glasses are
 * relaxed to p = 0 after the quench, from starting densities near their relaxed ones (single
 * N = 256 glasses relaxed to p = 0: 0.663 and 0.668).
 */
export const CONTROLS_SET = {
  N: 256, samples: 4, seed: 1, dir: 'paper-controls', modes: 20,
  Q: [10, 20, 40, 80, 160, 240], pressure: [1e-1, 3e-2, 1e-2, 3e-3, 1e-3, 3e-4, 1e-4],
  highQ: [{ Q: 480, density: 0.663 }, { Q: 1000, density: 0.668 }],
} as const;

/** The campaigns of `paper --controls`: the Q-model (to Q = 1000), repulsive-q at the Q-model's densities, harmonic packings. */
export function controlCampaigns(N: number, samples: number, seed: number = CONTROLS_SET.seed): Array<{ name: string; definition: CampaignDefinition; note?: string }> {
  const measure = DEFAULT_MEASUREMENTS.filter((m) => STAGES.has(m));
  const common = { N, samples, seed, measure, modes: CONTROLS_SET.modes, createdBy: `qglass ${VERSION}` };
  // a Q beyond the paper's joins the table-density campaign once the zero-pressure table has it
  const tabled = CONTROLS_SET.highQ.filter((h) => ZERO_PRESSURE_TABLE.some((e) => e.Q === h.Q));
  const high = CONTROLS_SET.highQ.filter((h) => !tabled.includes(h));
  const qs = [...CONTROLS_SET.Q, ...tabled.map((h) => h.Q)];
  const density = paperDensity(qs);
  return [
    { name: 'q-model', definition: defineCampaign({ ...common, Q: qs, density: density.density, protocol: density.protocol }), note: density.note },
    ...(high.length === 0 ? [] : [{
      name: 'q-model-high',
      definition: defineCampaign({ ...common, Q: high.map((h) => h.Q), density: high.map((h) => `${h.Q}:${h.density}`).join(','), protocol: { relaxPressureTol: 1e-6 } }),
      note: 'beyond the zero-pressure table: each glass is relaxed to p = 0 (|p|/K < 1e-6) after the quench',
    }]),
    { name: 'repulsive-q', definition: defineCampaign({ ...common, model: 'repulsive-q', Q: [...CONTROLS_SET.Q], density: 'q-model-zero-pressure' }) },
    { name: 'harmonic', definition: defineCampaign({ ...common, model: 'harmonic', pressure: [...CONTROLS_SET.pressure] }) },
  ];
}

interface PaperOptions { quick?: boolean; full?: boolean; controls?: boolean; n?: string; samples?: string; seed?: string; dir?: string; workers?: string; run?: boolean; report: boolean; dryRun?: boolean }

/** The campaign's samples with their state: all pending when DIR holds no campaign yet (nothing is created). */
function samplesOf(dir: string, def: CampaignDefinition): Array<{ Q: number; status: string; seconds: number | null }> {
  if (!holdsCampaign(dir, def)) return plannedSamples(def).map((p) => ({ Q: p.Q, status: 'pending', seconds: null }));
  return unitedSamples(resolve(dir), def).map((u) => u.sample);
}

export function registerPaper(program: Command): void {
  program
    .command('paper')
    .alias('start')
    .description(
      `the paper's figures from scratch: --quick (default) runs N = ${PAPER_SCALES.quick.N}, ${PAPER_SCALES.quick.samples} samples per Q over Q = ${PAPER_Q.join(', ')} ` +
        `and writes the report (about 10 minutes on 2 cores); --full sets up N = ${PAPER_SCALES.full.N}, ${PAPER_SCALES.full.samples} samples per Q as a resumable campaign`,
    )
    .addHelpText('after', '\nExamples:\n  $ qglass paper --quick            (the same as npm start)\n  $ qglass paper --full --dir paper-full\n  $ qglass paper --controls --samples 20 --n 1372\n')
    .option('--quick', 'small complete reproduction: campaign, run, report (default)')
    .option('--full', "the paper's scale: initialise the campaign and print how to run it (add --run to run here)")
    .option('--controls', `the unjamming analogy against its controls: q-model and repulsive-q at Q = ${CONTROLS_SET.Q.join(', ')}, ` +
      `the q-model also at Q = ${CONTROLS_SET.highQ.map((h) => h.Q).join(', ')} (at the zero-pressure table's densities, or relaxed to p = 0 where it has none), harmonic packings at p = ${CONTROLS_SET.pressure.join(', ')}; ` +
      `N = ${CONTROLS_SET.N}, ${CONTROLS_SET.samples} samples per point by default (about 10 minutes on 2 cores); campaigns in DIR/<law>/, the report with Figure 7 in DIR/report`)
    .option('--n <N>', `with --controls: particles per sample (4·k³, e.g. 256, 500, 1372; default ${CONTROLS_SET.N})`)
    .option('--samples <S>', `with --controls: samples per point (default ${CONTROLS_SET.samples})`)
    .option('--seed <seed>', `with --controls: master seed of the campaigns (default ${CONTROLS_SET.seed})`)
    .option('--dir <dir>', `campaign directory (default: ${PAPER_SCALES.quick.dir}, ${PAPER_SCALES.full.dir} or ${CONTROLS_SET.dir}); an existing one is resumed`)
    .option('--workers <k>', 'worker threads (default: all cores)')
    .option('--run', 'with --full: run the campaign here too (resumable: stop with Ctrl-C, start again)')
    .option('--no-report', 'skip the report after the run')
    .option('--dry-run', 'print the number of samples and the projected core-hours and wall time, then exit without computing or writing anything')
    .action(async (o: PaperOptions) => {
      if ([o.quick, o.full, o.controls].filter(Boolean).length > 1) throw new UserError('choose one of --quick, --full and --controls');
      if (o.controls) return paperControls(o);
      if (o.n !== undefined || o.samples !== undefined || o.seed !== undefined) throw new UserError('--n, --samples and --seed set up the --controls set; --quick and --full have fixed sizes and seeds');
      const scale: Scale = o.full ? 'full' : 'quick';
      const dir = o.dir ?? PAPER_SCALES[scale].dir;
      checkOutputDirectory(dir, '--dir');
      const t0 = performance.now();
      const { definition, notes } = paperCampaign(scale);
      const workers = o.workers === undefined ? undefined : parseInteger('--workers', o.workers);
      const log = (line: string) => process.stderr.write(line + '\n');
      const projection = () => projectionText(projectCampaign(definition, samplesOf(dir, definition), workers ?? availableParallelism()));
      if (o.dryRun) {
        try {
          log(projection());
        } catch (err) {
          throw new UserError(`${(err as Error).message} (or pass --dir for a new one)`);
        }
        return;
      }
      let created: boolean;
      try {
        created = initCampaign(dir, definition).created;
      } catch (err) {
        throw new UserError(`${(err as Error).message} (or pass --dir for a new one)`);
      }
      const s = PAPER_SCALES[scale];
      log(`${created ? 'created' : 'resuming'} ${resolve(dir)}: Q = ${PAPER_Q.join(', ')}, N = ${s.N}, ${s.samples} samples per Q, measure: ${definition.measure.join(', ') || 'preparation only'}`);
      for (const n of notes) log(`  ${n}`);
      log(projection());
      if (scale === 'full' && !o.run) {
        log(
          [
            'next steps (the campaign is resumable: any of these can be stopped and started again):',
            `  qglass campaign run ${dir}                # here, on all cores`,
            `  qglass campaign slurm ${dir} > job.sh     # or as a Slurm job array; then: qglass campaign merge ${dir}`,
            `  qglass campaign status ${dir}`,
            `  qglass report ${dir}                      # figures and index.html (works on a partial campaign too)`,
          ].join('\n'),
        );
        return;
      }
      const summary = await runWithProgress(dir, workers, log);
      if (summary.aborted) {
        log(`stopped after ${formatDuration(summary.seconds)}; run the same command again to resume`);
        process.exitCode = 130;
        return;
      }
      log(`campaign finished in ${formatDuration(summary.seconds)}: ${summary.computed} sample(s) computed, ${summary.failed} failure(s)`);
      if (o.report) {
        const report = await reportFromCampaign(dir, { outDir: join(dir, 'report'), bootstrap: { replicates: 1000, seed: 1 } });
        log(reportText(report));
      }
      log(`total wall time ${formatDuration((performance.now() - t0) / 1000)}`);
    });
}

/** `paper --controls`: initialise (or resume) the four campaigns, run them in turn, report them together. */
async function paperControls(o: PaperOptions): Promise<void> {
  const out = o.dir ?? CONTROLS_SET.dir;
  checkOutputDirectory(out, '--dir');
  const N = o.n === undefined ? CONTROLS_SET.N : parseInteger('--n', o.n);
  const samples = o.samples === undefined ? CONTROLS_SET.samples : parseInteger('--samples', o.samples);
  const seed = o.seed === undefined ? CONTROLS_SET.seed : parseInteger('--seed', o.seed);
  const workers = o.workers === undefined ? undefined : parseInteger('--workers', o.workers);
  const log = (line: string) => process.stderr.write(line + '\n');
  const t0 = performance.now();
  // every definition is checked before any is written or run
  const campaigns = controlCampaigns(N, samples, seed);
  const dirs: string[] = [];
  for (const c of campaigns) {
    const dir = join(out, c.name);
    let created: boolean;
    try {
      created = initCampaign(dir, c.definition).created;
    } catch (err) {
      throw new UserError(`${(err as Error).message} (or pass --dir for a new one)`);
    }
    log(`${created ? 'created' : 'resuming'} ${resolve(dir)}: ${c.name}, ${controlAxis(c.definition) === 'Q' ? `Q = ${c.definition.Q.join(', ')}` : `p = ${c.definition.pressure!.join(', ')}`}, N = ${N}, ${samples} samples per point`);
    if (c.note) log(`  ${c.note}`);
    dirs.push(dir);
  }
  for (const dir of dirs) {
    const summary = await runWithProgress(dir, workers, log);
    if (summary.aborted) {
      log(`stopped after ${formatDuration(summary.seconds)}; run the same command again to resume`);
      process.exitCode = 130;
      return;
    }
    log(`${dir} finished in ${formatDuration(summary.seconds)}: ${summary.computed} sample(s) computed, ${summary.failed} failure(s)`);
  }
  if (o.report) {
    const report = await reportFromCampaigns(dirs, { outDir: join(out, 'report'), bootstrap: { replicates: 1000, seed: 1 } });
    log(reportText(report));
  }
  log(`total wall time ${formatDuration((performance.now() - t0) / 1000)}`);
}

/** Run the campaign with one log line per finished sample and the overall ETA; Ctrl-C stops gracefully. */
async function runWithProgress(dir: string, workers: number | undefined, log: (line: string) => void): Promise<RunSummary> {
  const axis = controlAxis(readCampaign(dir));
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(sig === 'SIGINT' ? 130 : 143);
    log(`\nqglass: ${sig}: stopping; samples in progress go back to pending (again to quit at once)`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const started = performance.now();
  let queued = 0;
  let finished = 0;
  const onEvent = (e: RunEvent) => {
    if (e.type === 'start') {
      queued = e.queued;
      log(`computing ${e.queued} sample(s) on ${e.workers} worker thread(s)`);
      return;
    }
    finished++;
    const elapsed = (performance.now() - started) / 1000;
    const eta = finished > 0 ? (elapsed / finished) * (queued - finished) : null;
    const what = e.status === 'done' ? `done in ${e.seconds.toFixed(1)} s` : `FAILED (${e.stage ?? 'worker'}): ${e.error}`;
    log(`[${String(finished).padStart(String(queued).length)}/${queued}] ${pointLabel(axis, e.sample.Q)} #${e.sample.index} ${what} | elapsed ${formatDuration(elapsed)}, ETA ${formatDuration(eta)}`);
  };
  try {
    return await runCampaign(dir, { workers, onEvent, signal: controller.signal });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
