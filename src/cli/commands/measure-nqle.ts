/**
 * `qglass measure nqle FILE`: nonlinear quasilocalized excitations and their k±/f± anatomy (src/measure/nqle.ts).
 *
 * --out nqle.npy writes the mode vectors as float64 (modes, N, 3) and beside them, row for row,
 * nqle-omega2.npy, float64 (modes,), and nqle-kf.npy, float64 (modes, 4) with columns k₊, k₋, f₊, f₋.
 */
import { EXIT } from '../../util/exit-codes.ts';
import type { Command } from 'commander';
import { DEFAULT_NQLE, findNqles, type NqleResult } from '../../measure/nqle.ts';
import { UnrelaxedConfigurationError } from '../../measure/elastic.ts';
import { writeNpy } from '../../io/npy.ts';
import { sidecarPath } from './measure-modes.ts';
import { parseInteger, parseNumber, UserError } from '../errors.ts';
import { checkOutputPath, loadForMeasurement, Q_OPTION } from '../load.ts';
import { createProgress } from '../progress.ts';
import { lawLabel, lawMetadata } from '../../model/laws.ts';

interface NqleCliOptions {
  count: string; harmonicModes: string; dipoleStarts: string; seed: string; tol: string;
  q?: string; out?: string; json?: boolean;
}

export function registerMeasureNqle(measure: Command): void {
  measure
    .command('nqle')
    .description('softest nonlinear quasilocalized excitations (minima of κ³/τ²) with ω², participation, barrier and the k±/f± split of ω²')
    .addHelpText('after', '\nExample:\n  $ qglass measure nqle glass.xyz --count 5 --out nqle.npy\n')
    .argument('<file>', 'extended XYZ or LAMMPS data file of a quenched configuration')
    .option('--count <k>', 'number of NQLEs to report', String(DEFAULT_NQLE.count))
    .option('--harmonic-modes <m>', 'lowest harmonic modes tried as starts (quasilocalized ones only)', String(DEFAULT_NQLE.harmonicModes))
    .option('--dipole-starts <m>', 'force-dipole responses tried as starts', String(DEFAULT_NQLE.dipoleStarts))
    .option('--seed <seed>', 'seed of the random choice of dipole pairs', String(DEFAULT_NQLE.seed))
    .option('--tol <tol>', 'residual ‖H·π − (κ/τ)·U‴:ππ‖/‖H·π‖ to converge to', String(DEFAULT_NQLE.residualTol))
    .option(...Q_OPTION)
    .option('--out <file.npy>', 'write the mode vectors, float64 (modes, N, 3), with FILE-omega2.npy (modes,) and FILE-kf.npy (modes, 4: k₊ k₋ f₊ f₋)')
    .option('--json', 'print one JSON object on stdout')
    .action((file: string, o: NqleCliOptions) => {
      const count = parseInteger('--count', o.count);
      const harmonicModes = parseInteger('--harmonic-modes', o.harmonicModes);
      const dipoleStarts = parseInteger('--dipole-starts', o.dipoleStarts);
      const seed = parseInteger('--seed', o.seed);
      const residualTol = parseNumber('--tol', o.tol);
      if (count < 1) throw new UserError(`--count must be ≥ 1; got ${o.count}`);
      if (harmonicModes < 0 || dipoleStarts < 0) throw new UserError('--harmonic-modes and --dipole-starts must be ≥ 0');
      if (harmonicModes + dipoleStarts === 0) throw new UserError('no starts: give --harmonic-modes or --dipole-starts > 0');
      if (!(residualTol > 0 && residualTol < 1)) throw new UserError(`--tol must be in (0, 1); got ${o.tol}`);
      if (o.out !== undefined) checkOutputPath(o.out);
      const { system, model, rattlers } = loadForMeasurement(file, { q: o.q });
      const N = system.species.length;
      const progress = createProgress({ quiet: o.json });
      let stage = '';
      let r: NqleResult;
      try {
        r = findNqles(system, { count, harmonicModes, dipoleStarts, seed, residualTol }, (s, done, total) => {
          if (s !== stage) { stage = s; progress.phase(s, total); }
          progress.update(done);
        });
      } catch (err) {
        if (err instanceof UnrelaxedConfigurationError) throw new UserError(`${file}: ${err.message}`);
        if (err instanceof RangeError) throw new UserError(`${file}: ${err.message}`);
        throw err;
      } finally {
        progress.stop();
      }
      const outputs = o.out
        ? { vectors: o.out, omega2: sidecarPath(o.out, 'omega2'), kf: sidecarPath(o.out, 'kf'), shape: [r.modes.length, N, 3] }
        : null;
      if (outputs) {
        const data = new Float64Array(r.modes.length * 3 * N);
        r.modes.forEach((m, k) => data.set(m.vector, k * 3 * N));
        writeNpy(outputs.vectors, data, outputs.shape);
        writeNpy(outputs.omega2, Float64Array.from(r.modes, (m) => m.omega2), [r.modes.length]);
        writeNpy(outputs.kf, Float64Array.from(r.modes.flatMap((m) => [m.kPlus, m.kMinus, m.fPlus, m.fMinus])), [r.modes.length, 4]);
      }
      const unconverged = r.modes.filter((m) => !m.converged).length;
      if (unconverged > 0) {
        process.stderr.write(`qglass: warning: ${unconverged} of the ${r.modes.length} reported modes did not converge (converged: false)\n`);
        process.exitCode = EXIT.notConverged;
      }
      const modes = r.modes.map(({ vector: _vector, ...m }) => ({ ...m, kMinusOverFMinus: m.kMinus / m.fMinus }));
      if (o.json) {
        process.stdout.write(JSON.stringify({
          file, ...lawMetadata(model), rattlers: rattlers?.rattlers ?? null, N, modes, descents: r.descents, harmonic: r.harmonic, maxForce: r.maxForce, timings: r.timings,
          ...(outputs ? { out: outputs.vectors, outShape: outputs.shape, outOmega2: outputs.omega2, outKf: outputs.kf } : {}),
        }) + '\n');
        return;
      }
      const e = (x: number, d = 4) => x.toExponential(d).padStart(d + 8);
      process.stdout.write(
        `${file}: ${lawLabel(model)}, N = ${N}; ${r.descents.total} descents (${r.harmonic.used} harmonic, ` +
        `${r.descents.total - r.harmonic.used} dipole): ${r.descents.converged} distinct converged, ${r.descents.duplicates} duplicates, ` +
        `${r.descents.unconverged} unconverged\n` +
        `   #          ω²        k₊          k₋          f₊          f₋      k₋/f₋      e     barrier    residual  conv  start\n` +
        modes.map((m, k) =>
          `  ${String(k).padStart(2)} ${e(m.omega2)}${e(m.kPlus)}${e(m.kMinus)}${e(m.fPlus)}${e(m.fMinus)} ${m.kMinusOverFMinus.toFixed(3).padStart(8)} ` +
          `${m.participation.toFixed(3)} ${e(m.barrier, 3)} ${e(m.residual, 1)}  ${m.converged ? 'yes' : 'NO '}  ${m.start}\n`).join('') +
        (outputs ? `  vectors (τ < 0) written to ${outputs.vectors}, shape (${r.modes.length}, ${N}, 3); ω² to ${outputs.omega2}, k₊ k₋ f₊ f₋ to ${outputs.kf}\n` : '') +
        `  time: setup ${r.timings.setup.toFixed(2)} s, harmonic modes ${r.timings.harmonicModes.toFixed(2)} s, ` +
        `dipoles ${r.timings.dipoles.toFixed(2)} s, descents ${r.timings.descents.toFixed(2)} s, total ${r.timings.total.toFixed(2)} s\n`,
      );
    });
}
