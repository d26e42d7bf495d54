/** `qglass energy FILE`: energy, pressure and largest force of any configuration of the model. */
import type { Command } from 'commander';
import { computeForces, maxForceComponent } from '../../engine/forces.ts';
import { particleCount, virialPressure } from '../../engine/system.ts';
import { boxVolume } from '../../space/box.ts';
import { loadGlass, Q_OPTION } from '../load.ts';
import { lawLabel, lawMetadata } from '../../model/laws.ts';

export function registerEnergy(program: Command): void {
  program
    .command('energy')
    .description('energy, pressure and max force of a configuration (extended XYZ)')
    .addHelpText('after', '\nExample:\n  $ qglass energy glass.xyz --json\n')
    .argument('<file>', 'extended XYZ file')
    .option(...Q_OPTION)
    .option('--json', 'print one JSON object on stdout')
    .action((file: string, o: { q?: string; json?: boolean }) => {
      const { system, model } = loadGlass(file, { q: o.q });
      computeForces(system);
      const N = particleCount(system);
      const out = {
        ...lawMetadata(model), N, density: N / boxVolume(system.box), energyPerParticle: system.energy / N,
        pressure: virialPressure(system), maxForce: maxForceComponent(system.forces),
      };
      if (o.json) process.stdout.write(JSON.stringify(out) + '\n');
      else {
        process.stdout.write(
          `${file}: ${lawLabel(model)}, N = ${N}, density = ${out.density.toFixed(6)} λ⁻³\n` +
          `  energy/N = ${out.energyPerParticle.toFixed(12)} ε, pressure = ${out.pressure.toExponential(8)} ε/λ³, max |F| = ${out.maxForce.toExponential(3)} ε/λ\n`,
        );
      }
    });
}
