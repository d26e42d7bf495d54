/** `qglass prepare`: one zero-temperature glass by the protocol of SPEC.md §2. */
import type { Command } from 'commander';
import { DEFAULT_PREPARE, prepareGlass, prepareSummary, type PrepareResult, type Stage } from '../../engine/prepare.ts';
import { systemToConfiguration } from '../../engine/system.ts';
import { resolveDensity } from '../../model/presets.ts';
import { validateQ } from '../../model/q-model.ts';
import { fccCellsFor } from '../../space/lattice.ts';
import { validateSeed } from '../../util/random.ts';
import { writeExtendedXyz } from '../../io/xyz.ts';
import { writeLammpsData } from '../../io/lammps-data.ts';
import { parseInteger, parseNumber } from '../errors.ts';
import { createProgress } from '../progress.ts';
import { VERSION } from '../../util/version.ts';

interface PrepareCliOptions {
  q: string; n: string; seed: string; out: string; density: string; t0: string; nveTime: string;
  ftol: string; dt?: string; relaxPressure?: boolean; lammps?: string; json?: boolean;
}

export function registerPrepare(program: Command): void {
  program
    .command('prepare')
    .description('prepare one zero-temperature glass (FCC start, overlap removal, NVE at T0, CG quench)')
    .requiredOption('--q <Q>', 'repulsive stiffness Q (> 6)')
    .requiredOption('--n <N>', 'number of particles, 4·k³ (e.g. 2048, 10976)')
    .option('--seed <seed>', 'random seed (integer 0 … 2^32−1)', '1')
    .option('--out <file>', 'output extended XYZ file', 'glass.xyz')
    .option('--density <rho>', 'zero-pressure | paper | a number (λ⁻³)', 'zero-pressure')
    .option('--t0 <T>', 'initial temperature of the NVE run (ε/k_B)', String(DEFAULT_PREPARE.t0))
    .option('--nve-time <t>', 'NVE duration (τ)', String(DEFAULT_PREPARE.nveTime))
    .option('--ftol <f>', 'quench tolerance on the largest force component (ε/λ)', String(DEFAULT_PREPARE.ftol))
    .option('--dt <dt>', `NVE time step (default min(${DEFAULT_PREPARE.dtMax}, ${DEFAULT_PREPARE.dtFactor}/(Q·sqrt(T0))))`)
    .option('--relax-pressure', 'relax the box volume to p = 0 after the quench (|p|/K < 1e-6)')
    .option('--lammps <file>', 'also write a LAMMPS data file (atom_style atomic)')
    .option('--json', 'print one JSON object on stdout')
    .action((o: PrepareCliOptions) => {
      const Q = parseNumber('--q', o.q);
      validateQ(Q);
      const N = parseInteger('--n', o.n);
      fccCellsFor(N);
      const seed = parseInteger('--seed', o.seed);
      validateSeed(seed);
      const { density, mode } = resolveDensity(o.density, Q);
      const progress = createProgress({ quiet: false });
      let current: Stage | null = null;
      const result = prepareGlass(
        {
          ...DEFAULT_PREPARE, Q, N, density, seed,
          t0: parseNumber('--t0', o.t0), nveTime: parseNumber('--nve-time', o.nveTime), ftol: parseNumber('--ftol', o.ftol),
          dt: o.dt === undefined ? undefined : parseNumber('--dt', o.dt),
          relaxPressureTol: o.relaxPressure ? 1e-6 : 0,
        },
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
    Q: s.Q, density: s.finalDensity, densityMode, seed: s.seed, t0: r.options.t0, nveTime: r.options.nveTime, dt: r.dt,
    ftol: r.options.ftol, energyPerParticle: s.energyPerParticle, pressure: s.pressure, maxForce: s.maxForce,
    converged: s.converged, qglass: VERSION,
  };
}

function printSummary(s: ReturnType<typeof prepareSummary>, out: string): void {
  const lines = [
    `glass written to ${out}`,
    `  Q = ${s.Q}, N = ${s.N}, density = ${s.finalDensity.toFixed(6)} λ⁻³ (${s.densityMode}), seed = ${s.seed}`,
    `  energy/N = ${s.energyPerParticle.toFixed(10)} ε, pressure = ${s.pressure.toExponential(6)} ε/λ³`,
    `  max |F| = ${s.maxForce.toExponential(3)} (${s.converged ? 'converged' : 'NOT converged'}) after ${s.minimizerIterations} CG iterations`,
    `  NVE: ${s.mdSteps} steps of dt = ${s.dt.toExponential(3)}, energy drift ${s.energyDrift.toExponential(2)} ε/particle, final T = ${s.nveFinalTemperature.toFixed(3)}`,
    `  time: overlap ${s.timings.overlap.toFixed(2)} s, NVE ${s.timings.nve.toFixed(2)} s, quench ${s.timings.quench.toFixed(2)} s` +
      (s.relax ? `, box relaxation ${s.timings.relax.toFixed(2)} s` : ''),
  ];
  process.stdout.write(lines.join('\n') + '\n');
}


