/**
 * A pair law: how two particles interact, as a value that the engine, the linear-response code,
 * the contractions and the CLI take (as ASE hands Atoms to a Calculator). A law states its
 * parameters, its cutoff per pair type, φ and its first three radial derivatives in closed form, and
 * what the fast force kernels read.
 *
 * Every law here acts on the binary mixture of small (species 0, S) and large (species 1, L)
 * particles; the pair type of particles i, j is t = s_i + s_j: 0 = SS, 1 = SL, 2 = LL.
 * Energies in ε, lengths in the small particles' size.
 */

export const SPECIES_LABELS = ['S', 'L'] as const;
/** Number of pair types t = s_i + s_j. */
export const PAIR_TYPES = 3;

/**
 * The force kernels' families. Each fast kernel (the TypeScript reference in src/engine/forces.ts
 * and its WebAssembly twin) evaluates one family from a block of KERNEL_COEFFICIENTS numbers:
 * - `inverse-power`: with x² = r²/λ_t², s = 1/x²,
 *     φ = s^(Q/2) − B·s³ + c4·x⁴ + c2·x² + c0,  φ′/r = [(6B·s³ − Q·s^(Q/2))·s + 4c4·x² + 2c2]/λ_t²;
 *   [0] Q, [1] Q/2 if Q is an even integer (powers by repeated squaring) else 0, [2] B, [3] c4,
 *   [4] c2, [5] c0, [6..8] λ_t², [9..11] 1/λ_t², [12..14] cutoff_t².
 * - `soft-sphere`: φ = (ε/α)·(1 − r/σ_t)^α for r < σ_t, φ′ = −(ε/σ_t)·(1 − r/σ_t)^(α−1);
 *   [0] α, [1] ε, [6..8] σ_t, [9..11] 1/σ_t, [12..14] cutoff_t² = σ_t².
 * - `generic`: no fast kernel; the reference loop calls the law's `derivatives` per pair, so a law of
 *   any other form works unchanged (slower) until it is given a kernel.
 * Slots 6..14 of every fast family hold its three per-pair-type numbers (cutoff² last), which the
 * WebAssembly kernels read as lane pairs (src/engine/forces.ts lays them out).
 */
export type KernelFamily = 'inverse-power' | 'soft-sphere' | 'generic';
export const KERNEL_COEFFICIENTS = 16;

export interface PairLawKernel {
  readonly family: KernelFamily;
  readonly coefficients: Float64Array;
}

export interface PairLaw {
  /** Registry name: 'q-model', 'repulsive-q', 'harmonic', 'hertzian'. */
  readonly name: string;
  /** The law's parameters by name (what files and catalogs record). */
  readonly parameters: Readonly<Record<string, number>>;
  /** Interaction cutoff per pair type, and its square. */
  readonly cutoff: Float64Array;
  readonly cutoff2: Float64Array;
  readonly maxCutoff: number;
  /**
   * Neighbor skin (λ) for minimisers: pair work grows with the skin, rebuilds fall with it; the
   * balance depends on how far particles move per step, which the law's stiffness sets.
   */
  readonly defaultSkin: number;
  /**
   * Whether particles interact only when they overlap (contact laws such as soft spheres): their
   * packings can hold rattlers, which the measurements then exclude (src/measure/rattlers.ts).
   */
  readonly contactLaw: boolean;
  /** φ, φ′, φ″, φ‴ at squared distance r2 for pair type t into out[0..3]; zeros at and beyond the cutoff. */
  derivatives(t: number, r2: number, out: Float64Array): void;
  readonly kernel: PairLawKernel;
}

/** φ, φ′, φ″, φ‴ at distance r for pair type t (convenience for tests and figures; allocates). */
export function phiAt(law: PairLaw, t: number, r: number): [number, number, number, number] {
  const out = new Float64Array(4);
  law.derivatives(t, r * r, out);
  return [out[0], out[1], out[2], out[3]];
}

/** Cutoffs and their squares as the law records them. */
export function cutoffArrays(cutoff: readonly number[]): { cutoff: Float64Array; cutoff2: Float64Array; maxCutoff: number } {
  return { cutoff: Float64Array.from(cutoff), cutoff2: Float64Array.from(cutoff, (c) => c * c), maxCutoff: Math.max(...cutoff) };
}
