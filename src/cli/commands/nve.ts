/**
 * `qglass nve FILE`: constant-energy dynamics of a user's configuration — Maxwell–Boltzmann
 * velocities at T with zero total momentum, velocity Verlet — and its speed (the run the LAMMPS
 * comparison times).
 */
import type { Command } from 'commander';
import { DEFAULT_DT_FACTOR, DEFAULT_DT_MAX, maxwellBoltzmannVelocities, runNve, timeStepFor } from '../../engine/dynamics.ts';
import { particleCount, systemToConfiguration } from '../../engine/system.ts';
import { writeExtendedXyz } from '../../io/xyz.ts';
import { lawLabel, lawMetadata } from '../../model/laws.ts';
import { createRandom, validateSeed } from '../../util/random.ts';
import { EXIT } from '../../util/exit-codes.ts';
import { VERSION } from '../../util/version.ts';
import { parseInteger, parseNumber, UserError } from '../errors.ts';
import { applyThreads, checkOutputPath, loadGlass, Q_OPTION, THREADS_OPTION } from '../load.ts';
import { kernelSet } from '../../util/kernels.ts';
import { createProgress } from '../progress.ts';

/** Runs longer than this many atom-steps (hours at a few million per second) need --force. */
export const MAX_ATOM_STEPS = 1e10;

interface NveCliOptions { q?: string; temperature: string; steps: string; dt?: string; seed: string; out?: string; force?: boolean; json?: boolean; threads: string }

export function registerNve(program: Command): void {
  program
    .command('nve')
    .description('NVE dynamics (velocity Verlet) of a configuration from velocities at a temperature; reports speed and energy drift')
    .argument('<file>', 'extended XYZ file')
    .option(...Q_OPTION)
    .option('--temperature <T>', 'temperature of the initial velocities (ε/k_B)', '0.8')
    .option('--steps <n>', 'number of time steps', '4000')
    .option('--dt <dt>', `time step (default: the rule of prepare, min(${DEFAULT_DT_MAX}, ${DEFAULT_DT_FACTOR}/(Q·sqrt(T))))`)
    .option('--seed <seed>', 'random seed of the velocities (integer 0 … 2^32−1)', '1')
    .option('--out <file>', 'write the final configuration (extended XYZ)')
    .option(...THREADS_OPTION)
    .option('--force', `run even beyond ${MAX_ATOM_STEPS.toExponential(0)} atom-steps`)
    .option('--json', 'print one JSON object on stdout')
    .action((file: string, o: NveCliOptions) => {
      const temperature = parseNumber('--temperature', o.temperature);
      if (!(temperature > 0)) throw new UserError(`--temperature must be > 0; got ${o.temperature}`);
      const steps = parseInteger('--steps', o.steps);
      if (!(steps >= 1)) throw new UserError(`--steps must be ≥ 1; got ${o.steps}`);
      const seed = parseInteger('--seed', o.seed);
      validateSeed(seed);
      if (o.out !== undefined) checkOutputPath(o.out);
      const kernels = kernelSet();
      const threads = applyThreads(o.threads);
      const { system, model } = loadGlass(file, { q: o.q });
      const N = particleCount(system);
      if (N * steps > MAX_ATOM_STEPS && !o.force) {
        throw new UserError(
          `${steps} steps of ${N} particles are ${(N * steps).toExponential(2)} atom-steps, hours of work: ` +
          `pass --force to run them anyway, or fewer --steps`,
        );
      }
      const Q = model.parameters.Q;
      if (o.dt === undefined && Q === undefined) throw new UserError(`the ${model.name} law has no Q for the time-step rule: give --dt`);
      const dt = o.dt === undefined ? timeStepFor(Q, temperature) : parseNumber('--dt', o.dt);
      if (!(dt > 0)) throw new UserError(`--dt must be > 0; got ${o.dt}`);

      const v = maxwellBoltzmannVelocities(N, temperature, createRandom(seed));
      const builds0 = system.neighbors.builds, searches0 = system.neighbors.searches;
      const progress = createProgress();
      progress.phase('nve', steps);
      const t0 = performance.now();
      let result;
      try {
        result = runNve(system, v, { dt, steps, onProgress: (done) => progress.update(done), progressEvery: 100 });
      } catch (err) {
        progress.stop();
        process.stderr.write(`qglass: error: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exitCode = EXIT.notConverged;
        return;
      }
      const seconds = (performance.now() - t0) / 1000;
      progress.stop();
      const out = {
        ...lawMetadata(model), N, temperature, seed, steps, dt, seconds, atomStepsPerSecond: (N * steps) / seconds,
        energyDrift: result.energyDrift, finalTemperature: result.finalTemperature,
        neighborBuilds: system.neighbors.builds - builds0, cellSearches: system.neighbors.searches - searches0, kernels, threads, out: o.out ?? null,
      };
      if (o.out !== undefined) {
        writeExtendedXyz(o.out, systemToConfiguration(system, {
          ...lawMetadata(model), source: file, temperature, seed, steps, dt, qglass: VERSION,
        }));
      }
      if (o.json) process.stdout.write(JSON.stringify(out) + '\n');
      else {
        process.stdout.write(
          `${file}: ${lawLabel(model)}, N = ${N}, ${steps} steps of dt = ${dt.toExponential(3)} from T = ${temperature} (seed ${seed})\n` +
          `  ${out.atomStepsPerSecond.toExponential(3)} atom-steps/s (${seconds.toFixed(2)} s, ${out.neighborBuilds} neighbor-list builds, ${out.cellSearches} by cell search, ${kernels} kernels, ${threads} thread${threads > 1 ? 's' : ''})\n` +
          `  energy drift ${out.energyDrift.toExponential(2)} ε/particle, final T = ${out.finalTemperature.toFixed(4)}` +
          (o.out !== undefined ? `\n  final configuration written to ${o.out}` : '') + '\n',
        );
      }
    });
}
