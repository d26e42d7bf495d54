/**
 * `qglass measure modes FILE`: the lowest vibrational modes (src/measure/modes.ts) with their
 * participation ratios and the sound-speed scales c_s, ω₀, ω₁ of the sample (shear modulus from
 * src/measure/elastic.ts unless --no-elastic).
 *
 * --out modes.npy writes the eigenvectors as float64 (count, N, 3) and the eigenvalues ω² beside
 * it as modes-omega2.npy, float64 (count,), both in ascending ω². --hessian H.mtx writes the 3N×3N
 * Hessian (unit masses, so its eigenvalues are ω²) as a symmetric Matrix Market file.
 */
import { EXIT } from '../../util/exit-codes.ts';
import type { Command } from 'commander';
import { writeNpy } from '../../io/npy.ts';
import { writeHessianMatrixMarket } from '../../io/matrix-market.ts';
import { assembleHessian } from '../../measure/hessian.ts';
import { LANCZOS_DEFAULTS } from '../../linalg/lanczos.ts';
import { harmonicOf } from '../../measure/harmonic.ts';
import { measureElastic, UnrelaxedConfigurationError } from '../../measure/elastic.ts';
import { DEFAULT_MODE_COUNT, measureModes, soundScales, type ModesResult, type SoundScales } from '../../measure/modes.ts';
import { parseInteger, parseNumber, UserError } from '../errors.ts';
import { applyThreads, checkOutputPath, loadForMeasurement, Q_OPTION, THREADS_OPTION } from '../load.ts';
import { lawLabel, lawMetadata } from '../../model/laws.ts';

interface ModesCliOptions { count: string; tol: string; block: string; q?: string; out?: string; hessian?: string; elastic: boolean; json?: boolean; threads: string }

/** sidecarPath('modes.npy', 'omega2') = 'modes-omega2.npy': arrays written beside the vectors. */
export function sidecarPath(vectorsPath: string, name: string): string {
  return vectorsPath.endsWith('.npy') ? `${vectorsPath.slice(0, -4)}-${name}.npy` : `${vectorsPath}-${name}.npy`;
}

export function registerMeasureModes(measure: Command): void {
  measure
    .command('modes')
    .description('lowest vibrational modes (ω², participation ratio, residual) by sparse Lanczos, with c_s, ω₀ and ω₁')
    .addHelpText('after', '\nExample:\n  $ qglass measure modes glass.xyz --count 20 --out modes.npy\n')
    .argument('<file>', 'extended XYZ or LAMMPS data file of a quenched configuration')
    .option('--count <k>', 'number of lowest non-zero modes', String(DEFAULT_MODE_COUNT))
    .option('--tol <tol>', 'converged when ‖Hψ − ω²ψ‖ ≤ tol·‖H‖', String(LANCZOS_DEFAULTS.tol))
    .option('--block <b>', 'initial Lanczos block size (grown automatically if exactly degenerate modes show up, as in crystals)', String(LANCZOS_DEFAULTS.blockSize))
    .option(...Q_OPTION)
    .option(...THREADS_OPTION)
    .option('--out <file.npy>', 'write eigenvectors, float64 (count, N, 3), and eigenvalues to FILE-omega2.npy, float64 (count,)')
    .option('--hessian <file.mtx>', 'also write the Hessian, 3N×3N symmetric Matrix Market (lower triangle, exact float64 values)')
    .option('--no-elastic', 'skip the shear modulus (and so c_s, ω₀, ω₁)')
    .option('--json', 'print one JSON object on stdout')
    .action((file: string, o: ModesCliOptions) => {
      const count = parseInteger('--count', o.count);
      const tol = parseNumber('--tol', o.tol);
      const blockSize = parseInteger('--block', o.block);
      if (count < 1) throw new UserError(`--count must be ≥ 1; got ${o.count}`);
      if (!(tol > 0 && tol < 1)) throw new UserError(`--tol must be in (0, 1); got ${o.tol}`);
      if (blockSize < 1) throw new UserError(`--block must be ≥ 1; got ${o.block}`);
      applyThreads(o.threads);
      for (const path of [o.out, o.hessian]) if (path !== undefined) checkOutputPath(path, path === o.out ? '--out' : '--hessian');
      if (o.out !== undefined) checkOutputPath(sidecarPath(o.out, 'omega2'));
      const { system, model, rattlers } = loadForMeasurement(file, { q: o.q });
      const N = system.species.length;
      // The iterative eigensolver needs room beyond the wanted modes: a basis of a few blocks in 3N − 3 dimensions.
      if (3 * blockSize > 3 * N - 6) throw new UserError(`--block ${blockSize} is too large for N = ${N}: at most ${Math.floor((3 * N - 6) / 3)}`);
      if (count > 3 * N - 3 - 3 * blockSize) {
        throw new UserError(`--count ${count} is too many modes for N = ${N} with --block ${blockSize}: at most ${3 * N - 3 - 3 * blockSize}; use a larger configuration`);
      }
      const harmonic = harmonicOf(system); // one pair table and Hessian for the modes and the shear modulus
      let r: ModesResult;
      try {
        r = measureModes(system, { count, tol, blockSize, harmonic });
      } catch (err) {
        if (err instanceof RangeError) throw new UserError(`${file}: ${err.message}`);
        throw err;
      }
      const outputs = o.out ? { vectors: o.out, omega2: sidecarPath(o.out, 'omega2'), shape: [count, N, 3] } : null;
      if (outputs) {
        writeNpy(outputs.vectors, r.vectors, outputs.shape);
        writeNpy(outputs.omega2, Float64Array.from(r.omega2), [count]);
      }
      const hessian = o.hessian
        ? { file: o.hessian, ...writeHessianMatrixMarket(o.hessian, assembleHessian(system), `Hessian of ${file} (unit masses; eigenvalues ω²), ${lawLabel(model)}, N = ${N}, written by qglass`) }
        : null;
      let scales: SoundScales | null = null;
      let elasticSeconds = 0;
      if (o.elastic) {
        const t0 = performance.now();
        try {
          const el = measureElastic(system, { harmonic });
          if (el.converged) scales = soundScales(el.G, system);
          else process.stderr.write('qglass: warning: the shear-modulus solves did not converge; c_s, ω₀, ω₁ are omitted\n');
        } catch (err) {
          if (!(err instanceof UnrelaxedConfigurationError) && !(err instanceof RangeError)) throw err;
          process.stderr.write(`qglass: warning: no shear modulus, so no c_s, ω₀, ω₁: ${err.message}\n`);
        }
        elasticSeconds = (performance.now() - t0) / 1000;
      }
      if (!r.converged) {
        const bad = r.pairConverged.filter((c) => !c).length;
        process.stderr.write(`qglass: warning: ${bad} of ${count} modes did not reach ‖Hψ − ω²ψ‖ ≤ ${r.tolerance.toExponential(2)} (converged: false)\n`);
        process.exitCode = EXIT.notConverged;
      }
      const timings = { ...r.timings, elastic: elasticSeconds, total: r.timings.total + elasticSeconds };
      if (o.json) {
        const { vectors: _vectors, timings: _t, ...summary } = r;
        process.stdout.write(JSON.stringify({
          file, ...lawMetadata(model), rattlers: rattlers?.rattlers ?? null, ...summary, timings,
          G: scales?.G ?? null, cs: scales?.cs ?? null, a0: scales?.a0 ?? null, omega0: scales?.omega0 ?? null, omega1: scales?.omega1 ?? null,
          out: outputs, hessian,
        }) + '\n');
        return;
      }
      const e = (x: number, d = 6) => x.toExponential(d).padStart(d + 9);
      process.stdout.write(
        `${file}: ${lawLabel(model)}, N = ${N}; lowest ${count} modes above the 3 translations\n` +
        `   #          ω²               ω          e     residual  conv\n` +
        r.omega2.map((w2, k) =>
          `  ${String(k).padStart(2)} ${e(w2)} ${e(r.omega[k])}  ${r.participation[k].toFixed(4)} ${r.residual[k].toExponential(1).padStart(9)}  ${r.pairConverged[k] ? 'yes' : 'NO'}\n`).join('') +
        `  residual bound ${r.tolerance.toExponential(2)} (tol ${tol} × ‖H‖ ≈ ${r.hessianNorm.toExponential(3)}); ` +
        `${r.matvecs} Hessian products, ${r.restarts} restarts${r.converged ? '' : ' — NOT CONVERGED'}\n` +
        (scales
          ? `  G = ${scales.G.toFixed(5)}, c_s = ${scales.cs.toFixed(5)}, a₀ = ${scales.a0.toFixed(5)}, ω₀ = c_s/a₀ = ${scales.omega0.toFixed(5)}, ` +
            `ω₁ = 2π·c_s/L = ${scales.omega1.toFixed(5)} (ω₁² = ${(scales.omega1 ** 2).toFixed(5)})\n`
          : '') +
        (outputs ? `  eigenvectors written to ${outputs.vectors}, shape (${count}, ${N}, 3); eigenvalues to ${outputs.omega2}\n` : '') +
        (hessian ? `  Hessian written to ${hessian.file} (${3 * N}×${3 * N}, ${hessian.entries} stored entries of the lower triangle)\n` : '') +
        `  time: Hessian ${timings.hessian.toFixed(3)} s, eigensolver ${timings.eigensolver.toFixed(3)} s` +
        `${o.elastic ? `, elastic ${timings.elastic.toFixed(3)} s` : ''}, total ${timings.total.toFixed(3)} s\n`,
      );
    });
}
