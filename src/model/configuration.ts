/**
 * A configuration as files carry it: box, positions (interleaved x,y,z), species (0 = S, 1 = L)
 * and key=value metadata (Q, density, seed, energy, pressure, ...). Engine state is built from it
 * (createSystem) and written back to it (systemToConfiguration).
 */
import type { Box } from '../space/box.ts';

export type MetaValue = string | number | boolean;

export interface Configuration {
  box: Box;
  positions: Float64Array;
  species: Uint8Array;
  meta: Record<string, MetaValue>;
}
