/**
 * `qglass campaign init|run|status|merge|export|slurm`: ensembles of samples in a directory with a
 * resumable, shardable SQLite catalog (src/ensemble).
 */
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { DEFAULT_PREPARE } from '../../engine/prepare.ts';
import { DEFAULT_MODE_COUNT } from '../../measure/modes.ts';
import { DEFAULT_NQLE } from '../../measure/nqle.ts';
import { defineCampaign, initCampaign, MEASUREMENTS, readCampaign, type CampaignDefinition, type MeasurementName } from '../../ensemble/campaign.ts';
import {
  campaignStatus, CSV_MAX_ARRAY, csvOmittedColumns, EXPORT_FORMATS, loadCampaignSamples, samplesToCsv, writeSamplesHdf5, writeSamplesParquet,
  type CampaignStatus,
} from '../../ensemble/export.ts';
import { writeFileAtomic } from '../../io/atomic-write.ts';
import { checkOutputPath } from '../load.ts';
import { mergeShards } from '../../ensemble/merge.ts';
import { STAGES } from '../../ensemble/pipeline.ts';
import { runCampaign, type QProgress, type RunEvent, type RunSummary } from '../../ensemble/runner.ts';
import { parseShard, shardFromSlurm } from '../../ensemble/shard.ts';
import { slurmScript } from '../../ensemble/slurm.ts';
import { parseInteger, parseNumber, UserError } from '../errors.ts';
import { VERSION } from '../../util/version.ts';

interface InitOptions {
  q: string; n: string; samples: string; seed: string; measure: string; modes: string; nqle: string; density: string;
  t0: string; nveTime: string; ftol: string; dt?: string; maxCgIterations: string; relaxPressure?: boolean; json?: boolean;
}

export function registerCampaign(program: Command): void {
  const campaign = program
    .command('campaign')
    .description('ensembles of samples: define, run (all cores, resumable, shardable), inspect, merge, export')
    .addHelpText('after', '\nExample:\n  $ qglass campaign init runs/nu --q 10,240 --n 2048 --samples 100 --seed 1 && qglass campaign run runs/nu\n');

  campaign
    .command('init')
    .description('create a campaign directory holding its definition (campaign.json)')
    .addHelpText('after', '\nExample:\n  $ qglass campaign init runs/nu --q 10,240 --n 2048 --samples 100 --seed 1 --measure elastic,modes\n')
    .argument('<dir>', 'campaign directory')
    .requiredOption('--q <list>', 'Q values, comma-separated (e.g. 10,20,40,80,160,240)')
    .requiredOption('--n <N>', 'particles per sample, 4·k³ (e.g. 2048, 10976)')
    .requiredOption('--samples <S>', 'samples per Q')
    .option('--seed <seed>', 'master seed; sample seeds derive from (seed, Q, index)', '1')
    .option('--measure <list>', `measurements after preparation, comma-separated from ${MEASUREMENTS.join(',')}, or none`, MEASUREMENTS.join(','))
    .option('--modes <k>', 'number of lowest vibrational modes per sample', String(DEFAULT_MODE_COUNT))
    .option('--nqle <k>', 'number of softest NQLEs per sample', String(DEFAULT_NQLE.count))
    .option('--density <rule>', 'zero-pressure | paper | a number (λ⁻³) | per-Q list Q:rho,Q:rho', 'zero-pressure')
    .option('--t0 <T>', 'initial temperature of the NVE run (ε/k_B)', String(DEFAULT_PREPARE.t0))
    .option('--nve-time <t>', 'NVE duration (τ)', String(DEFAULT_PREPARE.nveTime))
    .option('--ftol <f>', 'quench tolerance on the largest force component (ε/λ)', String(DEFAULT_PREPARE.ftol))
    .option('--dt <dt>', `NVE time step (default min(${DEFAULT_PREPARE.dtMax}, ${DEFAULT_PREPARE.dtFactor}/(Q·sqrt(T0))))`)
    .option('--max-cg-iterations <n>', 'iteration limit of the quench', String(DEFAULT_PREPARE.maxCgIterations))
    .option('--relax-pressure', 'relax each sample\'s box volume to p = 0 after the quench (|p|/K < 1e-6)')
    .option('--json', 'print the definition as one JSON object on stdout')
    .action((dir: string, o: InitOptions) => {
      const def = defineCampaign({
        Q: parseList('--q', o.q).map((q) => parseNumber('--q', q)),
        N: parseInteger('--n', o.n),
        samples: parseInteger('--samples', o.samples),
        seed: parseInteger('--seed', o.seed),
        density: o.density,
        measure: parseMeasure(o.measure),
        modes: parseInteger('--modes', o.modes),
        nqle: parseInteger('--nqle', o.nqle),
        protocol: {
          t0: parseNumber('--t0', o.t0), nveTime: parseNumber('--nve-time', o.nveTime), ftol: parseNumber('--ftol', o.ftol),
          ...(o.dt === undefined ? {} : { dt: parseNumber('--dt', o.dt) }),
          maxCgIterations: parseInteger('--max-cg-iterations', o.maxCgIterations),
          relaxPressureTol: o.relaxPressure ? 1e-6 : 0,
        },
        createdBy: `qglass ${VERSION}`,
      });
      const { created } = initCampaign(dir, def);
      if (o.json) process.stdout.write(JSON.stringify(def) + '\n');
      else {
        process.stdout.write(`${created ? 'created' : 'unchanged (identical definition)'}: ${dir}/campaign.json\n${describe(def)}\n`);
        process.stdout.write(`next: qglass campaign run ${dir}\n`);
      }
    });

  campaign
    .command('run')
    .description('compute the pending samples on worker threads; resumes any interrupted run')
    .addHelpText('after', '\nExample:\n  $ qglass campaign run runs/nu --workers 8\n')
    .argument('<dir>', 'campaign directory')
    .option('--workers <k>', 'worker threads (default: all cores)')
    .option('--shard <i/n>', 'run only shard i of n (default under a Slurm job array: the array task)')
    .option('--retries <r>', 'attempt a failed sample again while it has failed at most r times (also failures of earlier runs)', '0')
    .option('--verify <how>', 'check of finished samples\' artefacts at start: checksum (size + SHA-256) or size', 'checksum')
    .option('--json', 'print the run summary as one JSON object on stdout')
    .action(async (dir: string, o: { workers?: string; shard?: string; retries: string; verify: string; json?: boolean }) => {
      if (o.verify !== 'checksum' && o.verify !== 'size') throw new UserError(`--verify must be checksum or size; got '${o.verify}'`);
      const shard = o.shard !== undefined ? parseShard(o.shard) : shardFromSlurm(process.env);
      const controller = new AbortController();
      let signals = 0;
      const onSignal = (sig: NodeJS.Signals) => {
        if (++signals > 1) process.exit(sig === 'SIGINT' ? 130 : 143);
        process.stderr.write(`\nqglass: ${sig}: stopping; samples in progress go back to pending (again to quit at once)\n`);
        controller.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const display = createRunDisplay();
      let summary: RunSummary;
      try {
        summary = await runCampaign(dir, {
          workers: o.workers === undefined ? undefined : parseInteger('--workers', o.workers),
          shard,
          retries: parseInteger('--retries', o.retries),
          verify: o.verify,
          signal: controller.signal,
          onEvent: display.event,
        });
      } finally {
        display.stop();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      if (o.json) process.stdout.write(JSON.stringify(summary) + '\n');
      else process.stderr.write(summaryText(summary) + '\n');
      if (summary.aborted) process.exitCode = 130;
    });

  campaign
    .command('status')
    .description('samples planned, done, failed, running per Q (over all catalogs, merged or not)')
    .addHelpText('after', '\nExample:\n  $ qglass campaign status runs/nu --json\n')
    .argument('<dir>', 'campaign directory')
    .option('--json', 'print one JSON object on stdout')
    .action((dir: string, o: { json?: boolean }) => {
      const status = campaignStatus(dir);
      process.stdout.write(o.json ? JSON.stringify(status) + '\n' : statusText(status));
    });

  campaign
    .command('merge')
    .description('unite the shard catalogs into catalog.sqlite (idempotent)')
    .addHelpText('after', '\nExample:\n  $ qglass campaign merge runs/nu\n')
    .argument('<dir>', 'campaign directory')
    .option('--json', 'print one JSON object on stdout')
    .action((dir: string, o: { json?: boolean }) => {
      const m = mergeShards(dir);
      if (o.json) { process.stdout.write(JSON.stringify(m) + '\n'); return; }
      for (const s of m.shards) {
        process.stdout.write(`${s.file}: ${s.samples} samples, ${s.imported} newer than the merged catalog${s.active ? ' (a run is still writing it)' : ''}\n`);
      }
      process.stdout.write(`merged into ${m.target}: ${m.imported} samples updated\n`);
    });

  campaign
    .command('export')
    .description('one record per sample: json (nested), csv (flat, arrays one column per element), hdf5 (a dataset per field), parquet (the csv columns)')
    .addHelpText('after', '\nExamples:\n  $ qglass campaign export runs/nu --format csv --out nu.csv\n  $ qglass campaign export runs/nu --format hdf5 --out nu.h5\n')
    .argument('<dir>', 'campaign directory')
    .requiredOption('--format <fmt>', 'json, csv, hdf5 or parquet')
    .option('--out <file>', 'write to a file instead of stdout (required for hdf5 and parquet)')
    .option('--status <list>', 'only samples with these states (e.g. done or done,failed)')
    .action(async (dir: string, o: { format: string; out?: string; status?: string }) => {
      if (!(EXPORT_FORMATS as readonly string[]).includes(o.format)) throw new UserError(`--format must be one of ${EXPORT_FORMATS.join(', ')}; got '${o.format}'`);
      const binary = o.format === 'hdf5' || o.format === 'parquet';
      if (binary && o.out === undefined) throw new UserError(`--format ${o.format} writes a binary file: give it with --out FILE`);
      if (o.out !== undefined) checkOutputPath(o.out);
      let records = loadCampaignSamples(dir);
      if (o.status !== undefined) {
        const wanted = parseList('--status', o.status);
        const bad = wanted.filter((s) => !['pending', 'running', 'done', 'failed'].includes(s));
        if (bad.length > 0) throw new UserError(`--status takes pending, running, done, failed; got '${bad.join(',')}'`);
        records = records.filter((r) => wanted.includes(r.status));
      }
      if (o.format === 'hdf5') { await writeSamplesHdf5(o.out!, records, readCampaign(dir)); return; }
      if (o.format === 'parquet') { await writeSamplesParquet(o.out!, records); return; }
      if (o.format === 'csv') {
        const omitted = csvOmittedColumns(records);
        if (omitted.length > 0) process.stderr.write(`qglass: note: arrays longer than ${CSV_MAX_ARRAY} elements are not CSV columns (${omitted.join(', ')}); they are in --format hdf5 and json\n`);
      }
      const text = o.format === 'csv' ? samplesToCsv(records) : `[\n${records.map((r) => JSON.stringify(r)).join(',\n')}\n]\n`;
      if (o.out) writeFileAtomic(o.out, text);
      else {
        // A reader that stops early (| head) is not an error.
        process.stdout.on('error', (err: NodeJS.ErrnoException) => { if (err.code === 'EPIPE') process.exit(0); else throw err; });
        process.stdout.write(text);
      }
    });

  campaign
    .command('slurm')
    .description('print an sbatch script running the campaign as a Slurm job array (one shard per array task)')
    .addHelpText('after', '\nExample:\n  $ qglass campaign slurm runs/nu --array 0-99 --cpus-per-task 4 > job.sh && sbatch job.sh\n')
    .argument('<dir>', 'campaign directory')
    .option('--array <range>', 'array task range first-last[%k] (default: 0-99, or one task per sample if fewer)')
    .option('--cpus-per-task <c>', 'cores (worker threads) per array task', '4')
    .option('--time <t>', 'time limit per array task', '24:00:00')
    .option('--mem-per-cpu <m>', 'memory per core (e.g. 2G)')
    .option('--partition <p>', 'Slurm partition')
    .option('--account <a>', 'Slurm account')
    .option('--retries <r>', 'passed on to campaign run', '0')
    .action((dir: string, o: { array?: string; cpusPerTask: string; time: string; memPerCpu?: string; partition?: string; account?: string; retries: string }) => {
      const def = readCampaign(dir);
      process.stdout.write(slurmScript(dir, def, {
        array: o.array, cpusPerTask: parseInteger('--cpus-per-task', o.cpusPerTask), time: o.time, memPerCpu: o.memPerCpu,
        partition: o.partition, account: o.account, retries: parseInteger('--retries', o.retries),
      }));
    });
}

function parseList(name: string, text: string): string[] {
  const parts = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (parts.length === 0) throw new UserError(`${name} needs at least one value; got '${text}'`);
  return parts;
}

function parseMeasure(text: string): MeasurementName[] {
  if (text.trim() === 'none') return [];
  const names = parseList('--measure', text);
  for (const n of names) {
    if (!(MEASUREMENTS as readonly string[]).includes(n)) throw new UserError(`--measure: unknown measurement '${n}' (choose from ${MEASUREMENTS.join(', ')}, or none)`);
    if (!STAGES.has(n as MeasurementName)) throw new UserError(`--measure: this qglass cannot measure '${n}' yet (available: ${[...STAGES.keys()].join(', ') || 'none'})`);
  }
  return names as MeasurementName[];
}

function describe(def: CampaignDefinition): string {
  const dens = def.density.perQ.map((d) => `${d.Q}: ${d.density}`).join(', ');
  return [
    `  Q = ${def.Q.join(', ')}; N = ${def.N}; ${def.samples} samples per Q; master seed ${def.seed}`,
    `  density (${def.density.rule}): ${dens} λ⁻³`,
    `  protocol: T0 = ${def.protocol.t0}, NVE ${def.protocol.nveTime} τ${def.protocol.dt ? `, dt = ${def.protocol.dt}` : ''}, ftol = ${def.protocol.ftol}` +
      (def.protocol.relaxPressureTol > 0 ? `, box relaxed to |p|/K < ${def.protocol.relaxPressureTol}` : ''),
    `  measure: ${def.measure.join(', ') || 'none (preparation only)'}${def.measure.includes('modes') ? `; ${def.modes.count} modes` : ''}` +
      `${def.measure.includes('nqle') ? `; ${def.nqle.count} NQLEs` : ''}`,
  ].join('\n');
}

export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '--';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(s / 3600);
  return h < 48 ? `${h}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : `${(s / 86400).toFixed(1)}d`;
}

function rateText(q: QProgress): string {
  return q.perHour === null ? '--' : q.perHour >= 100 ? q.perHour.toFixed(0) : q.perHour.toPrecision(3);
}

/** Bars per Q (done/failed, rate, ETA) on a terminal; plain log lines on stderr otherwise. */
function createRunDisplay(): { event: (e: RunEvent) => void; stop: () => void } {
  const log = (line: string) => process.stderr.write(line + '\n');
  const startLines = (e: Extract<RunEvent, { type: 'start' }>) => {
    const r = e.recovery;
    log(`campaign run ${e.runId}: shard ${e.shard}, ${e.queued} samples to compute on ${e.workers} worker thread(s); catalog ${e.catalog}`);
    if (r.staleLock) log(`  took over a stale lock: ${r.staleLock}`);
    if (r.interrupted > 0) log(`  ${r.interrupted} sample(s) interrupted by an earlier run: recomputing`);
    for (const x of r.invalidated) log(`  Q=${x.Q} #${x.index}: ${x.reason}: recomputing`);
    if (r.temporaryFilesRemoved > 0) log(`  removed ${r.temporaryFilesRemoved} half-written temporary file(s)`);
    if (e.skippedFailed > 0) log(`  ${e.skippedFailed} failed sample(s) skipped by the retry policy (--retries to try again)`);
  };
  if (!process.stderr.isTTY || process.env.CI) {
    return {
      event(e) {
        if (e.type === 'start') { startLines(e); return; }
        const q = e.progress.find((p) => p.Q === e.sample.Q)!;
        const what = e.status === 'done' ? `done in ${e.seconds.toFixed(1)} s` : `FAILED (${e.stage ?? 'worker'}): ${e.error}${e.willRetry ? ' — will retry' : ''}`;
        log(`Q=${e.sample.Q} #${e.sample.index} ${what} | Q=${q.Q}: ${q.done}/${q.planned} done, ${q.failed} failed, ${rateText(q)}/h, ETA ${formatDuration(q.etaSeconds)}`);
      },
      stop() {},
    };
  }
  const multi = new cliProgress.MultiBar(
    {
      format: ' Q={Q} {bar} {value}/{total} done, {failed} failed, {running} running | {rate}/h | ETA {eta}',
      stream: process.stderr, hideCursor: true, clearOnComplete: false, barsize: 14,
    },
    cliProgress.Presets.shades_classic,
  );
  const bars = new Map<number, cliProgress.SingleBar>();
  const payload = (q: QProgress) => ({ Q: String(q.Q).padStart(3), failed: q.failed, running: q.running, rate: rateText(q), eta: formatDuration(q.etaSeconds) });
  const update = (progress: QProgress[]) => {
    for (const q of progress) {
      let bar = bars.get(q.Q);
      if (!bar) bars.set(q.Q, (bar = multi.create(q.planned, q.done, payload(q))));
      bar.update(q.done, payload(q));
    }
  };
  return {
    event(e) {
      if (e.type === 'start') startLines(e);
      else if (e.status === 'failed') multi.log(`Q=${e.sample.Q} #${e.sample.index} FAILED (${e.stage ?? 'worker'}): ${e.error}${e.willRetry ? ' — will retry' : ''}\n`);
      update(e.progress);
    },
    stop() { multi.stop(); },
  };
}

function summaryText(s: RunSummary): string {
  const lines = [
    `${s.aborted ? 'stopped' : 'finished'} run ${s.runId} (shard ${s.shard}) in ${formatDuration(s.seconds)}: ${s.computed} sample(s) computed, ${s.failed} failure(s)` +
      (s.skippedFailed > 0 ? `, ${s.skippedFailed} failed sample(s) skipped by the retry policy` : ''),
  ];
  for (const q of s.progress) lines.push(`  Q=${q.Q}: ${q.done}/${q.planned} done, ${q.failed} failed, ${q.pending + q.running} left`);
  if (s.progress.some((q) => q.failed > 0)) lines.push('  reasons: qglass campaign status DIR (or export --status failed)');
  return lines.join('\n');
}

function statusText(s: CampaignStatus): string {
  const head = ['Q', 'planned', 'done', 'failed', 'running', 'pending'];
  const rows = [...s.perQ.map((q) => [q.Q, q.planned, q.done, q.failed, q.running, q.pending]), ['all', s.total.planned, s.total.done, s.total.failed, s.total.running, s.total.pending]];
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const fmt = (cells: Array<string | number>) => cells.map((c, i) => String(c).padStart(width[i])).join('  ');
  const lines = [`campaign ${s.dir}: N = ${s.N}, ${s.samplesPerQ} samples per Q, measure: ${s.measure.join(', ') || 'none'}`, fmt(head), ...rows.map(fmt)];
  for (const c of s.catalogs) lines.push(`catalog ${c.file} (shard ${c.shard ?? '?'})${c.activeRun ? `: run ${c.activeRun} in progress` : ''}`);
  if (s.catalogs.length === 0) lines.push('no catalog yet: qglass campaign run DIR');
  for (const f of s.failures) lines.push(`failed Q=${f.Q} #${f.index} (${f.stage ?? 'worker'}): ${f.error}`);
  return lines.join('\n') + '\n';
}
