/** `qglass calibrate`: the zero-pressure density of the preparation protocol for one (Q, N). */
import type { Command } from 'commander';
import { calibrateDensity } from '../../ensemble/calibrate.ts';
import { validateQ } from '../../model/q-model.ts';
import { fccCellsFor } from '../../space/lattice.ts';
import { parseInteger, parseNumber, UserError } from '../errors.ts';

export function registerCalibrate(program: Command): void {
  program
    .command('calibrate')
    .description('find the density at which the ensemble-mean p/K of prepared glasses vanishes (|p/K| ≤ tol)')
    .addHelpText('after', '\nExample:\n  $ qglass calibrate --q 240 --n 2048 --samples 8\n')
    .requiredOption('--q <Q>', 'repulsive stiffness Q (> 6)')
    .requiredOption('--n <N>', 'number of particles, 4·k³')
    .option('--samples <S>', 'independent samples per round (≥ 2)', '8')
    .option('--tol <tol>', 'acceptance on |mean p/K|', '1e-3')
    .option('--seed <seed>', 'master seed of the calibration samples', '1')
    .option('--rounds <R>', 'maximum number of rounds', '6')
    .option('--initial-density <rho>', 'starting guess (λ⁻³)')
    .option('--verbose', 'log every sample on stderr')
    .option('--json', 'print one JSON object on stdout')
    .action((o: { q: string; n: string; samples: string; tol: string; seed: string; rounds: string; initialDensity?: string; verbose?: boolean; json?: boolean }) => {
      const Q = parseNumber('--q', o.q);
      validateQ(Q);
      const N = parseInteger('--n', o.n);
      fccCellsFor(N);
      const samples = parseInteger('--samples', o.samples);
      if (samples < 2) throw new UserError(`--samples must be ≥ 2 to estimate an error; got ${samples}`);
      const log = o.verbose || process.stderr.isTTY ? (m: string) => process.stderr.write(m + '\n') : () => {};
      const result = calibrateDensity({
        Q, N, samples, tol: parseNumber('--tol', o.tol), masterSeed: parseInteger('--seed', o.seed),
        maxRounds: parseInteger('--rounds', o.rounds),
        initialDensity: o.initialDensity === undefined ? undefined : parseNumber('--initial-density', o.initialDensity),
      }, log);
      if (o.json) process.stdout.write(JSON.stringify(result) + '\n');
      else {
        process.stdout.write(
          `Q = ${Q}, N = ${N}: zero-pressure density ${result.density.toFixed(6)} λ⁻³ ` +
          `(mean p/K = ${result.pOverK.toExponential(2)} ± ${result.pOverKError.toExponential(1)} over ${samples} fresh samples, ` +
          `${result.converged ? 'converged' : 'NOT converged'} after ${result.rounds.length} rounds)\n`,
        );
      }
      if (!result.converged) process.exitCode = 3;
    });
}
