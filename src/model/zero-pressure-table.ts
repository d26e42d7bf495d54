import type { CalibratedDensity } from './presets.ts';

/**
 * Densities from `qglass calibrate` Newton rounds (N = 2048, 8 samples each, starting from one
 * N = 2048 glass relaxed to p = 0). Each entry's pOverK ± pOverKError is the mean ± standard error
 * of a final round on fresh seeds with the current engine,
 * `qglass calibrate --q Q --n 2048 --samples 8 --seed S --initial-density RHO --rounds 1`
 * (S = 11; S = 12 for Q = 20 and 80, whose densities took one more Newton step from the S = 11
 * round). All meet |mean p/K| ≤ 1e-3. At this ensemble size a round's mean scatters by about
 * 3e-4, so further Newton steps no longer move it reliably: at Q = 240 a step of +6.8e-4 in ln ρ
 * (from rounds at −7.9e-4 and −5.6e-4) gave −8.7e-4 ± 2.5e-4 instead of about 0.
 */
export const ZERO_PRESSURE_TABLE: readonly CalibratedDensity[] = [
  { Q: 10, density: 0.49869, N: 2048, samples: 8, pOverK: -3.07e-04, pOverKError: 3.5e-04 },
  { Q: 20, density: 0.555957, N: 2048, samples: 8, pOverK: -7.27e-04, pOverKError: 4.1e-04 },
  { Q: 40, density: 0.593075, N: 2048, samples: 8, pOverK: 7.83e-04, pOverKError: 3.4e-04 },
  { Q: 80, density: 0.625597, N: 2048, samples: 8, pOverK: 2.54e-04, pOverKError: 3.2e-04 },
  { Q: 160, density: 0.6462584285694633, N: 2048, samples: 8, pOverK: -2.54e-04, pOverKError: 3.4e-04 },
  { Q: 240, density: 0.65402, N: 2048, samples: 8, pOverK: -5.60e-04, pOverKError: 1.9e-04 },
];
