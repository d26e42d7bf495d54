/**
 * `qglass quench FILE --out FILE`: re-minimise a configuration from any source (ASE writes 8
 * decimals, LAMMPS and OVITO their own precision) to max |F| < ftol with the L-BFGS minimiser of
 * `prepare`, and optionally relax the box to p = 0 as `prepare --relax-pressure` does. Particle order
 * is kept. A configuration already at the tolerance (and at p = 0, if asked) is written unchanged.
 */
import type { Command } from 'commander';
import { computeForces, maxForceComponent } from '../../engine/forces.ts';
import { minimize } from '../../engine/minimize.ts';
import { DEFAULT_PREPARE, relaxToZeroPressure } from '../../engine/prepare.ts';
import { particleCount, systemToConfiguration, virialPressure, type System } from '../../engine/system.ts';
import { boxVolume } from '../../space/box.ts';
import { EXIT } from '../../util/exit-codes.ts';
import { VERSION } from '../../util/version.ts';
import { parseNumber, UserError } from '../errors.ts';
import { applyThreads, checkOutputPath, loadGlass, Q_OPTION, THREADS_OPTION, writeConfiguration } from '../load.ts';
import { lawLabel, lawMetadata } from '../../model/laws.ts';
import { createProgress } from '../progress.ts';

/** |p|/K the box relaxation stops at (as prepare --relax-pressure). */
const RELAX_PRESSURE_TOL = 1e-6;

interface QuenchCliOptions { out: string; ftol: string; relaxPressure?: boolean; q?: string; json?: boolean; threads: string }

function state(sys: System) {
  const N = particleCount(sys);
  return { maxForce: maxForceComponent(sys.forces), energyPerParticle: sys.energy / N, pressure: virialPressure(sys), density: N / boxVolume(sys.box) };
}

export function registerQuench(program: Command): void {
  program
    .command('quench')
    .description('re-minimise a configuration (extended XYZ or LAMMPS data, e.g. written by ASE, LAMMPS or OVITO) to max |F| < ftol')
    .argument('<file>', 'extended XYZ or LAMMPS data file (atom_style atomic)')
    .requiredOption('--out <file>', 'output file: LAMMPS data for .data/.lmp, else extended XYZ')
    .option('--ftol <f>', 'tolerance on the largest force component (ε/λ)', String(DEFAULT_PREPARE.ftol))
    .option('--relax-pressure', `also relax the box volume to p = 0 (|p|/K < ${RELAX_PRESSURE_TOL.toExponential(0)}), as prepare --relax-pressure`)
    .option(...Q_OPTION)
    .option(...THREADS_OPTION)
    .option('--json', 'print one JSON object on stdout')
    .addHelpText('after', '\nExamples:\n  $ qglass quench from-ase.xyz --out glass.xyz\n  $ qglass quench written-by-lammps.data --q 240 --out glass.xyz --relax-pressure\n')
    .action((file: string, o: QuenchCliOptions) => {
      const ftol = parseNumber('--ftol', o.ftol);
      if (!(ftol > 0)) throw new UserError(`--ftol must be > 0; got ${o.ftol}`);
      checkOutputPath(o.out);
      applyThreads(o.threads);
      const { conf, system, model } = loadGlass(file, { q: o.q });
      computeForces(system);
      const before = state(system);
      const progress = createProgress({ quiet: o.json });
      progress.phase('quench', 1000);
      let fStart = 0;
      const onProgress = (_it: number, fmax: number) => {
        if (fStart === 0) fStart = fmax;
        if (fStart > ftol) progress.update(Math.round(1000 * Math.min(1, Math.max(0, Math.log(fStart / fmax) / Math.log(fStart / ftol)))));
      };
      let quench;
      let relax: { steps: number; bulkModulus: number } | null = null;
      // A box relaxation that fails (a re-quench or the volume iteration not converging) is reported
      // like an unconverged quench: the state reached is written, marked converged: false.
      let relaxFailure: string | null = null;
      try {
        quench = minimize(system, { ftol, maxIterations: DEFAULT_PREPARE.maxCgIterations, onProgress });
        if (o.relaxPressure && quench.converged) {
          progress.phase('relax', 1);
          try {
            const r = relaxToZeroPressure(system, { ftol, relaxPressureTol: RELAX_PRESSURE_TOL, maxCgIterations: DEFAULT_PREPARE.maxCgIterations }, quench);
            quench = r.quench;
            relax = { steps: r.steps, bulkModulus: r.bulkModulus };
          } catch (err) {
            relaxFailure = (err as Error).message;
          }
        }
      } finally {
        progress.stop();
      }
      computeForces(system);
      const after = state(system);
      const iterations = quench.iterations;
      const converged = quench.converged && relaxFailure === null && after.maxForce < ftol;
      writeConfiguration(o.out, systemToConfiguration(system, {
        ...conf.meta, ...lawMetadata(model), density: after.density, ftol, energyPerParticle: after.energyPerParticle, pressure: after.pressure,
        maxForce: after.maxForce, converged, qglass: VERSION,
      }));
      if (!converged) {
        const why = relaxFailure ?? `the minimiser stopped (${quench.reason}) at max |F| = ${quench.maxForce.toExponential(3)} ≥ ftol ${ftol}`;
        process.stderr.write(`qglass: warning: ${why}; written, marked converged: false\n`);
        process.exitCode = EXIT.notConverged;
      }
      const out = {
        file, out: o.out, ...lawMetadata(model), N: particleCount(system), ftol, before, after, iterations, forceEvaluations: quench.forceEvaluations,
        converged, reason: relaxFailure === null ? quench.reason : 'relax-failed', relax, ...(relaxFailure === null ? {} : { relaxFailure }),
      };
      if (o.json) { process.stdout.write(JSON.stringify(out) + '\n'); return; }
      const line = (s: ReturnType<typeof state>) =>
        `max |F| = ${s.maxForce.toExponential(3)} ε/λ, energy/N = ${s.energyPerParticle.toFixed(12)} ε, pressure = ${s.pressure.toExponential(8)} ε/λ³`;
      process.stdout.write(
        `${file}: ${lawLabel(model)}, N = ${out.N}\n  before: ${line(before)}\n  after:  ${line(after)}\n` +
        `  ${iterations} minimiser iterations${relax ? `, box relaxed in ${relax.steps} steps (K = ${relax.bulkModulus.toFixed(4)}, density ${after.density.toFixed(8)} λ⁻³)` : ''}` +
        `${converged ? '' : ' — NOT CONVERGED'}; written to ${o.out}\n`,
      );
    });
}
