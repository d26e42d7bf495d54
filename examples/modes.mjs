// The lowest vibrational modes of a glass file, with their participation ratios and the
// frequency scales they are read against (ω₀ = c_s/a₀ and the lowest shear-wave band ω₁).
//   node examples/modes.mjs glass.xyz [count]       (glass.xyz from examples/prepare-elastic.mjs)
import { lawFromMetadata, measureElastic, measureModes, readExtendedXyz, soundScales, systemFromConfiguration } from 'qglass';

const [file = 'glass.xyz', count = '10'] = process.argv.slice(2);
const conf = readExtendedXyz(file);
// The file's metadata names its pair law (model=..., Q=...).
const system = systemFromConfiguration(conf, lawFromMetadata(conf.meta));

const modes = measureModes(system, { count: Number(count) });
const { omega0, omega1 } = soundScales(measureElastic(system).G, system);
console.log(`ω₀ = ${omega0.toFixed(4)}, ω₁ = ${omega1.toFixed(4)} (units of sqrt(ε/m)/λ); converged: ${modes.converged}`);
console.log('   ω/ω₀     participation');
modes.omega.forEach((w, k) => console.log(`${(w / omega0).toFixed(5).padStart(8)}   ${modes.participation[k].toFixed(4)}`));
