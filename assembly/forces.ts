/**
 * Pair energy, forces and virial over the half neighbor list (the hot loop of dynamics and
 * minimisation), same data layout and semantics as the TypeScript reference in
 * src/engine/forces.ts. Two listed pairs of a row go through the arithmetic together as f64x2
 * lanes; positions are loaded into lanes and forces scattered per particle. Inverse-power pairs
 * are computed whether or not they lie inside the cutoff (a mask zeroes those outside: skipping
 * them is a branch that mispredicts too often to pay). Per pair the operations are the
 * reference's, in the same order, so each pair's force has the reference's bits; only the order in
 * which a row's pair forces are summed differs (two lanes, then added).
 *
 * Rows rowBegin .. rowEnd of the n are computed (worker threads take one range each, into their own
 * force buffers); the kernel first zeroes the forces of rows rowBegin .. n, the only ones a row
 * range can reach in the half list (partners j > i), so the whole buffer when rowBegin = 0.
 *
 * All pointer arguments are byte offsets into the imported memory: `start`, `boundaryStart`,
 * `pairs` i32; `pairType` u8; `pos`, `f`, `cell` (lx, ly, lz, xy, xz, yz), `coef` (the kernel
 * coefficient block of 16), `result` (energy, virial) f64.
 */


// Scratch for the minimum image of one pair (the three components come back through globals).
let mx: f64 = 0, my: f64 = 0, mz: f64 = 0;

@inline function minimumImage(dx: f64, dy: f64, dz: f64, cell: usize): void {
  const lx = load<f64>(cell), ly = load<f64>(cell, 8), lz = load<f64>(cell, 16);
  const xy = load<f64>(cell, 24), xz = load<f64>(cell, 32), yz = load<f64>(cell, 40);
  const hx = 0.5 * lx, hy = 0.5 * ly, hz = 0.5 * lz;
  while (dz > hz) { dz -= lz; dy -= yz; dx -= xz; }
  while (dz < -hz) { dz += lz; dy += yz; dx += xz; }
  while (dy > hy) { dy -= ly; dx -= xy; }
  while (dy < -hy) { dy += ly; dx += xy; }
  while (dx > hx) dx -= lx;
  while (dx < -hx) dx += lx;
  mx = dx; my = dy; mz = dz;
}

/** s^h lane-wise by repeated squaring, the multiplications of the reference's intPow in its order. */
@inline function powLoop(s: v128, h: i32): v128 {
  let r = f64x2.splat(1.0);
  let b = s;
  while (h > 0) {
    if (h & 1) r = f64x2.mul(r, b);
    h >>= 1;
    if (h > 0) b = f64x2.mul(b, b);
  }
  return r;
}

/**
 * powLoop for a literal 0 < h < 1024, bit by bit (the leading 1·b, exact, left out): every test is
 * on the literal, so the whole becomes straight-line code, which at Q = 240 takes about a sixth
 * less time per pair than the loop.
 */
@inline function powLiteral(s: v128, h: i32): v128 {
  let b = s;
  let r = b; // taken when bit 0 is set, replaced at the first set bit otherwise
  if (h >= 2) { b = f64x2.mul(b, b); if (h & 2) r = h & 1 ? f64x2.mul(r, b) : b; }
  if (h >= 4) { b = f64x2.mul(b, b); if (h & 4) r = h & 3 ? f64x2.mul(r, b) : b; }
  if (h >= 8) { b = f64x2.mul(b, b); if (h & 8) r = h & 7 ? f64x2.mul(r, b) : b; }
  if (h >= 16) { b = f64x2.mul(b, b); if (h & 16) r = h & 15 ? f64x2.mul(r, b) : b; }
  if (h >= 32) { b = f64x2.mul(b, b); if (h & 32) r = h & 31 ? f64x2.mul(r, b) : b; }
  if (h >= 64) { b = f64x2.mul(b, b); if (h & 64) r = h & 63 ? f64x2.mul(r, b) : b; }
  if (h >= 128) { b = f64x2.mul(b, b); if (h & 128) r = h & 127 ? f64x2.mul(r, b) : b; }
  if (h >= 256) { b = f64x2.mul(b, b); if (h & 256) r = h & 255 ? f64x2.mul(r, b) : b; }
  if (h >= 512) { b = f64x2.mul(b, b); if (h & 512) r = h & 511 ? f64x2.mul(r, b) : b; }
  return r;
}

/** s^(Q/2): straight-line for Q = 10, 20, 40, 80, 160, 240, 480, 1000 (the paper's and the controls'), the loop for other even Q. */
@inline function powHalfQ(s: v128, h: i32): v128 {
  switch (h) {
    case 5: return powLiteral(s, 5);
    case 10: return powLiteral(s, 10);
    case 20: return powLiteral(s, 20);
    case 40: return powLiteral(s, 40);
    case 80: return powLiteral(s, 80);
    case 120: return powLiteral(s, 120);
    case 240: return powLiteral(s, 240);
    case 500: return powLiteral(s, 500);
    default: return powLoop(s, h);
  }
}

@inline function powLanes(s: v128, e: f64): v128 {
  return f64x2(Math.pow(f64x2.extract_lane(s, 0), e), Math.pow(f64x2.extract_lane(s, 1), e));
}

@inline function lanes(table: usize, t0: i32, t1: i32): v128 {
  return f64x2(load<f64>(table + (<usize>t0 << 3)), load<f64>(table + (<usize>t1 << 3)));
}

/** All-ones lanes where r² < cutoff² of the lane's pair type (lane 1 off when single). */
@inline function insideMask(r2: v128, cutoff2: usize, t0: i32, t1: i32, single: bool): v128 {
  const inside = f64x2.lt(r2, lanes(cutoff2, t0, t1));
  return single ? f64x2.replace_lane(inside, 1, 0) : inside;
}

/** Scatters −(fx, fy, fz) to the partners of listed pairs k (lane 0) and, unless single, k + 1 (lane 1): x and y as one vector. */
@inline function scatterPair(f: usize, pairs: usize, k: i32, single: bool, fx: v128, fy: v128, fz: v128): void {
  const p0 = f + <usize>load<i32>(pairs + (<usize>k << 2)) * 24;
  v128.store(p0, f64x2.sub(v128.load(p0), v128.shuffle<f64>(fx, fy, 0, 2)));
  store<f64>(p0, load<f64>(p0, 16) - f64x2.extract_lane(fz, 0), 16);
  if (!single) {
    const p1 = f + <usize>load<i32>(pairs + (<usize>(k + 1) << 2)) * 24;
    v128.store(p1, f64x2.sub(v128.load(p1), v128.shuffle<f64>(fx, fy, 1, 3)));
    store<f64>(p1, load<f64>(p1, 16) - f64x2.extract_lane(fz, 1), 16);
  }
}

/** Adds row i's force, summed over both lanes. */
@inline function addRow(f: usize, i: i32, fxi: v128, fyi: v128, fzi: v128): void {
  const fi = f + <usize>i * 24;
  store<f64>(fi, load<f64>(fi) + (f64x2.extract_lane(fxi, 0) + f64x2.extract_lane(fxi, 1)));
  store<f64>(fi, load<f64>(fi, 8) + (f64x2.extract_lane(fyi, 0) + f64x2.extract_lane(fyi, 1)), 8);
  store<f64>(fi, load<f64>(fi, 16) + (f64x2.extract_lane(fzi, 0) + f64x2.extract_lane(fzi, 1)), 16);
}

@inline function storeResult(result: usize, energy: v128, virial: v128): void {
  store<f64>(result, f64x2.extract_lane(energy, 0) + f64x2.extract_lane(energy, 1));
  store<f64>(result, f64x2.extract_lane(virial, 0) + f64x2.extract_lane(virial, 1), 8);
}

/**
 * The pair vectors of listed pairs k and k + 1 of row i (position xi, yi, zi), one of them at least
 * an image pair, into gx, gy, gz (lane 0: k, lane 1: k + 1; lane 1 repeats lane 0 when single).
 */
let gx = f64x2.splat(0), gy = f64x2.splat(0), gz = f64x2.splat(0);

@inline function gatherImages(
  k: i32, single: bool, crossing: i32, pairs: usize, pos: usize, cell: usize, xi: f64, yi: f64, zi: f64,
): void {
  const p0 = pos + <usize>load<i32>(pairs + (<usize>k << 2)) * 24;
  let dx0 = load<f64>(p0) - xi, dy0 = load<f64>(p0, 8) - yi, dz0 = load<f64>(p0, 16) - zi;
  if (k >= crossing) { minimumImage(dx0, dy0, dz0, cell); dx0 = mx; dy0 = my; dz0 = mz; }
  let dx1 = dx0, dy1 = dy0, dz1 = dz0;
  if (!single) {
    const p1 = pos + <usize>load<i32>(pairs + (<usize>(k + 1) << 2)) * 24;
    dx1 = load<f64>(p1) - xi; dy1 = load<f64>(p1, 8) - yi; dz1 = load<f64>(p1, 16) - zi;
    if (k + 1 >= crossing) { minimumImage(dx1, dy1, dz1, cell); dx1 = mx; dy1 = my; dz1 = mz; }
  }
  gx = f64x2(dx0, dx1); gy = f64x2(dy0, dy1); gz = f64x2(dz0, dz1);
}

const INVERSE_POWER = 0, SOFT_SPHERE = 1;

/**
 * Inverse-power family: φ = s^(Q/2) − B·s³ + c4·x⁴ + c2·x² + c0 with s = λ²/r², x² = r²/λ².
 * Coefficients: [0] Q, [1] Q/2 if Q is even (else 0), [2] B, [3] c4, [4] c2, [5] c0, [6..8] λ²,
 * [9..11] 1/λ², [12..14] cutoff².
 */
export function pairForcesInversePower(
  rowBegin: i32, rowEnd: i32, n: i32, start: usize, boundaryStart: usize, pairs: usize, pairType: usize,
  pos: usize, f: usize, cell: usize, coef: usize, withEnergy: bool, result: usize,
): void {
  pairLoop(INVERSE_POWER, rowBegin, rowEnd, n, start, boundaryStart, pairs, pairType, pos, f, cell, coef, withEnergy, result);
}

/**
 * Soft-sphere family: φ = (ε/α)(1 − r/σ)^α for r < σ, φ′ = −(ε/σ)(1 − r/σ)^(α−1).
 * Coefficients: [0] α, [1] ε, [2..4] σ, [5..7] 1/σ, [12..14] σ². α = 2 and 5/2 avoid pow.
 */
export function pairForcesSoftSphere(
  rowBegin: i32, rowEnd: i32, n: i32, start: usize, boundaryStart: usize, pairs: usize, pairType: usize,
  pos: usize, f: usize, cell: usize, coef: usize, withEnergy: bool, result: usize,
): void {
  pairLoop(SOFT_SPHERE, rowBegin, rowEnd, n, start, boundaryStart, pairs, pairType, pos, f, cell, coef, withEnergy, result);
}

/** The loop of both families; inlined into each with `family` constant, so the family branches fold away. */
@inline function pairLoop(
  family: i32, rowBegin: i32, rowEnd: i32, n: i32, start: usize, boundaryStart: usize, pairs: usize, pairType: usize,
  pos: usize, f: usize, cell: usize, coef: usize, withEnergy: bool, result: usize,
): void {
  const cutoff2 = coef + 96;
  // inverse-power constants
  const Q = load<f64>(coef), halfQ = <i32>load<f64>(coef, 8), B = load<f64>(coef, 16);
  const c4 = load<f64>(coef, 24), c2 = load<f64>(coef, 32), c0 = load<f64>(coef, 40);
  const lambda2 = coef + 48, invLambda2 = coef + 72;
  const vQ = f64x2.splat(Q), vSix = f64x2.splat(6 * B), vB = f64x2.splat(B);
  const vFourC4 = f64x2.splat(4 * c4), vTwoC2 = f64x2.splat(2 * c2);
  const vc4 = f64x2.splat(c4), vc2 = f64x2.splat(c2), vc0 = f64x2.splat(c0);
  const exponent = 0.5 * Q;
  // soft-sphere constants (the same slots read as α, ε, 1/σ)
  const alpha = load<f64>(coef), eps = load<f64>(coef, 8);
  const invSigma = coef + 40;
  const mode = alpha == 2 ? 0 : alpha == 2.5 ? 1 : 2;
  const vEps = f64x2.splat(eps), vEpsOverAlpha = f64x2.splat(eps / alpha), one = f64x2.splat(1);

  memory.fill(f + <usize>rowBegin * 24, 0, <usize>(n - rowBegin) * 24);
  const zero = f64x2.splat(0);
  let energy = zero, virial = zero;
  for (let i = rowBegin; i < rowEnd; i++) {
    const pi = pos + <usize>i * 24;
    const xi = load<f64>(pi), yi = load<f64>(pi, 8), zi = load<f64>(pi, 16);
    const xi2 = f64x2.splat(xi), yi2 = f64x2.splat(yi), zi2 = f64x2.splat(zi);
    let fxi = zero, fyi = zero, fzi = zero;
    const crossing = load<i32>(boundaryStart + (<usize>i << 2));
    const end = load<i32>(start + (<usize>(i + 1) << 2));
    for (let k = load<i32>(start + (<usize>i << 2)); k < end; k += 2) {
      const single = k + 1 === end;
      // r_j − r_i as stored; image pairs, last in a row, take the minimum image
      const p0 = pos + <usize>load<i32>(pairs + (<usize>k << 2)) * 24;
      const p1 = single ? p0 : pos + <usize>load<i32>(pairs + (<usize>(k + 1) << 2)) * 24;
      let dx = f64x2.sub(v128.load64_lane(p1, v128.load64_zero(p0), 1), xi2);
      let dy = f64x2.sub(v128.load64_lane(p1 + 8, v128.load64_zero(p0 + 8), 1), yi2);
      let dz = f64x2.sub(v128.load64_lane(p1 + 16, v128.load64_zero(p0 + 16), 1), zi2);
      if (k + 1 >= crossing) { gatherImages(k, single, crossing, pairs, pos, cell, xi, yi, zi); dx = gx; dy = gy; dz = gz; }
      const r2 = f64x2.add(f64x2.add(f64x2.mul(dx, dx), f64x2.mul(dy, dy)), f64x2.mul(dz, dz));
      const t0 = <i32>load<u8>(pairType + <usize>k);
      const t1 = single ? t0 : <i32>load<u8>(pairType + <usize>(k + 1));
      const inside = insideMask(r2, cutoff2, t0, t1, single);
      if (family == SOFT_SPHERE && !v128.any_true(inside)) continue;
      let fr: v128, e: v128;
      if (family == INVERSE_POWER) {
        const inv = lanes(invLambda2, t0, t1);
        const x2 = f64x2.mul(r2, inv);
        const s = f64x2.div(lanes(lambda2, t0, t1), r2);
        const xq = halfQ > 0 ? powHalfQ(s, halfQ) : powLanes(s, exponent);
        const s3 = f64x2.mul(f64x2.mul(s, s), s);
        fr = f64x2.mul(f64x2.add(f64x2.add(
          f64x2.mul(f64x2.sub(f64x2.mul(vSix, s3), f64x2.mul(vQ, xq)), s),
          f64x2.mul(vFourC4, x2)), vTwoC2), inv);
        e = f64x2.add(f64x2.add(f64x2.sub(xq, f64x2.mul(vB, s3)), f64x2.mul(f64x2.add(f64x2.mul(vc4, x2), vc2), x2)), vc0);
      } else {
        const is = lanes(invSigma, t0, t1);
        const r = f64x2.sqrt(r2);
        // beyond σ, 1 − r/σ < 0: the mask removes those lanes, but keeps sqrt/pow off negative bases
        const u = v128.and(f64x2.sub(one, f64x2.mul(r, is)), inside);
        let p: v128; // (1 − r/σ)^(α−1)
        if (mode == 0) p = u;
        else if (mode == 1) p = f64x2.mul(u, f64x2.sqrt(u));
        else p = powLanes(u, alpha - 1);
        fr = f64x2.neg(f64x2.div(f64x2.mul(f64x2.mul(vEps, is), p), r)); // φ′/r = −(ε/σ)·p/r
        e = f64x2.mul(f64x2.mul(vEpsOverAlpha, p), u);
      }
      fr = v128.and(fr, inside);
      if (withEnergy) {
        energy = f64x2.add(energy, v128.and(e, inside));
        virial = f64x2.add(virial, f64x2.mul(fr, r2));
      }
      const fx = f64x2.mul(fr, dx), fy = f64x2.mul(fr, dy), fz = f64x2.mul(fr, dz);
      fxi = f64x2.add(fxi, fx); fyi = f64x2.add(fyi, fy); fzi = f64x2.add(fzi, fz);
      scatterPair(f, pairs, k, single, fx, fy, fz);
    }
    addRow(f, i, fxi, fyi, fzi);
  }
  storeResult(result, energy, virial);
}
