/**
 * Pair energy, forces and virial over the half neighbor list (the hot loop of dynamics and
 * minimisation), same data layout and semantics as the TypeScript reference in
 * src/engine/forces.ts. Two listed pairs of a row go through the arithmetic together as f64x2
 * lanes; positions are loaded into lanes and forces scattered per particle. Inverse-power rows take
 * their in-image pairs four at a time first (two independent lane pairs: 7–11 % less time per force
 * evaluation at Q = 240 than two at a time, measured; why was not). Inverse-power pairs
 * are computed whether or not they lie inside the cutoff (a mask zeroes those outside: skipping
 * them is a branch that mispredicts too often to pay). Per pair the operations are the
 * reference's, in the same order, so each pair's force has the reference's bits; only the order in
 * which a row's pair forces are summed differs (by lanes and lane pairs, then added).
 *
 * Rows rowBegin .. rowEnd of the n are computed (worker threads take one range each, into their own
 * force buffers); the kernel first zeroes the forces of rows rowBegin .. n, the only ones a row
 * range can reach in the half list (partners j > i), so the whole buffer when rowBegin = 0.
 *
 * All pointer arguments are byte offsets into the imported memory: `start`, `boundaryStart`,
 * `pairs` i32; `pairType` u8; `pos`, `f`, `cell` (lx, ly, lz, xy, xz, yz), `coef` (the kernel
 * block: the law's 16 coefficients, then the type-lane table), `result` (energy, virial) f64.
 */

/**
 * Byte offset of the type-lane table in the kernel block: 12 entries of the three per-pair-type
 * numbers (coefficients [6..8], [9..11], [12..14] = cutoff²) as lane pairs, 48 bytes each, entry
 * 3·t0 + t1 for two pairs of types t0, t1 and 9 + t0 for a lone last pair (lane 1 of its cutoff² is
 * 0). One vector load per number instead of two scalar loads and a shuffle (src/engine/forces.ts
 * writes it).
 */
const TYPE_LANES: usize = 128;


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

@inline function powLanes(s: v128, e: f64): v128 {
  return f64x2(Math.pow(f64x2.extract_lane(s, 0), e), Math.pow(f64x2.extract_lane(s, 1), e));
}

/**
 * The lanes of the pair-type numbers for listed pairs k, k + 1 of pair types t0, t1: the kernel
 * block's table entry 3·t0 + t1, or 9 + t0 when pair k is the row's last (single), whose second
 * cutoff² lane is 0 so that the comparison with r² switches lane 1 off.
 */
@inline function typeLanes(coef: usize, pairType: usize, k: i32, single: bool): usize {
  const t0 = <i32>load<u8>(pairType + <usize>k);
  const entry = single ? 9 + t0 : 3 * t0 + <i32>load<u8>(pairType + <usize>(k + 1));
  return coef + TYPE_LANES + <usize>entry * 48;
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

@inline function squaredLength(dx: v128, dy: v128, dz: v128): v128 {
  return f64x2.add(f64x2.add(f64x2.mul(dx, dx), f64x2.mul(dy, dy)), f64x2.mul(dz, dz));
}

// The energy of the last inversePowerFactor's lanes.
let pairEnergy = f64x2.splat(0);

/**
 * φ′/r of two inverse-power pairs at squared distances r2 (their type lanes at `typed`), zero in a
 * lane beyond the cutoff; with withEnergy, their φ (masked alike) into pairEnergy. The constants
 * (Q, 6B, 4c4, 2c2; B, c4, c2, c0 as lane pairs) come as arguments: read from globals they cost
 * about 5 % more time per pair.
 */
@inline function inversePowerFactor(
  r2: v128, typed: usize, power: i32, halfQ: i32, exponent: f64, withEnergy: bool,
  vQ: v128, vSixB: v128, vFourC4: v128, vTwoC2: v128, vB: v128, vC4: v128, vC2: v128, vC0: v128,
): v128 {
  const inside = f64x2.lt(r2, v128.load(typed, 32));
  const inv = v128.load(typed, 16);
  const x2 = f64x2.mul(r2, inv);
  const s = f64x2.div(v128.load(typed), r2);
  const xq = power > 0 ? powLiteral(s, power) : power == POWER_LOOP ? powLoop(s, halfQ) : powLanes(s, exponent);
  const s3 = f64x2.mul(f64x2.mul(s, s), s);
  const fr = f64x2.mul(f64x2.add(f64x2.add(
    f64x2.mul(f64x2.sub(f64x2.mul(vSixB, s3), f64x2.mul(vQ, xq)), s),
    f64x2.mul(vFourC4, x2)), vTwoC2), inv);
  if (withEnergy) {
    const e = f64x2.add(f64x2.add(f64x2.sub(xq, f64x2.mul(vB, s3)), f64x2.mul(f64x2.add(f64x2.mul(vC4, x2), vC2), x2)), vC0);
    pairEnergy = v128.and(e, inside);
  }
  return v128.and(fr, inside);
}

const INVERSE_POWER = 0, SOFT_SPHERE = 1;
/** The loop's variant for s^(Q/2) (other than a literal exponent) and for (1 − r/σ)^(α−1). */
const POWER_LOOP = -1, POWER_POW = -2;
const ALPHA_2 = 0, ALPHA_5_2 = 1, ALPHA_POW = 2;

/**
 * Inverse-power family: φ = s^(Q/2) − B·s³ + c4·x⁴ + c2·x² + c0 with s = λ²/r², x² = r²/λ².
 * Coefficients: [0] Q, [1] Q/2 if Q is even (else 0), [2] B, [3] c4, [4] c2, [5] c0, [6..8] λ²,
 * [9..11] 1/λ², [12..14] cutoff².
 * s^(Q/2) is straight-line code for Q = 10, 20, 40, 80, 160, 240, 480, 1000 (the paper's and the
 * controls'), squaring in a loop for other even Q, Math.pow for odd Q. Each case, with and without
 * the energy, has its own loop in its own function (below), chosen here once per call: a loop with
 * a dispatch or a call in it, or several loops in one function, keep their vectors on the stack
 * (measured: 12–13 % more time per pair at Q = 10 and 240).
 */
export function pairForcesInversePower(
  rowBegin: i32, rowEnd: i32, n: i32, start: usize, boundaryStart: usize, pairs: usize, pairType: usize,
  pos: usize, f: usize, cell: usize, coef: usize, withEnergy: bool, result: usize,
): void {
  setArguments(rowBegin, rowEnd, n, start, boundaryStart, pairs, pairType, pos, f, cell, coef, result);
  if (withEnergy) {
    switch (<i32>load<f64>(coef, 8)) {
      case 5: inversePower5Energy(); break;
      case 10: inversePower10Energy(); break;
      case 20: inversePower20Energy(); break;
      case 40: inversePower40Energy(); break;
      case 80: inversePower80Energy(); break;
      case 120: inversePower120Energy(); break;
      case 240: inversePower240Energy(); break;
      case 500: inversePower500Energy(); break;
      case 0: inversePowerPowEnergy(); break;
      default: inversePowerLoopEnergy();
    }
  } else {
    switch (<i32>load<f64>(coef, 8)) {
      case 5: inversePower5(); break;
      case 10: inversePower10(); break;
      case 20: inversePower20(); break;
      case 40: inversePower40(); break;
      case 80: inversePower80(); break;
      case 120: inversePower120(); break;
      case 240: inversePower240(); break;
      case 500: inversePower500(); break;
      case 0: inversePowerPow(); break;
      default: inversePowerLoop();
    }
  }
}

/**
 * Soft-sphere family: φ = (ε/α)(1 − r/σ)^α for r < σ, φ′ = −(ε/σ)(1 − r/σ)^(α−1).
 * Coefficients: [0] α, [1] ε, [6..8] σ, [9..11] 1/σ, [12..14] σ². α = 2 and 5/2 avoid pow; each
 * case has its own loop, as above.
 */
export function pairForcesSoftSphere(
  rowBegin: i32, rowEnd: i32, n: i32, start: usize, boundaryStart: usize, pairs: usize, pairType: usize,
  pos: usize, f: usize, cell: usize, coef: usize, withEnergy: bool, result: usize,
): void {
  setArguments(rowBegin, rowEnd, n, start, boundaryStart, pairs, pairType, pos, f, cell, coef, result);
  const alpha = load<f64>(coef);
  if (withEnergy) {
    if (alpha == 2) softSphere2Energy(); else if (alpha == 2.5) softSphere5Over2Energy(); else softSpherePowEnergy();
  } else {
    if (alpha == 2) softSphere2(); else if (alpha == 2.5) softSphere5Over2(); else softSpherePow();
  }
}

// The arguments of the current call, read by the loop functions (globals are per instance, so per thread).
let argRowBegin: i32 = 0, argRowEnd: i32 = 0, argN: i32 = 0;
let argStart: usize = 0, argBoundaryStart: usize = 0, argPairs: usize = 0, argPairType: usize = 0;
let argPos: usize = 0, argF: usize = 0, argCell: usize = 0, argCoef: usize = 0, argResult: usize = 0;

@inline function setArguments(
  rowBegin: i32, rowEnd: i32, n: i32, start: usize, boundaryStart: usize, pairs: usize, pairType: usize,
  pos: usize, f: usize, cell: usize, coef: usize, result: usize,
): void {
  argRowBegin = rowBegin; argRowEnd = rowEnd; argN = n; argStart = start; argBoundaryStart = boundaryStart;
  argPairs = pairs; argPairType = pairType; argPos = pos; argF = f; argCell = cell; argCoef = coef; argResult = result;
}

function inversePower5(): void { pairLoop(INVERSE_POWER, 5, false); }
function inversePower5Energy(): void { pairLoop(INVERSE_POWER, 5, true); }
function inversePower10(): void { pairLoop(INVERSE_POWER, 10, false); }
function inversePower10Energy(): void { pairLoop(INVERSE_POWER, 10, true); }
function inversePower20(): void { pairLoop(INVERSE_POWER, 20, false); }
function inversePower20Energy(): void { pairLoop(INVERSE_POWER, 20, true); }
function inversePower40(): void { pairLoop(INVERSE_POWER, 40, false); }
function inversePower40Energy(): void { pairLoop(INVERSE_POWER, 40, true); }
function inversePower80(): void { pairLoop(INVERSE_POWER, 80, false); }
function inversePower80Energy(): void { pairLoop(INVERSE_POWER, 80, true); }
function inversePower120(): void { pairLoop(INVERSE_POWER, 120, false); }
function inversePower120Energy(): void { pairLoop(INVERSE_POWER, 120, true); }
function inversePower240(): void { pairLoop(INVERSE_POWER, 240, false); }
function inversePower240Energy(): void { pairLoop(INVERSE_POWER, 240, true); }
function inversePower500(): void { pairLoop(INVERSE_POWER, 500, false); }
function inversePower500Energy(): void { pairLoop(INVERSE_POWER, 500, true); }
function inversePowerLoop(): void { pairLoop(INVERSE_POWER, POWER_LOOP, false); }
function inversePowerLoopEnergy(): void { pairLoop(INVERSE_POWER, POWER_LOOP, true); }
function inversePowerPow(): void { pairLoop(INVERSE_POWER, POWER_POW, false); }
function inversePowerPowEnergy(): void { pairLoop(INVERSE_POWER, POWER_POW, true); }
function softSphere2(): void { pairLoop(SOFT_SPHERE, ALPHA_2, false); }
function softSphere2Energy(): void { pairLoop(SOFT_SPHERE, ALPHA_2, true); }
function softSphere5Over2(): void { pairLoop(SOFT_SPHERE, ALPHA_5_2, false); }
function softSphere5Over2Energy(): void { pairLoop(SOFT_SPHERE, ALPHA_5_2, true); }
function softSpherePow(): void { pairLoop(SOFT_SPHERE, ALPHA_POW, false); }
function softSpherePowEnergy(): void { pairLoop(SOFT_SPHERE, ALPHA_POW, true); }

/**
 * The loop of both families over the call's arguments; inlined with `family`, `power` (inverse
 * power: the literal Q/2, POWER_LOOP or POWER_POW; soft sphere: ALPHA_2, ALPHA_5_2 or ALPHA_POW)
 * and `withEnergy` constant, so their branches fold away.
 */
@inline function pairLoop(family: i32, power: i32, withEnergy: bool): void {
  const rowBegin = argRowBegin, rowEnd = argRowEnd, n = argN, start = argStart, boundaryStart = argBoundaryStart;
  const pairs = argPairs, pairType = argPairType, pos = argPos, f = argF, cell = argCell, coef = argCoef, result = argResult;
  // inverse-power constants
  const Q = load<f64>(coef), halfQ = <i32>load<f64>(coef, 8), B = load<f64>(coef, 16);
  const c4 = load<f64>(coef, 24), c2 = load<f64>(coef, 32), c0 = load<f64>(coef, 40);
  const vQ = f64x2.splat(Q), vSixB = f64x2.splat(6 * B), vB = f64x2.splat(B);
  const vFourC4 = f64x2.splat(4 * c4), vTwoC2 = f64x2.splat(2 * c2);
  const vC4 = f64x2.splat(c4), vC2 = f64x2.splat(c2), vC0 = f64x2.splat(c0);
  const exponent = 0.5 * Q;
  // soft-sphere constants (the same slots read as α, ε)
  const alpha = load<f64>(coef), eps = load<f64>(coef, 8);
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
    let k = load<i32>(start + (<usize>i << 2));
    if (family == INVERSE_POWER) {
      // four in-image pairs at a time, as two independent lane pairs a and b
      for (const quadEnd = min(end, crossing); k + 3 < quadEnd; k += 4) {
        const pa = pos + <usize>load<i32>(pairs + (<usize>k << 2)) * 24, pa1 = pos + <usize>load<i32>(pairs + (<usize>(k + 1) << 2)) * 24;
        const pb = pos + <usize>load<i32>(pairs + (<usize>(k + 2) << 2)) * 24, pb1 = pos + <usize>load<i32>(pairs + (<usize>(k + 3) << 2)) * 24;
        const ax = f64x2.sub(v128.load64_lane(pa1, v128.load64_zero(pa), 1), xi2);
        const ay = f64x2.sub(v128.load64_lane(pa1, v128.load64_zero(pa, 8), 1, 8), yi2);
        const az = f64x2.sub(v128.load64_lane(pa1, v128.load64_zero(pa, 16), 1, 16), zi2);
        const bx = f64x2.sub(v128.load64_lane(pb1, v128.load64_zero(pb), 1), xi2);
        const by = f64x2.sub(v128.load64_lane(pb1, v128.load64_zero(pb, 8), 1, 8), yi2);
        const bz = f64x2.sub(v128.load64_lane(pb1, v128.load64_zero(pb, 16), 1, 16), zi2);
        const ar2 = squaredLength(ax, ay, az);
        const br2 = squaredLength(bx, by, bz);
        const afr = inversePowerFactor(ar2, typeLanes(coef, pairType, k, false), power, halfQ, exponent, withEnergy, vQ, vSixB, vFourC4, vTwoC2, vB, vC4, vC2, vC0);
        if (withEnergy) { energy = f64x2.add(energy, pairEnergy); virial = f64x2.add(virial, f64x2.mul(afr, ar2)); }
        const bfr = inversePowerFactor(br2, typeLanes(coef, pairType, k + 2, false), power, halfQ, exponent, withEnergy, vQ, vSixB, vFourC4, vTwoC2, vB, vC4, vC2, vC0);
        if (withEnergy) { energy = f64x2.add(energy, pairEnergy); virial = f64x2.add(virial, f64x2.mul(bfr, br2)); }
        const afx = f64x2.mul(afr, ax), afy = f64x2.mul(afr, ay), afz = f64x2.mul(afr, az);
        const bfx = f64x2.mul(bfr, bx), bfy = f64x2.mul(bfr, by), bfz = f64x2.mul(bfr, bz);
        fxi = f64x2.add(fxi, f64x2.add(afx, bfx)); fyi = f64x2.add(fyi, f64x2.add(afy, bfy)); fzi = f64x2.add(fzi, f64x2.add(afz, bfz));
        scatterPair(f, pairs, k, false, afx, afy, afz);
        scatterPair(f, pairs, k + 2, false, bfx, bfy, bfz);
      }
    }
    // the rest of the row two at a time (image pairs, last in a row, take the minimum image)
    for (; k < end; k += 2) {
      const single = k + 1 === end;
      // r_j − r_i as stored, or its minimum image
      const p0 = pos + <usize>load<i32>(pairs + (<usize>k << 2)) * 24;
      const p1 = single ? p0 : pos + <usize>load<i32>(pairs + (<usize>(k + 1) << 2)) * 24;
      let dx = f64x2.sub(v128.load64_lane(p1, v128.load64_zero(p0), 1), xi2);
      let dy = f64x2.sub(v128.load64_lane(p1, v128.load64_zero(p0, 8), 1, 8), yi2);
      let dz = f64x2.sub(v128.load64_lane(p1, v128.load64_zero(p0, 16), 1, 16), zi2);
      if (k + 1 >= crossing) { gatherImages(k, single, crossing, pairs, pos, cell, xi, yi, zi); dx = gx; dy = gy; dz = gz; }
      const r2 = squaredLength(dx, dy, dz);
      const typed = typeLanes(coef, pairType, k, single);
      let fr: v128;
      if (family == INVERSE_POWER) {
        fr = inversePowerFactor(r2, typed, power, halfQ, exponent, withEnergy, vQ, vSixB, vFourC4, vTwoC2, vB, vC4, vC2, vC0);
        if (withEnergy) energy = f64x2.add(energy, pairEnergy);
      } else {
        const inside = f64x2.lt(r2, v128.load(typed, 32));
        if (!v128.any_true(inside)) continue;
        const is = v128.load(typed, 16);
        const r = f64x2.sqrt(r2);
        // beyond σ, 1 − r/σ < 0: the mask removes those lanes, but keeps sqrt/pow off negative bases
        const u = v128.and(f64x2.sub(one, f64x2.mul(r, is)), inside);
        let p: v128; // (1 − r/σ)^(α−1)
        if (power == ALPHA_2) p = u;
        else if (power == ALPHA_5_2) p = f64x2.mul(u, f64x2.sqrt(u));
        else p = powLanes(u, alpha - 1);
        fr = v128.and(f64x2.neg(f64x2.div(f64x2.mul(f64x2.mul(vEps, is), p), r)), inside); // φ′/r = −(ε/σ)·p/r
        if (withEnergy) energy = f64x2.add(energy, v128.and(f64x2.mul(f64x2.mul(vEpsOverAlpha, p), u), inside));
      }
      if (withEnergy) virial = f64x2.add(virial, f64x2.mul(fr, r2));
      const fx = f64x2.mul(fr, dx), fy = f64x2.mul(fr, dy), fz = f64x2.mul(fr, dz);
      fxi = f64x2.add(fxi, fx); fyi = f64x2.add(fyi, fy); fzi = f64x2.add(fzi, fz);
      scatterPair(f, pairs, k, single, fx, fy, fz);
    }
    addRow(f, i, fxi, fyi, fzi);
  }
  storeResult(result, energy, virial);
}
