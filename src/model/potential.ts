/**
 * The Q-model pair potential and its smoothing coefficients (docs/methods.md §1).
 *
 *   φ(r)/ε = x^-Q − x^-6 + c4·x^4 + c2·x^2 + c0   for x = r/λ_ij < x_c = 2, else 0
 *
 * Species: 0 = S (small), 1 = L (large). Pair type index = s_i + s_j: 0 = SS, 1 = SL, 2 = LL.
 * All derivatives are radial, in units of ε and λ_SS.
 */

export const X_CUTOFF = 2;
/** λ_SS, λ_SL, λ_LL indexed by pair type s_i + s_j. */
export const PAIR_LAMBDA: readonly number[] = [1.0, 1.18, 1.4];
export const SPECIES_LABELS = ['S', 'L'] as const;

export interface PairModel {
  readonly Q: number;
  readonly c4: number;
  readonly c2: number;
  readonly c0: number;
  /** Q/2 when Q is an even integer (x^-Q = (x^-2)^(Q/2) by repeated squaring), else 0. */
  readonly halfQ: number;
  /** s ↦ s^(Q/2): straight-line repeated squaring for even Q, Math.pow otherwise. */
  readonly repulsion: (s: number) => number;
  /** Per pair type: λ², 1/λ², (x_c·λ)². */
  readonly lambda2: Float64Array;
  readonly invLambda2: Float64Array;
  readonly cutoff2: Float64Array;
  /** Largest pair cutoff distance x_c·λ_LL. */
  readonly maxCutoff: number;
}

/** f(x) = x^-Q − x^-6 and its first two derivatives (exact, for the coefficients). */
function bareTerms(Q: number, x: number): [number, number, number] {
  const f = x ** -Q - x ** -6;
  const f1 = -Q * x ** (-Q - 1) + 6 * x ** -7;
  const f2 = Q * (Q + 1) * x ** (-Q - 2) - 42 * x ** -8;
  return [f, f1, f2];
}

/** c4, c2, c0 from φ = φ′ = φ″ = 0 at x_c (the closed form of the 3×3 solve). */
export function smoothingCoefficients(Q: number): { c4: number; c2: number; c0: number } {
  const xc = X_CUTOFF;
  const [f, a, b] = bareTerms(Q, xc);
  const c4 = (a - b * xc) / (8 * xc ** 3);
  const c2 = (b * xc - 3 * a) / (4 * xc);
  const c0 = -f + (5 * a * xc - b * xc * xc) / 8;
  return { c4, c2, c0 };
}

export function validateQ(Q: number): void {
  if (!Number.isFinite(Q) || Q <= 6) {
    throw new RangeError(`Q must be a finite number > 6 (the repulsion must be steeper than the x^-6 attraction); got ${Q}`);
  }
}

export function makePairModel(Q: number): PairModel {
  validateQ(Q);
  const { c4, c2, c0 } = smoothingCoefficients(Q);
  const halfQ = Number.isInteger(Q) && Q % 2 === 0 ? Q / 2 : 0;
  const lambda2 = new Float64Array(PAIR_LAMBDA.map((l) => l * l));
  const invLambda2 = new Float64Array(PAIR_LAMBDA.map((l) => 1 / (l * l)));
  const cutoff2 = new Float64Array(PAIR_LAMBDA.map((l) => (X_CUTOFF * l) ** 2));
  return { Q, c4, c2, c0, halfQ, repulsion: repulsionFunction(Q, halfQ), lambda2, invLambda2, cutoff2, maxCutoff: X_CUTOFF * PAIR_LAMBDA[2] };
}

/** s^n for a non-negative integer n by repeated squaring (the hot-loop power). */
export function intPow(s: number, n: number): number {
  let result = 1;
  let base = s;
  while (n > 0) {
    if (n & 1) result *= base;
    base *= base;
    n >>= 1;
  }
  return result;
}

/** x^-Q given s = x^-2: integer powers for even Q, Math.pow otherwise. */
export function repulsiveTerm(model: PairModel, s: number): number {
  return model.halfQ > 0 ? intPow(s, model.halfQ) : Math.pow(s, 0.5 * model.Q);
}

/**
 * s ↦ s^(Q/2) as one straight line of multiplications (the squarings and products of intPow,
 * unrolled for this exponent): the force loop calls it per pair, where a loop over the exponent's
 * bits costs a third of the pair time. Same operations in the same order as intPow, so the same bits.
 * One function object per Q, shared by every model of that Q, keeps the force loop's call monomorphic.
 */
const repulsionByQ = new Map<number, (s: number) => number>();

function repulsionFunction(Q: number, halfQ: number): (s: number) => number {
  let fn = repulsionByQ.get(Q);
  if (!fn) {
    fn = generateRepulsion(Q, halfQ);
    repulsionByQ.set(Q, fn);
  }
  return fn;
}

function generateRepulsion(Q: number, halfQ: number): (s: number) => number {
  if (halfQ === 0) {
    const e = 0.5 * Q;
    return (s) => Math.pow(s, e);
  }
  const lines: string[] = [];
  let result = '';
  let base = 's';
  for (let n = halfQ, k = 0; n > 0; n >>= 1, k++) {
    if (n & 1) {
      if (result === '') { lines.push(`let r = ${base};`); result = 'r'; }
      else lines.push(`r = r * ${base};`);
    }
    if (n > 1) { lines.push(`const b${k + 1} = ${base} * ${base};`); base = `b${k + 1}`; }
  }
  return new Function('s', `${lines.join(' ')} return r;`) as (s: number) => number;
}

/**
 * Radial derivatives of φ at squared distance r2 for pair type t, written into out[0..3] as
 * φ, φ′, φ″, φ‴ (out[k] = 0 beyond the cutoff). Used off the hot path (Hessian, contractions, tests);
 * the force loop inlines the same algebra for φ and φ′/r only.
 */
export function pairDerivatives(model: PairModel, t: number, r2: number, out: Float64Array): void {
  if (r2 >= model.cutoff2[t]) {
    out[0] = out[1] = out[2] = out[3] = 0;
    return;
  }
  const lam2 = model.lambda2[t];
  const lam = Math.sqrt(lam2);
  const x2 = r2 / lam2;
  const x = Math.sqrt(x2);
  const s = 1 / x2;
  const xq = repulsiveTerm(model, s); // x^-Q
  const s3 = s * s * s; // x^-6
  const { Q, c4, c2, c0 } = model;
  const F = xq - s3 + (c4 * x2 + c2) * x2 + c0;
  const F1 = (-Q * xq + 6 * s3) / x + (4 * c4 * x2 + 2 * c2) * x;
  const F2 = (Q * (Q + 1) * xq - 42 * s3) * s + 12 * c4 * x2 + 2 * c2;
  const F3 = (-Q * (Q + 1) * (Q + 2) * xq + 336 * s3) * s / x + 24 * c4 * x;
  out[0] = F;
  out[1] = F1 / lam;
  out[2] = F2 / lam2;
  out[3] = F3 / (lam2 * lam);
}

/** φ, φ′, φ″, φ‴ at distance r for pair type t (convenience, allocates). */
export function phi(model: PairModel, t: number, r: number): [number, number, number, number] {
  const out = new Float64Array(4);
  pairDerivatives(model, t, r * r, out);
  return [out[0], out[1], out[2], out[3]];
}

/** Position and depth of the minimum of φ in reduced units x (Newton on F′ = 0). */
export function potentialMinimum(model: PairModel): { x: number; phi: number } {
  const out = new Float64Array(4);
  let x = 1.0 + 1 / model.Q;
  for (let k = 0; k < 100; k++) {
    pairDerivatives(model, 0, x * x, out);
    const dx = out[1] / out[2];
    x -= dx;
    if (Math.abs(dx) < 1e-15 * x) break;
  }
  pairDerivatives(model, 0, x * x, out);
  return { x, phi: out[0] };
}
