/**
 * `qglass prepare`: one zero-temperature glass of the Q-model (or its repulsive variant) by the
 * preparation protocol of docs/methods.md §3 (src/engine/prepare.ts), or one soft-sphere packing
 * at a target pressure (src/engine/packing.ts).
 */
import type { Command } from 'commander';
import { DEFAULT_PREPARE, nveSchedule, prepareGlass, validatePrepareOptions, prepareSummary, type PrepareResult, type Stage } from '../../engine/prepare.ts';
import { systemToConfiguration } from '../../engine/system.ts';
import { resolveDensity } from '../../model/presets.ts';
import { validateQ } from '../../model/q-model.ts';
import { LAW_NAMES, lawMetadata, makePairLaw } from '../../model/laws.ts';
import type { PairLaw } from '../../model/pair-law.ts';
import { packingMetadata, packingSummary, preparePacking, type PackingResult } from '../../engine/packing.ts';
import { findRattlers } from '../../measure/rattlers.ts';
import { fccCellsFor } from '../../space/lattice.ts';
import { validateSeed } from '../../util/random.ts';
import { writeExtendedXyz } from '../../io/xyz.ts';
import { writeLammpsData } from '../../io/lammps-data.ts';
import { parseInteger, parseNumber, UserError } from '../errors.ts';
import { createProgress } from '../progress.ts';
import { applyThreads, THREADS_OPTION } from '../load.ts';
import { VERSION } from '../../util/version.ts';
import { checkOutputPath } from '../../io/output-path.ts';
import { checkNveSteps, LIMITS } from '../../model/limits.ts';

interface PrepareCliOptions {
  model: string; q?: string; pressure?: string; n: string; seed: string; out: string; density: string; t0: string; nveTime: string;
  ftol: string; dt?: string; relaxPressure?: boolean; lammps?: string; json?: boolean; force?: boolean; threads: string;
}

export function registerPrepare(program: Command): void {
  program
    .command('prepare')
    .description('prepare one zero-temperature glass (FCC start, overlap removal, NVE at T0, quench by L-BFGS), or a soft-sphere packing at a target pressure')
    .option('--model <law>', `pair law: ${LAW_NAMES.join(' | ')}`, 'q-model')
    .option('--q <Q>', 'repulsive stiffness Q (> 6; q-model and repulsive-q)')
    .option('--pressure <p>', 'target pressure of a soft-sphere packing (harmonic, hertzian; ε/σ³, e.g. 1e-3)')
    .requiredOption('--n <N>', 'number of particles: 4·k³ for glasses (e.g. 2048, 10976), any even N ≥ 64 for packings')
    .option('--seed <seed>', 'random seed (integer 0 … 2^32−1)', '1')
    .option('--out <file>', 'output extended XYZ file', 'glass.xyz')
    .option('--density <rho>', 'zero-pressure | paper | a number (λ⁻³)', 'zero-pressure')
    .option('--t0 <T>', 'initial temperature of the NVE run (ε/k_B)', String(DEFAULT_PREPARE.t0))
    .option('--nve-time <t>', 'NVE duration (τ)', String(DEFAULT_PREPARE.nveTime))
    .option('--ftol <f>', 'quench tolerance on the largest force component (ε/λ)', String(DEFAULT_PREPARE.ftol))
    .option('--dt <dt>', `NVE time step (default min(${DEFAULT_PREPARE.dtMax}, ${DEFAULT_PREPARE.dtFactor}/(Q·sqrt(T0))))`)
    .option('--relax-pressure', 'relax the box volume to p = 0 after the quench (|p|/K < 1e-6)')
    .option('--lammps <file>', 'also write a LAMMPS data file (atom_style atomic)')
    .option('--force', `run even if the NVE run takes more than ${LIMITS.nveSteps.toLocaleString('en-US')} steps`)
    .option(...THREADS_OPTION)
    .option('--json', 'print one JSON object on stdout')
    .addHelpText('after', '\nExamples:\n  qglass prepare --q 240 --n 2048 --seed 7 --out glass.xyz\n  qglass prepare --model harmonic --pressure 1e-3 --n 1024 --seed 7 --out packing.xyz\n')
    .action((o: PrepareCliOptions) => {
      const law = makePairLaw(o.model, { Q: o.q === undefined ? undefined : parseNumber('--q', o.q) });
      if (law.kernel.family === 'soft-sphere') return preparePackingCommand(law, o);
      if (o.pressure !== undefined) throw new UserError(`--pressure is for soft-sphere packings; the ${o.model} glass is prepared at a density (--density)`);
      const Q = law.parameters.Q;
      validateQ(Q);
      const N = parseInteger('--n', o.n);
      fccCellsFor(N);
      const seed = parseInteger('--seed', o.seed);
      validateSeed(seed);
      if (o.model === 'repulsive-q' && !Number.isFinite(Number(o.density))) {
        throw new UserError(`repulsive-q has no zero-pressure or paper density (without attraction p > 0 at every density): pass --density as a number`);
      }
      const { density, mode } = resolveDensity(o.density, Q);
      checkOutputPath(o.out, '--out');
      if (o.lammps) checkOutputPath(o.lammps, '--lammps');
      const options = {
        ...DEFAULT_PREPARE, model: o.model === 'repulsive-q' ? 'repulsive-q' as const : 'q-model' as const, Q, N, density, seed,
        t0: parseNumber('--t0', o.t0), nveTime: parseNumber('--nve-time', o.nveTime), ftol: parseNumber('--ftol', o.ftol),
        dt: o.dt === undefined ? undefined : parseNumber('--dt', o.dt),
        relaxPressureTol: o.relaxPressure ? 1e-6 : 0,
      };
      validatePrepareOptions(options);
      const { dt, steps } = nveSchedule(options);
      checkNveSteps(steps, `--q ${o.q} (dt = ${dt.toExponential(2)})`, o.force ?? false);
      applyThreads(o.threads);
      const progress = createProgress({ quiet: false });
      let current: Stage | null = null;
      const result = prepareGlass(
        options,
        ({ stage, fraction }) => {
          if (stage !== current) { progress.phase(stage, 1000); current = stage; }
          progress.update(Math.round(fraction * 1000));
        },
      );
      progress.stop();
      const summary = prepareSummary(result, mode);
      const conf = systemToConfiguration(result.system, glassMetadata(result, mode));
      writeExtendedXyz(o.out, conf);
      if (o.lammps) writeLammpsData(o.lammps, conf);
      if (!result.quench.converged) {
        process.stderr.write(`qglass: warning: the quench stopped (${result.quench.reason}) at max |F| = ${result.quench.maxForce.toExponential(3)} > ftol; the glass was written but is not converged\n`);
      }
      if (o.json) process.stdout.write(JSON.stringify({ ...summary, out: o.out }) + '\n');
      else printSummary(summary, o.out);
      if (!result.quench.converged) process.exitCode = 3;
    });
}

function glassMetadata(r: PrepareResult, densityMode: string) {
  const s = prepareSummary(r, densityMode);
  return {
    ...lawMetadata(r.system.model), density: s.finalDensity, densityMode, seed: s.seed, t0: r.options.t0, nveTime: r.options.nveTime, dt: r.dt,
    ftol: r.options.ftol, energyPerParticle: s.energyPerParticle, pressure: s.pressure, maxForce: s.maxForce,
    converged: s.converged, qglass: VERSION,
  };
}

function printSummary(s: ReturnType<typeof prepareSummary>, out: string): void {
  const lines = [
    `glass written to ${out}`,
    `  Q = ${s.Q}, N = ${s.N}, density = ${s.finalDensity.toFixed(6)} λ⁻³ (${s.densityMode}), seed = ${s.seed}`,
    `  energy/N = ${s.energyPerParticle.toFixed(10)} ε, pressure = ${s.pressure.toExponential(6)} ε/λ³`,
    `  max |F| = ${s.maxForce.toExponential(3)} (${s.converged ? 'converged' : 'NOT converged'}) after ${s.minimizerIterations} minimiser iterations`,
    `  NVE: ${s.mdSteps} steps of dt = ${s.dt.toExponential(3)}, energy drift ${s.energyDrift.toExponential(2)} ε/particle, final T = ${s.nveFinalTemperature.toFixed(3)}`,
    `  time: overlap ${s.timings.overlap.toFixed(2)} s, NVE ${s.timings.nve.toFixed(2)} s, quench ${s.timings.quench.toFixed(2)} s` +
      (s.relax ? `, box relaxation ${s.timings.relax.toFixed(2)} s` : ''),
  ];
  process.stdout.write(lines.join('\n') + '\n');
}



/** The soft-sphere branch: a packing at the target pressure, with its rattlers and contact number. */
function preparePackingCommand(law: PairLaw, o: PrepareCliOptions): void {
  if (o.pressure === undefined) throw new UserError(`a ${law.name} packing is prepared at a target pressure: pass --pressure (ε/σ³, e.g. 1e-3)`);
  if (o.q !== undefined) throw new UserError(`--q is a parameter of the Q-models; the ${law.name} law has none`);
  const pressure = parseNumber('--pressure', o.pressure);
  const N = parseInteger('--n', o.n);
  const seed = parseInteger('--seed', o.seed);
  checkOutputPath(o.out, '--out');
  applyThreads(o.threads);
  let r: PackingResult;
  try {
    r = preparePacking({ law, N, pressure, seed });
  } catch (err) {
    if (err instanceof RangeError) throw new UserError(err.message);
    throw err;
  }
  const rattlers = findRattlers(r.system);
  const N0 = r.system.species.length;
  const summary = packingSummary(r, seed, pressure, rattlers);
  writeExtendedXyz(o.out, systemToConfiguration(r.system, { ...packingMetadata(summary), qglass: VERSION }));
  if (o.lammps) process.stderr.write('qglass: warning: --lammps is written for the Q-model only; skipped\n');
  if (o.json) process.stdout.write(JSON.stringify({ ...summary, out: o.out }) + '\n');
  else {
    process.stdout.write(
      `packing written to ${o.out}\n  ${law.name}, N = ${N0}, p = ${r.pressure.toExponential(4)} (target ${pressure}), packing fraction ${r.packingFraction.toFixed(5)}\n` +
      `  ${rattlers.rattlers} rattlers, Z = ${rattlers.Z.toFixed(4)} contacts per non-rattler; max |F| = ${r.quench.maxForce.toExponential(3)} (${r.converged ? 'converged' : 'NOT converged'}), ${r.steps} volume steps, ${r.seconds.toFixed(1)} s\n`,
    );
  }
  if (!r.converged) process.exitCode = 3;
}
