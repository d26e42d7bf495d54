/** `qglass measure elastic FILE`: athermal moduli by linear response (src/measure/elastic.ts). */
import { EXIT } from '../../util/exit-codes.ts';
import type { Command } from 'commander';
import { measureElastic, UnrelaxedConfigurationError, type ElasticResult } from '../../measure/elastic.ts';
import { DEFAULT_CG_TOL } from '../../linalg/cg.ts';
import { VOIGT_LABELS } from '../../measure/stress.ts';
import { parseNumber, UserError } from '../errors.ts';
import { applyThreads, loadForMeasurement, Q_OPTION, THREADS_OPTION } from '../load.ts';
import { createProgress } from '../progress.ts';
import { lawLabel, lawMetadata } from '../../model/laws.ts';

interface ElasticCliOptions { q?: string; json?: boolean; tol: string; allowUnrelaxed?: boolean; threads: string }

export function registerMeasureElastic(measure: Command): void {
  measure
    .command('elastic')
    .description('bulk and shear moduli, Poisson ratio and the 6×6 stress–strain tensor (Hessian + CG, non-affine relaxation included)')
    .addHelpText('after', '\nExample:\n  $ qglass measure elastic glass.xyz --json > elastic.json\n')
    .argument('<file>', 'extended XYZ file of a quenched configuration')
    .option(...Q_OPTION)
    .option(...THREADS_OPTION)
    .option('--tol <tol>', 'relative residual of the CG solves', String(DEFAULT_CG_TOL))
    .option('--allow-unrelaxed', 'compute moduli even if max |F| shows the configuration is not at a minimum')
    .option('--json', 'print one JSON object on stdout')
    .action((file: string, o: ElasticCliOptions) => {
      const tol = parseNumber('--tol', o.tol);
      if (!(tol > 0 && tol < 1)) throw new UserError(`--tol must be in (0, 1); got ${o.tol}`);
      applyThreads(o.threads);
      const { system, model, rattlers } = loadForMeasurement(file, { q: o.q });
      const progress = createProgress({ quiet: o.json });
      progress.phase('CG solves', 6);
      let r: ElasticResult;
      try {
        r = measureElastic(system, { tol, allowUnrelaxed: o.allowUnrelaxed, onProgress: (done) => progress.update(done) });
      } catch (err) {
        if (err instanceof UnrelaxedConfigurationError) throw new UserError(`${file}: ${err.message.replace('set allowUnrelaxed', 'pass --allow-unrelaxed')}`);
        throw err;
      } finally {
        progress.stop();
      }
      if (!r.converged) {
        const bad = r.cgSolves.filter((s) => s.reason !== 'converged').map((s) => `${s.reason} at residual ${s.residual.toExponential(2)}`);
        process.stderr.write(`qglass: warning: ${bad.length} of 6 CG solves did not reach --tol ${tol} (${bad.join('; ')}); the moduli are not reliable\n`);
        process.exitCode = EXIT.notConverged;
      }
      if (o.json) {
        process.stdout.write(JSON.stringify({ file, ...lawMetadata(model), ...r, rattlers: rattlers?.rattlers ?? null, Z: rattlers?.Z ?? null }) + '\n');
        return;
      }
      const f = (x: number, d = 6) => x.toFixed(d);
      const row = (v: number[]) => v.map((x) => x.toFixed(5).padStart(12)).join('');
      process.stdout.write(
        `${file}: ${lawLabel(model)}, N = ${r.N}, density = ${f(r.density)} λ⁻³\n` +
          (rattlers ? `  ${rattlers.rattlers} rattlers excluded; Z = ${rattlers.Z.toFixed(4)} contacts per non-rattler\n` : '') +
        `  K  = ${f(r.K)}   G = ${f(r.G)}   (μ_xy ${f(r.shear.xy)}, μ_xz ${f(r.shear.xz)}, μ_yz ${f(r.shear.yz)})   Gvoigt = ${f(r.Gvoigt)}   [ε/λ³]\n` +
        `  ν  = ${f(r.nu)}   (with Gvoigt ${f(r.nuVoigt)})   G/K = ${f(r.GOverK)}\n` +
        `  p  = ${r.pressure.toExponential(6)} ε/λ³   p/K = ${r.pOverK.toExponential(4)}\n` +
        `  stress–strain coefficients B_IJ = dσ_I/dε_J (pre-stress included, engineering shear strain):\n` +
        `      ${VOIGT_LABELS.map((l) => l.padStart(12)).join('')}\n` +
        r.voigt.map((v, I) => `    ${VOIGT_LABELS[I]}${row(v)}\n`).join('') +
        `  max |F| = ${r.maxForce.toExponential(2)} (rms pair force ${r.typicalPairForce.toExponential(2)}); ` +
        `CG: ${r.cgIterations} iterations over 6 solves, largest residual ${Math.max(...r.cgSolves.map((s) => s.residual)).toExponential(2)}` +
        `${r.converged ? '' : ' — NOT CONVERGED'}\n` +
        `  time: Hessian ${r.timings.hessian.toFixed(3)} s, solves ${r.timings.solves.toFixed(3)} s, total ${r.timings.total.toFixed(3)} s\n`,
      );
    });
}
