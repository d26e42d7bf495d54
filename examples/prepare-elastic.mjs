// Prepare one glass and measure its athermal elastic moduli (non-affine relaxation included).
//   node examples/prepare-elastic.mjs [Q] [N] [seed]      (default: Q = 10, N = 256, seed 1)
// Larger systems: N = 4k³, e.g. 2048 or 10976. Units: λ, ε, m = 1.
import {
  DEFAULT_PREPARE, lawMetadata, measureElastic, prepareGlass, resolveDensity, systemToConfiguration, writeExtendedXyz,
} from 'qglass';

const [Q = 10, N = 256, seed = 1] = process.argv.slice(2).map(Number);
const { density, mode } = resolveDensity('zero-pressure', Q);
const glass = prepareGlass({ ...DEFAULT_PREPARE, Q, N, density, seed });
if (!glass.quench.converged) throw new Error(`the quench stopped at max |F| = ${glass.quench.maxForce}`);
// The metadata names the pair law (model="q-model" Q=...), so readers rebuild the same system.
writeExtendedXyz('glass.xyz', systemToConfiguration(glass.system, { ...lawMetadata(glass.system.model), density, densityMode: mode, seed }));

const e = measureElastic(glass.system);
console.log(`Q = ${Q}, N = ${N}, density ${density} (${mode}); glass written to glass.xyz`);
console.log(`K = ${e.K.toFixed(4)}, G = ${e.G.toFixed(4)} ε/λ³, ν = ${e.nu.toFixed(4)}, G/K = ${e.GOverK.toFixed(4)}, p/K = ${e.pOverK.toExponential(2)}`);
console.log(`CG solves converged: ${e.converged} (${e.cgIterations} iterations in all)`);
