import type { CalibratedDensity } from './presets.ts';

/** Written by `qglass calibrate`; see presets.ts. */
export const ZERO_PRESSURE_TABLE: readonly CalibratedDensity[] = [];
