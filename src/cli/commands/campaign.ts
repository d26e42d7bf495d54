/**
 * `qglass campaign init|run|status|plan|merge|export|slurm`: ensembles of samples in a directory with a
 * resumable, shardable SQLite catalog (src/ensemble).
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { DEFAULT_PREPARE } from '../../engine/prepare.ts';
import { DEFAULT_MODE_COUNT } from '../../measure/modes.ts';
import { DEFAULT_NQLE } from '../../measure/nqle.ts';
import {
  ARTEFACT_KINDS, campaignJson, campaignModel, controlAxis, controlValues, DEFAULT_AQS, DEFAULT_MEASUREMENTS, defineCampaign, initCampaign, MEASUREMENTS, pointLabel, readCampaign,
  type CampaignDefinition, type CampaignInput, type ControlAxis, type MeasurementName,
} from '../../ensemble/campaign.ts';
import {
  campaignStatus, CSV_MAX_ARRAY, csvOmittedColumns, EXPORT_FORMATS, exportedRecords, loadCampaignSamples, samplesToCsv, writeSamplesHdf5, writeSamplesParquet,
  type CampaignStatus,
} from '../../ensemble/export.ts';
import { LAW_NAMES } from '../../model/laws.ts';
import { STAGES } from '../../ensemble/pipeline.ts';
import { runCampaign, type QProgress, type RunEvent, type RunSummary } from '../../ensemble/runner.ts';
import { expectedSampleWork, FIXED_EVALUATIONS, measuredSecondsPerWork, parseShard, shardFromSlurm, shardPlan } from '../../ensemble/shard.ts';
import { damagedSamples, damageWarning, parseArtefactVerify } from '../../ensemble/verify.ts';
import { parseSlurmTime, slurmScript, suggestArraySize } from '../../ensemble/slurm.ts';
import { mergeShards, unitedSamples } from '../../ensemble/merge.ts';
import { parseArtefactKinds, pruneCampaign } from '../../ensemble/prune.ts';
import { parseInteger, parseNumber, UserError } from '../errors.ts';
import { VERSION } from '../../util/version.ts';
import { signalExitCode } from '../../util/exit-codes.ts';
import { writeFileAtomic } from '../../io/atomic-write.ts';
import { formatEstimate } from '../../report/number-format.ts';
import { checkOutputDirectory, checkOutputPath } from '../../io/output-path.ts';
import { LIMITS } from '../../model/limits.ts';

interface InitOptions {
  model: string; q?: string; pressure?: string; n: string; samples: string; seed: string; measure: string; modes: string; nqle: string; density?: string;
  aqsMaxStrain: string; aqsStep: string;
  t0?: string; nveTime?: string; ftol?: string; dt?: string; maxCgIterations?: string; relaxPressure?: boolean; json?: boolean; force?: boolean;
}

/** The glass protocol's options as given; none given (all defaults) is undefined, so soft-sphere campaigns can refuse them. */
function protocolOptions(o: InitOptions): CampaignInput['protocol'] {
  const given = [o.t0, o.nveTime, o.ftol, o.dt, o.maxCgIterations, o.relaxPressure].some((v) => v !== undefined);
  if (!given) return undefined;
  return {
    ...(o.t0 === undefined ? {} : { t0: parseNumber('--t0', o.t0) }),
    ...(o.nveTime === undefined ? {} : { nveTime: parseNumber('--nve-time', o.nveTime) }),
    ...(o.ftol === undefined ? {} : { ftol: parseNumber('--ftol', o.ftol) }),
    ...(o.dt === undefined ? {} : { dt: parseNumber('--dt', o.dt) }),
    ...(o.maxCgIterations === undefined ? {} : { maxCgIterations: parseInteger('--max-cg-iterations', o.maxCgIterations) }),
    ...(o.relaxPressure ? { relaxPressureTol: 1e-6 } : {}),
  };
}

export function registerCampaign(program: Command): void {
  const campaign = program
    .command('campaign')
    .description('ensembles of samples: define, run (all cores, resumable, shardable), inspect, merge, export')
    .addHelpText('after', '\nExample:\n  $ qglass campaign init runs/nu --q 10,240 --n 2048 --samples 100 --seed 1 && qglass campaign run runs/nu\n');

  campaign
    .command('init')
    .description('create a campaign directory holding its definition (campaign.json)')
    .addHelpText('after', '\nExamples:\n  $ qglass campaign init runs/nu --q 10,240 --n 2048 --samples 100 --seed 1 --measure elastic,modes\n' +
      '  $ qglass campaign init runs/harmonic --model harmonic --pressure 1e-1,3e-2,1e-2,3e-3,1e-3 --n 1024 --samples 20\n')
    .argument('<dir>', 'campaign directory')
    .option('--model <law>', `pair law: ${LAW_NAMES.join(' | ')} (the Q-models are prepared at a density, soft spheres at a target pressure)`, 'q-model')
    .option('--q <list>', 'Q values, comma-separated (e.g. 10,20,40,80,160,240): the points of a q-model or repulsive-q campaign')
    .option('--pressure <list>', 'target pressures (ε/σ³), comma-separated (e.g. 1e-1,1e-2,1e-3): the points of a harmonic or hertzian campaign')
    .requiredOption('--n <N>', 'particles per sample: 4·k³ for glasses (e.g. 2048, 10976), any even N ≥ 64 for packings')
    .requiredOption('--samples <S>', 'samples per point')
    .option('--seed <seed>', 'master seed; sample seeds derive from (seed, point, index)', '1')
    .option('--measure <list>', `measurements after preparation, comma-separated from ${MEASUREMENTS.join(',')}, or none`, DEFAULT_MEASUREMENTS.join(','))
    .option('--aqs-max-strain <g>', 'aqs: final shear strain', String(DEFAULT_AQS.maxStrain))
    .option('--aqs-step <dg>', 'aqs: strain step', String(DEFAULT_AQS.step))
    .option('--modes <k>', 'number of lowest vibrational modes per sample', String(DEFAULT_MODE_COUNT))
    .option('--nqle <k>', 'number of softest NQLEs per sample', String(DEFAULT_NQLE.count))
    .option('--density <rule>', 'Q-models: zero-pressure (q-model default) | paper | q-model-zero-pressure (repulsive-q default: the Q-model\'s densities) | a number (λ⁻³) | per-Q list Q:rho,Q:rho')
    .option('--t0 <T>', `initial temperature of the NVE run (ε/k_B; default ${DEFAULT_PREPARE.t0})`)
    .option('--nve-time <t>', `NVE duration (τ; default ${DEFAULT_PREPARE.nveTime})`)
    .option('--ftol <f>', `quench tolerance on the largest force component (ε/λ; default ${DEFAULT_PREPARE.ftol})`)
    .option('--dt <dt>', `NVE time step (default min(${DEFAULT_PREPARE.dtMax}, ${DEFAULT_PREPARE.dtFactor}/(Q·sqrt(T0))))`)
    .option('--max-cg-iterations <n>', `iteration limit of the quench (default ${DEFAULT_PREPARE.maxCgIterations})`)
    .option('--relax-pressure', 'relax each sample\'s box volume to p = 0 after the quench (|p|/K < 1e-6)')
    .option('--force', `accept NVE runs of more than ${LIMITS.nveSteps.toLocaleString('en-US')} steps per sample`)
    .option('--json', 'print the definition as one JSON object on stdout')
    .action((dir: string, o: InitOptions) => {
      checkOutputDirectory(dir, 'campaign directory');
      if (!LAW_NAMES.includes(o.model)) throw new UserError(`--model: unknown pair law '${o.model}'; choose one of ${LAW_NAMES.join(', ')}`);
      const def = defineCampaign({
        model: o.model,
        Q: o.q === undefined ? undefined : parseList('--q', o.q).map((q) => parseNumber('--q', q)),
        pressure: o.pressure === undefined ? undefined : parseList('--pressure', o.pressure).map((p) => parseNumber('--pressure', p)),
        N: parseInteger('--n', o.n),
        samples: parseInteger('--samples', o.samples),
        seed: parseInteger('--seed', o.seed),
        density: o.density,
        measure: parseMeasure(o.measure),
        modes: parseInteger('--modes', o.modes),
        nqle: parseInteger('--nqle', o.nqle),
        aqsMaxStrain: parseNumber('--aqs-max-strain', o.aqsMaxStrain),
        aqsStep: parseNumber('--aqs-step', o.aqsStep),
        protocol: protocolOptions(o),
        createdBy: `qglass ${VERSION}`,
        force: o.force,
      });
      const { created } = initCampaign(dir, def);
      if (o.json) process.stdout.write(campaignJson(def) + '\n');
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
    .option('--verify <how>', 'check at start: checksum (artefacts\' size + SHA-256, catalog quick_check), size (artefacts\' size only), or full (checksum + the catalog\'s full integrity_check)', 'checksum')
    .option('--time-limit <t>', 'wall time the run may take (HH:MM:SS, D-HH:MM:SS or minutes): no sample starts that finished samples\' times say would end later')
    .option('--json', 'print the run summary as one JSON object on stdout')
    .action(async (dir: string, o: { workers?: string; shard?: string; retries: string; verify: string; timeLimit?: string; json?: boolean }) => {
      if (o.verify !== 'checksum' && o.verify !== 'size' && o.verify !== 'full') throw new UserError(`--verify must be checksum, size or full; got '${o.verify}'`);
      const timeLimit = o.timeLimit === undefined ? undefined : parseSlurmTime(o.timeLimit);
      const shard = o.shard !== undefined ? parseShard(o.shard) : shardFromSlurm(process.env);
      const controller = new AbortController();
      let signals = 0;
      let stopSignal: NodeJS.Signals = 'SIGINT';
      const onSignal = (sig: NodeJS.Signals) => {
        if (++signals > 1) process.exit(signalExitCode(sig));
        stopSignal = sig;
        process.stderr.write(`\nqglass: ${sig}: stopping; samples in progress go back to pending (again to quit at once)\n`);
        controller.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      process.on('SIGHUP', onSignal);
      const axis = controlAxis(readCampaign(dir));
      const display = createRunDisplay(axis);
      let summary: RunSummary;
      try {
        summary = await runCampaign(dir, {
          workers: o.workers === undefined ? undefined : parseInteger('--workers', o.workers),
          shard,
          retries: parseInteger('--retries', o.retries),
          verify: o.verify,
          timeLimit,
          signal: controller.signal,
          onEvent: display.event,
        });
      } finally {
        display.stop();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        process.off('SIGHUP', onSignal);
      }
      if (o.json) process.stdout.write(JSON.stringify(summary) + '\n');
      else process.stderr.write(summaryText(summary, axis) + '\n');
      if (summary.aborted) process.exitCode = signalExitCode(stopSignal);
    });

  campaign
    .command('status')
    .description('samples planned, done, failed, running per point (Q or pressure; over all catalogs, merged or not)')
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
    .option('--verify <how>', 'check of the samples\' artefacts: size, or full (size and SHA-256); damaged samples are named on stderr', 'size')
    .action(async (dir: string, o: { format: string; out?: string; status?: string; verify: string }) => {
      const verify = parseArtefactVerify(o.verify);
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
      for (const d of damagedSamples(dir, verify)) process.stderr.write(`qglass: warning: ${damageWarning(d)}\n`);
      const def = readCampaign(dir);
      if (o.format === 'hdf5') { await writeSamplesHdf5(o.out!, records, def); return; }
      const rows = exportedRecords(records, controlAxis(def));
      if (o.format === 'parquet') { await writeSamplesParquet(o.out!, rows); return; }
      if (o.format === 'csv') {
        const omitted = csvOmittedColumns(rows);
        if (omitted.length > 0) process.stderr.write(`qglass: note: arrays longer than ${CSV_MAX_ARRAY} elements are not CSV columns (${omitted.join(', ')}); they are in --format hdf5 and json\n`);
      }
      const text = o.format === 'csv' ? samplesToCsv(rows) : `[\n${rows.map((r) => JSON.stringify(r)).join(',\n')}\n]\n`;
      if (o.out) writeFileAtomic(o.out, text);
      else process.stdout.write(text);
    });

  campaign
    .command('prune')
    .description('drop bulky artefacts (e.g. mode vectors) from finished samples: files and records go, numbers stay, no sample is recomputed for them')
    .addHelpText('after', '\nExample:\n  $ qglass campaign prune runs/nu --artefacts modes,nqle --keep 1\n')
    .argument('<dir>', 'campaign directory')
    .requiredOption('--artefacts <kinds>', `kinds to drop: ${ARTEFACT_KINDS.join(', ')}`)
    .option('--keep <k>', 'the first k samples of each point keep theirs', '0')
    .option('--dry-run', 'say what would be removed, change nothing')
    .option('--json', 'print one JSON object on stdout')
    .action((dir: string, o: { artefacts: string; keep: string; dryRun?: boolean; json?: boolean }) => {
      const kinds = parseArtefactKinds(parseList('--artefacts', o.artefacts));
      const p = pruneCampaign(dir, kinds, { keep: parseInteger('--keep', o.keep), dryRun: o.dryRun });
      if (o.json) { process.stdout.write(JSON.stringify(p) + '\n'); return; }
      const mib = (p.bytes / 2 ** 20).toFixed(1);
      process.stdout.write(`${p.dryRun ? 'would remove' : 'removed'} ${p.files} file(s) of ${p.kinds.join(', ')}, ${mib} MiB` +
        `${p.keep > 0 ? ` (the first ${p.keep} sample(s) of each point keep theirs)` : ''}\n`);
    });

  campaign
    .command('plan')
    .description('how `--shard i/n` divides the samples: per shard the sample count, modelled work and mix of points')
    .argument('<dir>', 'campaign directory')
    .requiredOption('--shards <n>', 'number of shards (array tasks)')
    .option('--json', 'print {shards: [{index, samples, expectedWork, perQ: {Q: count}}]} on stdout')
    .action((dir: string, o: { shards: string; json?: boolean }) => {
      const def = readCampaign(dir);
      const plan = shardPlan(def, parseInteger('--shards', o.shards));
      if (o.json) { process.stdout.write(JSON.stringify(plan) + '\n'); return; }
      const mean = plan.shards.reduce((t, x) => t + x.expectedWork, 0) / plan.shards.length;
      const model = controlAxis(def) === 'Q' ? `NVE steps nveTime/dt(Q) + ${FIXED_EVALUATIONS}` : `${FIXED_EVALUATIONS}·max(1, √(1e-2/p))`;
      const lines = [`${plan.shards.length} shard(s); expected work relative to the mean (model: ${model} force evaluations, × N)`];
      for (const x of plan.shards) {
        lines.push(`  shard ${x.index}: ${x.samples} samples, work ${(x.expectedWork / mean).toFixed(3)}, ${controlAxis(def)} mix ${Object.entries(x.perQ).map(([Q, c]) => `${Q}:${c}`).join(' ')}`);
      }
      process.stdout.write(lines.join('\n') + '\n');
    });

  campaign
    .command('slurm')
    .description('print an sbatch script running the campaign as a Slurm job array (one shard per array task)')
    .addHelpText('after', '\nExample:\n  $ qglass campaign slurm runs/nu --array 0-99 --cpus-per-task 4 > job.sh && sbatch job.sh\n')
    .argument('<dir>', 'campaign directory')
    .option('--array <range>', 'array task range first-last[%k] (default: from --target-time, else 0-99 or one task per sample if fewer)')
    .option('--target-time <t>', 'wall time each array task should take (HH:MM:SS); sizes the array from the measured time of finished samples')
    .option('--cpus-per-task <c>', 'cores (worker threads) per array task', '4')
    .option('--time <t>', 'time limit per array task', '24:00:00')
    .option('--mem-per-cpu <m>', 'memory per core (e.g. 2G)')
    .option('--partition <p>', 'Slurm partition')
    .option('--account <a>', 'Slurm account')
    .option('--retries <r>', 'passed on to campaign run', '0')
    .action((dir: string, o: { array?: string; targetTime?: string; cpusPerTask: string; time: string; memPerCpu?: string; partition?: string; account?: string; retries: string }) => {
      const def = readCampaign(dir);
      const cpusPerTask = parseInteger('--cpus-per-task', o.cpusPerTask);
      let array = o.array;
      if (o.targetTime !== undefined) {
        const target = parseSlurmTime(o.targetTime);
        const united = unitedSamples(resolve(dir), def);
        const rate = measuredSecondsPerWork(def, united.filter((u) => u.sample.status === 'done').map((u) => u.sample));
        if (rate === null) {
          throw new UserError(`--target-time needs the time of a few finished samples to size the array: run some first (e.g. qglass campaign run ${dir} --shard 0/${def.samples}), or give --array`);
        }
        const remaining = united.filter((u) => u.sample.status !== 'done').reduce((t, u) => t + expectedSampleWork(def, u.sample.Q), 0);
        const tasks = suggestArraySize(def, remaining, rate, target, cpusPerTask);
        process.stderr.write(`qglass: ${tasks} array task(s) of ${cpusPerTask} cores should each take about ${o.targetTime} ` +
          `(${(remaining * rate / 3600).toFixed(1)} core-hours left at the measured rate)${array ? `; using the given --array ${array}` : ''}\n`);
        array ??= `0-${tasks - 1}`;
      }
      process.stdout.write(slurmScript(dir, def, {
        array, cpusPerTask, time: o.time, memPerCpu: o.memPerCpu,
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
  const axis = controlAxis(def);
  const how = def.protocol && def.density
    ? [
      `  density (${def.density.rule}): ${def.density.perQ.map((d) => `${d.Q}: ${d.density}`).join(', ')} λ⁻³`,
      `  protocol: T0 = ${def.protocol.t0}, NVE ${def.protocol.nveTime} τ${def.protocol.dt ? `, dt = ${def.protocol.dt}` : ''}, ftol = ${def.protocol.ftol}` +
        (def.protocol.relaxPressureTol > 0 ? `, box relaxed to |p|/K < ${def.protocol.relaxPressureTol}` : ''),
    ]
    : [`  packings at the target pressure (to ${def.packing!.pressureTolerance} relative), rattlers excluded from the mechanical measurements`];
  return [
    `  ${campaignModel(def)}: ${axis === 'Q' ? 'Q' : 'p'} = ${controlValues(def).join(', ')}; N = ${def.N}; ${def.samples} samples per ${axis === 'Q' ? 'Q' : 'pressure'}; master seed ${def.seed}`,
    ...how,
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

/** Bars per point (done/failed, rate, ETA) on a terminal; plain log lines on stderr otherwise. */
function createRunDisplay(axis: ControlAxis): { event: (e: RunEvent) => void; stop: () => void } {
  const log = (line: string) => process.stderr.write(line + '\n');
  const at = (Q: number) => pointLabel(axis, Q);
  const startLines = (e: Extract<RunEvent, { type: 'start' }>) => {
    const r = e.recovery;
    log(`campaign run ${e.runId}: shard ${e.shard}, ${e.queued} samples to compute on ${e.workers} worker thread(s); catalog ${e.catalog}`);
    if (r.staleLock) log(`  took over a stale lock: ${r.staleLock}`);
    if (r.interrupted > 0) log(`  ${r.interrupted} sample(s) interrupted by an earlier run: recomputing`);
    for (const x of r.invalidated) log(`  ${at(x.Q)} #${x.index}: ${x.reason}: recomputing`);
    if (r.temporaryFilesRemoved > 0) log(`  removed ${r.temporaryFilesRemoved} half-written temporary file(s)`);
    if (r.imported > 0) log(`  ${r.imported} sample(s) already done in another catalog of the campaign: copied, not recomputed`);
    if (e.skippedFailed > 0) log(`  ${e.skippedFailed} failed sample(s) skipped by the retry policy (--retries to try again)`);
  };
  if (!process.stderr.isTTY || process.env.CI) {
    return {
      event(e) {
        if (e.type === 'start') { startLines(e); return; }
        const q = e.progress.find((p) => p.Q === e.sample.Q)!;
        const what = e.status === 'done' ? `done in ${e.seconds.toFixed(1)} s` : `FAILED (${e.stage ?? 'worker'}): ${e.error}${e.willRetry ? ' — will retry' : ''}`;
        log(`${at(e.sample.Q)} #${e.sample.index} ${what} | ${at(q.Q)}: ${q.done}/${q.planned} done, ${q.failed} failed, ${rateText(q)}/h, ETA ${formatDuration(q.etaSeconds)}`);
      },
      stop() {},
    };
  }
  const multi = new cliProgress.MultiBar(
    {
      format: ' {point} {bar} {value}/{total} done, {failed} failed, {running} running | {rate}/h | ETA {eta}',
      stream: process.stderr, hideCursor: true, clearOnComplete: false, barsize: 14,
    },
    cliProgress.Presets.shades_classic,
  );
  const bars = new Map<number, cliProgress.SingleBar>();
  const payload = (q: QProgress) => ({ point: at(q.Q).padStart(5), failed: q.failed, running: q.running, rate: rateText(q), eta: formatDuration(q.etaSeconds) });
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
      else if (e.status === 'failed') multi.log(`${at(e.sample.Q)} #${e.sample.index} FAILED (${e.stage ?? 'worker'}): ${e.error}${e.willRetry ? ' — will retry' : ''}\n`);
      update(e.progress);
    },
    stop() { multi.stop(); },
  };
}

function summaryText(s: RunSummary, axis: ControlAxis): string {
  const lines = [
    `${s.aborted ? 'stopped' : 'finished'} run ${s.runId} (shard ${s.shard}) in ${formatDuration(s.seconds)}: ${s.computed} sample(s) computed, ${s.failed} failure(s)` +
      (s.importedDuringRun > 0 ? `, ${s.importedDuringRun} finished meanwhile by another run (copied)` : '') +
      (s.skippedFailed > 0 ? `, ${s.skippedFailed} failed sample(s) skipped by the retry policy` : '') +
      (s.leftForTimeLimit > 0 ? `, ${s.leftForTimeLimit} left pending: not expected to finish within --time-limit` : ''),
  ];
  for (const q of s.progress) lines.push(`  ${pointLabel(axis, q.Q)}: ${q.done}/${q.planned} done, ${q.failed} failed, ${q.pending + q.running} left`);
  if (s.progress.some((q) => q.failed > 0)) lines.push('  reasons: qglass campaign status DIR (or export --status failed)');
  return lines.join('\n');
}

function statusText(s: CampaignStatus): string {
  const moduli = s.perQ.some((q) => q.elastic);
  const pm = (e: [number, number] | undefined) => (e ? formatEstimate({ value: e[0], error: e[1] }) : '');
  const head = [s.axis === 'Q' ? 'Q' : 'p', 'planned', 'done', 'failed', 'running', 'pending', ...(moduli ? ['p/K (mean ± SE)', 'ν (mean ± SE)'] : [])];
  const rows = [
    ...s.perQ.map((q) => [q.Q, q.planned, q.done, q.failed, q.running, q.pending, ...(moduli ? [pm(q.elastic?.pOverK), pm(q.elastic?.nu)] : [])]),
    ['all', s.total.planned, s.total.done, s.total.failed, s.total.running, s.total.pending, ...(moduli ? ['', ''] : [])],
  ];
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const fmt = (cells: Array<string | number>) => cells.map((c, i) => String(c).padStart(width[i])).join('  ');
  const lines = [`campaign ${s.dir}: ${s.model}, N = ${s.N}, ${s.samplesPerQ} samples per ${s.axis === 'Q' ? 'Q' : 'pressure'}, measure: ${s.measure.join(', ') || 'none'}`, fmt(head), ...rows.map(fmt)];
  for (const c of s.catalogs) {
    const mix = Object.entries(c.perQ).map(([Q, m]) => `${Q}:${m.done}/${m.samples}`).join(' ');
    lines.push(`catalog ${c.file} (shard ${c.shard ?? '?'})${c.activeRun ? `: run ${c.activeRun} in progress` : ''}; ${head[0]} mix (done/recorded) ${mix}`);
  }
  if (s.catalogs.length === 0) lines.push('no catalog yet: qglass campaign run DIR');
  for (const f of s.failures) lines.push(`failed ${pointLabel(s.axis, f.Q)} #${f.index} (${f.stage ?? 'worker'}): ${f.error}`);
  return lines.join('\n') + '\n';
}
