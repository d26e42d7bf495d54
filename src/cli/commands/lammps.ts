/**
 * `qglass lammps FILE --out DIR`: everything LAMMPS needs to run the same model on the same
 * configuration: DIR/glass.data (atom_style atomic), DIR/phi_Q<Q>.table (`pair_style table`, sections
 * SS, SL, LL from the closed-form φ and φ′ of the pair law, not from any tabulation of ours; other
 * laws: phi_<law>.table) and DIR/in.qglass, which reads both and prints the energy per particle and
 * the pressure at run 0.
 */
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { computeForces } from '../../engine/forces.ts';
import { particleCount, virialPressure } from '../../engine/system.ts';
import { formatLammpsInput, formatPairTable, writeLammpsData, type PairTableSection } from '../../io/lammps-data.ts';
import { writeFileAtomic } from '../../io/atomic-write.ts';
import type { PairLaw } from '../../model/pair-law.ts';
import { lawLabel, lawMetadata } from '../../model/laws.ts';
import { VERSION } from '../../util/version.ts';
import { parseInteger, UserError } from '../errors.ts';
import { checkOutputPath, loadGlass, Q_OPTION } from '../load.ts';

/** Default points per table section: with `table spline` and nodes on the file's points, ≤ 1e-9 relative in energy and pressure. */
export const DEFAULT_TABLE_POINTS = 100_000;
/** Tables start where φ first exceeds this energy (ε): far above anything a glass or a melt at T ~ 1 reaches. */
const TABLE_MAX_ENERGY = 1e4;
const SECTION_NAMES = ['SS', 'SL', 'LL'];

/**
 * Inner table distance for pair type t: the largest r (on a 0.1 % grid below the cutoff) with
 * φ(r) ≥ TABLE_MAX_ENERGY; 0.1 % of the cutoff for bounded laws (soft spheres).
 */
function tableInner(law: PairLaw, t: number): number {
  const out = new Float64Array(4);
  const cutoff = law.cutoff[t];
  let k = 1;
  for (; k < 999; k++) {
    const r = cutoff * (1 - k / 1000);
    law.derivatives(t, r * r, out);
    if (out[0] >= TABLE_MAX_ENERGY) break;
  }
  return Number((cutoff * (1 - k / 1000)).toPrecision(6));
}

/** phi_Q240.table for the Q-model, phi_<law>[_<parameters>].table for the others. */
function tableName(law: PairLaw): string {
  if (law.name === 'q-model') return `phi_Q${law.parameters.Q}.table`;
  return `phi_${[law.name, ...Object.entries(law.parameters).map(([k, v]) => `${k}${v}`)].join('_')}.table`;
}

export function lammpsBundle(law: PairLaw, points: number, source: string) {
  const derivatives = (t: number, r2: number, out: Float64Array) => law.derivatives(t, r2, out);
  const sections: PairTableSection[] = SECTION_NAMES.map((name, t) => ({ name, rlo: tableInner(law, t), rhi: law.cutoff[t] }));
  const tableFile = tableName(law);
  const table = formatPairTable(sections, points, derivatives,
    `pair_style table for ${lawLabel(law)}, written by qglass ${VERSION} from the closed-form φ and φ′\n` +
    `sections SS, SL, LL (type 1 = small, 2 = large); columns: index, r (λ_SS), φ (ε), −dφ/dr (ε/λ_SS)\n` +
    `points equally spaced in r² (RSQ); use pair_style table spline ${points} (same N) and pair_modify shift no`);
  const input = formatLammpsInput({
    comment: `${source}: ${lawLabel(law)} (written by qglass ${VERSION}).\n` +
      'Prints energyPerParticle (ε) and pressure (ε/λ³) at run 0; compare with `qglass energy`.',
    dataFile: 'glass.data', tableFile, points, style: 'spline',
    coefficients: sections.map((s, t) => ({ i: t === 2 ? 2 : 1, j: t === 0 ? 1 : 2, section: s.name, cutoff: s.rhi })),
    skin: law.defaultSkin,
  });
  return { sections, tableFile, table, input };
}

export function registerLammps(program: Command): void {
  program
    .command('lammps')
    .description('write a LAMMPS bundle: data file, pair table of the exact potential and an input script reproducing energy and pressure')
    .argument('<file>', 'extended XYZ or LAMMPS data file')
    .requiredOption('--out <dir>', 'output directory (created if absent)')
    .option(...Q_OPTION)
    .option('--table-points <n>', 'points per pair-table section', String(DEFAULT_TABLE_POINTS))
    .option('--json', 'print one JSON object on stdout')
    .addHelpText('after', '\nExample:\n  $ qglass lammps glass.xyz --out lammps-run && cd lammps-run && lmp -in in.qglass\n')
    .action((file: string, o: { out: string; q?: string; tablePoints: string; json?: boolean }) => {
      const points = parseInteger('--table-points', o.tablePoints);
      if (points < 2) throw new UserError(`--table-points must be ≥ 2; got ${o.tablePoints}`);
      let isDir = false;
      try { isDir = statSync(o.out).isDirectory(); } catch { /* created below */ }
      if (!isDir) {
        try { mkdirSync(o.out, { recursive: true }); } catch (err) {
          throw new UserError(`--out '${o.out}': cannot create the directory (${(err as Error).message})`);
        }
      }
      const { conf, system, model } = loadGlass(file, { q: o.q });
      const bundle = lammpsBundle(model, points, file);
      const files = { data: join(o.out, 'glass.data'), table: join(o.out, bundle.tableFile), input: join(o.out, 'in.qglass') };
      for (const path of Object.values(files)) checkOutputPath(path);
      writeLammpsData(files.data, { ...conf, meta: { ...conf.meta, ...lawMetadata(model) } });
      writeFileAtomic(files.table, bundle.table);
      writeFileAtomic(files.input, bundle.input);
      computeForces(system);
      const N = particleCount(system);
      const out = { file, ...lawMetadata(model), N, energyPerParticle: system.energy / N, pressure: virialPressure(system), points, files, run: `cd ${o.out} && lmp -in in.qglass` };
      if (o.json) { process.stdout.write(JSON.stringify(out) + '\n'); return; }
      process.stdout.write(
        `${file}: ${lawLabel(model)}, N = ${N}; energy/N = ${out.energyPerParticle.toPrecision(17)} ε, pressure = ${out.pressure.toPrecision(17)} ε/λ³\n` +
        `  wrote ${files.data}, ${files.table} (${points} points per section), ${files.input}\n` +
        `  run: ${out.run}\n`,
      );
    });
}
