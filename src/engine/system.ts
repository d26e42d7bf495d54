/**
 * The state every engine routine works on: model, box, per-particle arrays (interleaved x,y,z in
 * Float64Array, species in Uint8Array) and the neighbor list. Plain data; functions transform it.
 */
import type { PairLaw } from '../model/pair-law.ts';
import { type Box, boxVolume, wrapPositions } from '../space/box.ts';
import type { Configuration } from '../model/configuration.ts';
import { type KernelArray, type KernelArrayType, inKernelMemory, kernelArray, kernelCopy, kernelMemoryActive } from '../util/kernels.ts';
import { type NeighborList, binIntoCells, buildNeighborList, createNeighborList, invalidateNeighbors, needsRebuild } from '../space/neighbors.ts';

export interface System {
  /** The pair law. */
  readonly model: PairLaw;
  box: Box;
  positions: Float64Array;
  species: Uint8Array;
  forces: Float64Array;
  neighbors: NeighborList;
  /** Results of the last force evaluation. */
  energy: number;
  /** Σ_pairs r·φ′(r) (pressure p = −virial/(3V) at T = 0). */
  virial: number;
  forceEvaluations: number;
}

export function createSystem(model: PairLaw, box: Box, positions: Float64Array, species: Uint8Array, skin = model.defaultSkin): System {
  const n = species.length;
  if (positions.length !== 3 * n) throw new RangeError(`positions hold ${positions.length / 3} particles but species ${n}`);
  for (let i = 0; i < n; i++) if (species[i] > 1) throw new RangeError(`species must be 0 (S) or 1 (L); particle ${i} has ${species[i]}`);
  return {
    model, box, positions: kernelResident(Float64Array, positions), species: kernelResident(Uint8Array, species),
    forces: kernelArray(Float64Array, 3 * n),
    neighbors: createNeighborList(n, model.cutoff, skin), energy: NaN, virial: NaN, forceEvaluations: 0,
  };
}

/** `a` itself if the kernels can address it, else a copy in the kernel memory (the system owns its arrays there). */
function kernelResident<T extends KernelArray>(type: KernelArrayType<T>, a: T): T {
  return kernelMemoryActive() && !inKernelMemory(a) ? kernelCopy(type, a) : a;
}

export function particleCount(sys: System): number {
  return sys.species.length;
}

/** Configurational (virial) pressure −(1/3V)·Σ r·φ′ of the last evaluation. */
export function virialPressure(sys: System): number {
  return -sys.virial / (3 * boxVolume(sys.box));
}

/** Rebuild the neighbor list if the skin criterion or a box change demands it (largestMove2: see needsRebuild). */
export function refreshNeighbors(sys: System, largestMove2?: number): boolean {
  if (!needsRebuild(sys.neighbors, sys.box, sys.positions, largestMove2)) return false;
  buildNeighborList(sys.neighbors, sys.box, sys.positions, sys.species);
  return true;
}

/**
 * Reorder particles by neighbor-list cell so that neighbors sit close in memory. Permutes the
 * system's arrays and every extra per-particle 3-vector array given (velocities, search directions).
 * Positions are wrapped into the box first. Returns the permutation: new index k held old particle perm[k].
 */
export function sortSpatially(sys: System, extra: Float64Array[] = []): Int32Array {
  wrapPositions(sys.box, sys.positions);
  // the binning's counting sort by cell (index order within a cell); no pair search for the old order
  binIntoCells(sys.neighbors, sys.box, sys.positions, sys.species);
  const n = particleCount(sys);
  const perm = sys.neighbors.cellOrder.slice();
  const permute3 = (a: Float64Array) => {
    const out = new Float64Array(a.length);
    for (let k = 0; k < n; k++) {
      const o = perm[k];
      out[3 * k] = a[3 * o]; out[3 * k + 1] = a[3 * o + 1]; out[3 * k + 2] = a[3 * o + 2];
    }
    a.set(out);
  };
  permute3(sys.positions);
  permute3(sys.forces);
  for (const a of extra) permute3(a);
  const sp = new Uint8Array(n);
  for (let k = 0; k < n; k++) sp[k] = sys.species[perm[k]];
  sys.species.set(sp);
  invalidateNeighbors(sys.neighbors);
  buildNeighborList(sys.neighbors, sys.box, sys.positions, sys.species);
  return perm;
}

/** Engine state for a configuration read from a file (the box must hold the interaction range). */
export function systemFromConfiguration(conf: { box: Box; positions: Float64Array; species: Uint8Array }, model: PairLaw, skin = model.defaultSkin): System {
  return createSystem(model, conf.box, conf.positions.slice(), conf.species.slice(), skin);
}

/** The system's current state as a configuration record (arrays copied) with the given metadata. */
export function systemToConfiguration(sys: System, meta: Configuration['meta']): Configuration {
  return { box: sys.box, positions: sys.positions.slice(), species: sys.species.slice(), meta };
}
