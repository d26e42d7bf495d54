/**
 * The Q-model and its purely repulsive variant (kernel family `inverse-power`):
 *
 *   φ(r)/ε = x^-Q − B·x^-6 + c4·x^4 + c2·x^2 + c0   for x = r/λ_ij < x_c = 2, else 0
 *
 * with B = 1 (`q-model`, the glass former) or B = 0 (`repulsive-q`, the same repulsion without the
 * attraction). λ_SS = 1, λ_SL = 1.18, λ_LL = 1.4. c4, c2, c0 make φ, φ′ and φ″ vanish at x_c; φ‴ jumps
 * there. Any real Q > 6 works; even integer Q takes x^-Q = (x^-2)^(Q/2) by repeated squaring.
 */
import { cutoffArrays, KERNEL_COEFFICIENTS, type PairLaw } from './pair-law.ts';

export const X_CUTOFF = 2;
/** λ_SS, λ_SL, λ_LL indexed by pair type s_i + s_j. */
export const PAIR_LAMBDA: readonly number[] = [1.0, 1.18, 1.4];

/** f(x) = x^-Q − B·x^-6 and its first two derivatives (exact, for the coefficients). */
function bareTerms(Q: number, B: number, x: number): [number, number, number] {
  const f = x ** -Q - B * x ** -6;
  const f1 = -Q * x ** (-Q - 1) + 6 * B * x ** -7;
  const f2 = Q * (Q + 1) * x ** (-Q - 2) - 42 * B * x ** -8;
  return [f, f1, f2];
}

/**
 * c4, c2, c0 from φ = φ′ = φ″ = 0 at x_c (closed form of the 3×3 solve), with a = f′(x_c), b = f″(x_c):
 *   c4 = (a − b·x_c)/(8·x_c³),  c2 = (b·x_c − 3a)/(4·x_c),  c0 = −f(x_c) + (5a·x_c − b·x_c²)/8.
 */
export function smoothingCoefficients(Q: number, attraction = 1): { c4: number; c2: number; c0: number } {
  const xc = X_CUTOFF;
  const [f, a, b] = bareTerms(Q, attraction, xc);
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

/** Q/2 when Q is an even integer (x^-Q = (x^-2)^(Q/2) by repeated squaring), else 0. */
export function halfQOf(Q: number): number {
  return Number.isInteger(Q) && Q % 2 === 0 ? Q / 2 : 0;
}

/** The Q-model: repulsion x^-Q, attraction −x^-6, smoothed at x = 2. */
export function qModel(Q: number): PairLaw {
  return inversePowerLaw('q-model', Q, 1);
}

/** The Q-model without its attraction: x^-Q alone with the same C² smoothing at x = 2. */
export function repulsiveQ(Q: number): PairLaw {
  return inversePowerLaw('repulsive-q', Q, 0);
}

function inversePowerLaw(name: string, Q: number, B: number): PairLaw {
  validateQ(Q);
  const { c4, c2, c0 } = smoothingCoefficients(Q, B);
  const halfQ = halfQOf(Q);
  const lambda2 = PAIR_LAMBDA.map((l) => l * l);
  const cut = cutoffArrays(PAIR_LAMBDA.map((l) => X_CUTOFF * l));
  const coefficients = new Float64Array(KERNEL_COEFFICIENTS);
  coefficients.set([Q, halfQ, B, c4, c2, c0, ...lambda2, ...lambda2.map((l2) => 1 / l2), ...cut.cutoff2]);
  const sixB = 6 * B, fortyTwoB = 42 * B, threeThirtySixB = 336 * B;
  const derivatives = (t: number, r2: number, out: Float64Array): void => {
    if (r2 >= cut.cutoff2[t]) {
      out[0] = out[1] = out[2] = out[3] = 0;
      return;
    }
    const lam2 = lambda2[t];
    const lam = Math.sqrt(lam2);
    const x2 = r2 / lam2;
    const x = Math.sqrt(x2);
    const s = 1 / x2;
    const xq = halfQ > 0 ? intPow(s, halfQ) : Math.pow(s, 0.5 * Q); // x^-Q
    const s3 = s * s * s; // x^-6
    const F = xq - B * s3 + (c4 * x2 + c2) * x2 + c0;
    const F1 = (-Q * xq + sixB * s3) / x + (4 * c4 * x2 + 2 * c2) * x;
    const F2 = (Q * (Q + 1) * xq - fortyTwoB * s3) * s + 12 * c4 * x2 + 2 * c2;
    const F3 = (-Q * (Q + 1) * (Q + 2) * xq + threeThirtySixB * s3) * s / x + 24 * c4 * x;
    out[0] = F;
    out[1] = F1 / lam;
    out[2] = F2 / lam2;
    out[3] = F3 / (lam2 * lam);
  };
  return {
    name, parameters: { Q }, ...cut,
    // minimiser steps shrink as the repulsion stiffens: from the cost per force evaluation of CG
    // quenches at N = 10976, 0.3 is best at Q = 10, 0.1 at Q = 240
    defaultSkin: Math.min(0.3, Math.max(0.1, 3 / Q)),
    contactLaw: false,
    derivatives, kernel: { family: 'inverse-power', coefficients },
  };
}

/** Position and depth of the minimum of the S–S φ in reduced units x (Newton on φ′ = 0). */
export function potentialMinimum(law: PairLaw): { x: number; phi: number } {
  const out = new Float64Array(4);
  let x = 1.0 + 1 / law.parameters.Q;
  for (let k = 0; k < 100; k++) {
    law.derivatives(0, x * x, out);
    const dx = out[1] / out[2];
    x -= dx;
    if (Math.abs(dx) < 1e-15 * x) break;
  }
  law.derivatives(0, x * x, out);
  return { x, phi: out[0] };
}
