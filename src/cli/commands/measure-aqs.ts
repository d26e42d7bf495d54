/**
 * `qglass measure aqs FILE`: athermal quasistatic simple shear (src/measure/aqs.ts) — the
 * stress–strain path, plastic events, yield and localisation, and how the first event meets the
 * soft spots of the unstrained glass.
 *
 * --out DIR writes path.csv, events.csv, event-fields.npy (events, N, 3), d2min.npy (N,),
 * profile.csv and aqs.json (the --json record).
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { writeFileAtomic } from '../../io/atomic-write.ts';
import { formatNpy } from '../../io/npy.ts';
import { AQS_DEFAULTS, aqsEventsCsv, aqsPathCsv, isShearPlane, profileRecord, runAqs, type AqsResult } from '../../measure/aqs.ts';
import { UnrelaxedConfigurationError } from '../../measure/elastic.ts';
import { measureModes } from '../../measure/modes.ts';
import { findNqles } from '../../measure/nqle.ts';
import { EXIT } from '../../util/exit-codes.ts';
import { lawLabel, lawMetadata } from '../../model/laws.ts';
import { parseInteger, parseNumber, UserError } from '../errors.ts';
import { loadGlass, Q_OPTION } from '../load.ts';
import { createProgress } from '../progress.ts';

interface AqsCliOptions {
  plane: string; maxStrain: string; step: string; ftol: string; moduliEvery: string; refineDepth: string;
  moveThreshold: string; softSpots: boolean; q?: string; out?: string; json?: boolean;
}

/** Soft spots compared with the first event: the softest NQLEs and lowest harmonic modes. */
const SOFT_SPOT_COUNTS = { nqle: 5, modes: 10 };

export function registerMeasureAqs(measure: Command): void {
  measure
    .command('aqs')
    .description('athermal quasistatic simple shear: stress–strain path, plastic events, yield, D²_min localisation, first event vs soft spots')
    .argument('<file>', 'extended XYZ file of a quenched configuration')
    .option('--plane <ab>', 'shear plane: xy (x += γ·y), xz (x += γ·z) or yz (y += γ·z)', 'xy')
    .option('--max-strain <g>', 'final strain γ', '0.25')
    .option('--step <dg>', 'strain step Δγ', '1e-4')
    .option('--ftol <f>', 'every state is relaxed to max |F| below this', String(AQS_DEFAULTS.ftol))
    .option('--moduli-every <k>', 'linear-response shear modulus every k steps (0: at γ = 0 only)', String(AQS_DEFAULTS.moduliEvery))
    .option('--refine-depth <d>', 'bisections of the step near each plastic event (0: none)', String(AQS_DEFAULTS.refineDepth))
    .option('--move-threshold <u>', 'a particle moved in an event if its non-affine displacement exceeds this (λ)', String(AQS_DEFAULTS.moveThreshold))
    .option('--no-soft-spots', 'skip the NQLEs and harmonic modes of the unstrained glass (no first-event overlaps)')
    .option(...Q_OPTION)
    .option('--out <dir>', 'write path.csv, events.csv, event-fields.npy, d2min.npy, profile.csv and aqs.json into DIR')
    .option('--json', 'print one JSON object on stdout')
    .action((file: string, o: AqsCliOptions) => {
      if (!isShearPlane(o.plane)) throw new UserError(`--plane must be xy, xz or yz; got '${o.plane}'`);
      const plane = o.plane;
      const maxStrain = parseNumber('--max-strain', o.maxStrain);
      const step = parseNumber('--step', o.step);
      const ftol = parseNumber('--ftol', o.ftol);
      const moduliEvery = parseInteger('--moduli-every', o.moduliEvery);
      const refineDepth = parseInteger('--refine-depth', o.refineDepth);
      const moveThreshold = parseNumber('--move-threshold', o.moveThreshold);
      if (!(step > 0)) throw new UserError(`--step must be a positive strain increment; got ${o.step}`);
      if (!(maxStrain > 0)) throw new UserError(`--max-strain must be positive; got ${o.maxStrain}`);
      if (maxStrain > 0.5) throw new UserError(`--max-strain ${o.maxStrain} tilts the box beyond half its height; use ≤ 0.5`);
      if (step > maxStrain) throw new UserError(`--step ${o.step} exceeds --max-strain ${o.maxStrain}`);
      if (!(ftol > 0)) throw new UserError(`--ftol must be positive; got ${o.ftol}`);
      if (moduliEvery < 0) throw new UserError(`--moduli-every must be ≥ 0; got ${o.moduliEvery}`);
      if (refineDepth < 0 || refineDepth > 30) throw new UserError(`--refine-depth must be in 0..30; got ${o.refineDepth}`);
      if (!(moveThreshold > 0)) throw new UserError(`--move-threshold must be positive; got ${o.moveThreshold}`);
      if (o.out && existsSync(o.out) && !statSync(o.out).isDirectory()) throw new UserError(`--out ${o.out} exists and is not a directory`);
      const { system, model } = loadGlass(file, { q: o.q });
      const N = system.species.length;

      const progress = createProgress({ quiet: o.json });
      let r: AqsResult;
      try {
        let softSpots: { nqle: Float64Array[]; modes: Float64Array[] } | undefined;
        if (o.softSpots) {
          progress.phase('soft spots', 2);
          const modes = measureModes(system, { count: SOFT_SPOT_COUNTS.modes });
          progress.update(1);
          const nqles = findNqles(system, { count: SOFT_SPOT_COUNTS.nqle });
          progress.update(2);
          const dim = 3 * N;
          softSpots = {
            nqle: nqles.modes.map((m) => m.vector),
            modes: Array.from({ length: modes.count }, (_, k) => modes.vectors.slice(k * dim, (k + 1) * dim)),
          };
        }
        const grid = Math.ceil(maxStrain / step - 1e-9);
        progress.phase('shear', grid);
        r = runAqs(system, {
          plane, maxStrain, step, ftol, moduliEvery, refineDepth, moveThreshold, softSpots,
          onState: (p) => progress.update(Math.min(grid, Math.floor(p.gamma / step + 1e-9))),
        });
      } catch (err) {
        // not at a minimum, or a configuration the engine cannot take: bad input, named by file
        if (err instanceof UnrelaxedConfigurationError || err instanceof RangeError) throw new UserError(`${file}: ${err.message}`);
        throw err;
      } finally {
        progress.stop();
      }
      const record = aqsRecord(r, { file, ...lawMetadata(model), maxStrain, step, ftol });
      if (o.out) writeAqsOutputs(o.out, r, record);
      if (!r.converged) {
        process.stderr.write(`qglass: warning: the path ends at γ = ${r.path[r.path.length - 1].gamma}: ${r.failure}\n`);
        process.exitCode = EXIT.notConverged;
      }
      if (o.json) {
        process.stdout.write(JSON.stringify(record) + '\n');
        return;
      }
      const first = r.firstEvent;
      const f = (x: number | null | undefined, d = 5) => (x === null || x === undefined ? '—' : x.toFixed(d));
      process.stdout.write(
        `${file}: ${lawLabel(model)}, N = ${N}; simple shear ${plane} to γ = ${r.path[r.path.length - 1].gamma} in steps of ${step} (ftol ${ftol})\n` +
        `  G₀ = ${f(r.G0)} (μ_${plane} = ${f(r.moduli[0].mu)})   σ_max = ${f(r.sigmaMax)} at γ = ${f(r.yieldStrain)}   ` +
        `σ_flow = ${f(r.flowStress)}   σ_max/σ_flow = ${f(r.overshootRatio, 4)}\n` +
        `  plastic events: ${r.events.length}` +
        (r.events.length > 0 ? ` (first at γ = ${f(r.events[0].gamma, 7)}, Δσ = ${f(r.events[0].stressDrop)}, ΔE = ${f(r.events[0].energyDrop)})` : '') + '\n' +
        (first?.approach
          ? `  first event: λ_min ∝ (γ_c − γ)^${f(first.approach.exponent, 3)} over ${first.approach.points} states, γ_c = ${first.approach.gammaC.toPrecision(8)} ± ${first.approach.gammaCError.toExponential(1)}\n`
          : '') +
        (first?.softSpots
          ? `  first event vs softest NQLE: overlap ${f(first.softSpots.nqle[0], 3)}, centres ${f(first.softSpots.nqleDistance[0], 2)} λ apart; ` +
            `best over ${first.softSpots.nqle.length} NQLEs ${f(Math.max(...first.softSpots.nqle), 3)}, over ${first.softSpots.modes.length} modes ${f(Math.max(...first.softSpots.modes), 3)}\n`
          : '') +
        `  localisation index ${f(r.localisationIndex, 3)} (homogeneous flow: ${f(r.profile.shuffled, 3)}; the most strained ${f(r.profile.uniform, 2)} of the box carries ${f(r.profile.slabShare, 3)} of the D²_min)\n` +
        `  ${r.cost.steps} steps (${r.cost.predicted} predicted, ${r.cost.minimised} minimised, ${r.cost.refinementSteps} refining), ` +
        `${r.cost.forceEvaluations} force evaluations, ${r.cost.seconds.toFixed(1)} s\n` +
        (o.out ? `  written to ${o.out}/\n` : ''),
      );
    });
}

/** The --json record: path, events and the yield scalars first, then the details. */
export function aqsRecord(r: AqsResult, meta: { file: string; maxStrain: number; step: number; ftol: number } & Record<string, string | number>) {
  return {
    ...meta, plane: r.plane, N: r.N, volume: r.volume,
    path: r.path, events: r.events,
    sigmaMax: r.sigmaMax, yieldStrain: r.yieldStrain, flowStress: r.flowStress, overshootRatio: r.overshootRatio,
    localisationIndex: r.localisationIndex, G0: r.G0,
    moduli: r.moduli, firstEvent: r.firstEvent,
    profile: profileRecord(r.profile),
    tolerances: r.tolerances, converged: r.converged, failure: r.failure, cost: r.cost,
  };
}

function writeAqsOutputs(dir: string, r: AqsResult, record: ReturnType<typeof aqsRecord>): void {
  mkdirSync(dir, { recursive: true });
  const target = (name: string) => {
    const p = join(dir, name);
    if (existsSync(p) && !statSync(p).isFile()) throw new UserError(`${p} exists and is not a regular file; not overwritten`);
    return p;
  };
  writeFileAtomic(target('path.csv'), aqsPathCsv(r));
  writeFileAtomic(target('events.csv'), aqsEventsCsv(r));
  const fields = new Float64Array(r.eventFields.length * 3 * r.N);
  r.eventFields.forEach((u, k) => fields.set(u, k * 3 * r.N));
  writeFileAtomic(target('event-fields.npy'), formatNpy(fields, [r.eventFields.length, r.N, 3]));
  writeFileAtomic(target('d2min.npy'), formatNpy(r.d2min, [r.N]));
  writeFileAtomic(target('profile.csv'), ['s,mean_d2min', ...r.profile.centres.map((c, k) => `${c},${r.profile.mean[k]}`)].join('\n') + '\n');
  writeFileAtomic(target('aqs.json'), JSON.stringify(record) + '\n');
}
