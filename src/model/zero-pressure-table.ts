import type { CalibratedDensity } from './presets.ts';

/**
 * Zero-pressure densities of the glass protocol at N = 2048. Each entry's samples, pOverK and
 * pOverKError are the count and mean ± standard error of p/K on fresh seeds at that density, seeds
 * that played no part in choosing it (campaigns with `--measure elastic` at fixed density; master
 * seeds 2030 for 64 samples at every Q, 2031 for 136 more at Q = 10, 2032 for Q = 80 and 160, 2037
 * for Q = 20, 2036 for Q = 40, 2035 for Q = 240, 2034 for Q = 480 and 1000; those samples are kept in
 * data/zp-q480-q1000-s2034). The densities at Q = 10 and 160 come from earlier
 * `qglass calibrate` rounds of 8 samples; at Q = 80 from one step ρ ← ρ/(1 + mean p/K) from the
 * samples of seed 2030 at the earlier entry; at Q = 40 and 240 from the secant of two such rounds
 * (seeds 2030/2031 and 2034 at Q = 40, 2030 and 2032 at Q = 240); at Q = 20 from one step of slope
 * 0.5 (about the secant slope measured at Q = 40) from 200 samples (seeds 2030/2031) at the earlier
 * entry. At Q = 480 and 1000 from one step ρ ← ρ·exp(−mean p/K / 0.7) (0.7 the secant slope measured
 * at Q = 240) from the samples of seed 2033 (data/zp-q480-q1000-s2033) at the densities of relaxed
 * N = 1372 glasses. The aim |mean p/K| ≤ 2e-4 with standard error ≤ 1e-4 is met at every Q of the table.
 */
export const ZERO_PRESSURE_TABLE: readonly CalibratedDensity[] = [
  { Q: 10, density: 0.49869, N: 2048, samples: 200, pOverK: -1.47e-04, pOverKError: 0.75e-04 },
  { Q: 20, density: 0.555699, N: 2048, samples: 160, pOverK: -0.02e-04, pOverKError: 0.92e-04 },
  { Q: 40, density: 0.592098, N: 2048, samples: 180, pOverK: -1.75e-04, pOverKError: 0.92e-04 },
  { Q: 80, density: 0.625459, N: 2048, samples: 64, pOverK: -0.84e-04, pOverKError: 0.96e-04 },
  { Q: 160, density: 0.6462584285694633, N: 2048, samples: 64, pOverK: -1.20e-04, pOverKError: 0.80e-04 },
  { Q: 240, density: 0.65486, N: 2048, samples: 64, pOverK: -0.36e-04, pOverKError: 0.94e-04 },
  { Q: 480, density: 0.664593, N: 2048, samples: 53, pOverK: 0.74e-04, pOverKError: 1.00e-04 },
  { Q: 1000, density: 0.670233, N: 2048, samples: 50, pOverK: -0.04e-04, pOverKError: 0.93e-04 },
];
