/**
 * Dense vector kernels of the iterative solvers (src/linalg/vectors.ts): the Lanczos basis
 * operations and the CG recurrence. Each does the operations of its TypeScript reference in the
 * same order, so both give the same bits: sums keep two partial sums, over even and odd entries
 * (the two lanes of an f64x2), added at the end; element-wise updates are the same expression per
 * entry. Pointers are byte offsets of f64 arrays.
 */

/** Σ a[i]·b[i] over two lanes (even, odd entries), lane 0 + lane 1; an odd last entry goes to lane 0. */
export function dot(a: usize, b: usize, n: i32): f64 {
  let s = f64x2.splat(0);
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const o = <usize>i << 3;
    s = f64x2.add(s, f64x2.mul(v128.load(a + o), v128.load(b + o)));
  }
  let s0 = f64x2.extract_lane(s, 0);
  if (i < n) s0 += load<f64>(a + (<usize>i << 3)) * load<f64>(b + (<usize>i << 3));
  return s0 + f64x2.extract_lane(s, 1);
}

/** y[i] += s·x[i]. */
export function axpy(s: f64, x: usize, y: usize, n: i32): void {
  const vs = f64x2.splat(s);
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const o = <usize>i << 3;
    v128.store(y + o, f64x2.add(v128.load(y + o), f64x2.mul(vs, v128.load(x + o))));
  }
  if (i < n) store<f64>(y + (<usize>i << 3), load<f64>(y + (<usize>i << 3)) + s * load<f64>(x + (<usize>i << 3)));
}

/** d[i] += c·x[i]; returns w · d (the updated d), two lanes as dot: a step of the L-BFGS two-loop recursion. */
export function axpyDot(c: f64, x: usize, d: usize, w: usize, n: i32): f64 {
  const vc = f64x2.splat(c);
  let s = f64x2.splat(0);
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const o = <usize>i << 3;
    const v = f64x2.add(v128.load(d + o), f64x2.mul(vc, v128.load(x + o)));
    v128.store(d + o, v);
    s = f64x2.add(s, f64x2.mul(v128.load(w + o), v));
  }
  let s0 = f64x2.extract_lane(s, 0);
  if (i < n) {
    const o = <usize>i << 3;
    const v = load<f64>(d + o) + c * load<f64>(x + o);
    store<f64>(d + o, v);
    s0 += load<f64>(w + o) * v;
  }
  return s0 + f64x2.extract_lane(s, 1);
}

/** c[j] += V_j · w for j < count (V_j = V + j·n entries), four basis vectors per sweep of w. */
export function basisDots(V: usize, count: i32, n: i32, w: usize, c: usize): void {
  const row = <usize>n << 3;
  let j = 0;
  for (; j + 4 <= count; j += 4) {
    const a0 = V + <usize>j * row, a1 = a0 + row, a2 = a1 + row, a3 = a2 + row;
    let s0 = f64x2.splat(0), s1 = s0, s2 = s0, s3 = s0;
    let i = 0;
    for (; i + 2 <= n; i += 2) {
      const o = <usize>i << 3;
      const wv = v128.load(w + o);
      s0 = f64x2.add(s0, f64x2.mul(v128.load(a0 + o), wv));
      s1 = f64x2.add(s1, f64x2.mul(v128.load(a1 + o), wv));
      s2 = f64x2.add(s2, f64x2.mul(v128.load(a2 + o), wv));
      s3 = f64x2.add(s3, f64x2.mul(v128.load(a3 + o), wv));
    }
    let e0 = f64x2.extract_lane(s0, 0), e1 = f64x2.extract_lane(s1, 0), e2 = f64x2.extract_lane(s2, 0), e3 = f64x2.extract_lane(s3, 0);
    if (i < n) {
      const o = <usize>i << 3;
      const wi = load<f64>(w + o);
      e0 += load<f64>(a0 + o) * wi; e1 += load<f64>(a1 + o) * wi; e2 += load<f64>(a2 + o) * wi; e3 += load<f64>(a3 + o) * wi;
    }
    const cj = c + (<usize>j << 3);
    store<f64>(cj, load<f64>(cj) + (e0 + f64x2.extract_lane(s0, 1)));
    store<f64>(cj, load<f64>(cj, 8) + (e1 + f64x2.extract_lane(s1, 1)), 8);
    store<f64>(cj, load<f64>(cj, 16) + (e2 + f64x2.extract_lane(s2, 1)), 16);
    store<f64>(cj, load<f64>(cj, 24) + (e3 + f64x2.extract_lane(s3, 1)), 24);
  }
  for (; j < count; j++) {
    const cj = c + (<usize>j << 3);
    store<f64>(cj, load<f64>(cj) + dot(V + <usize>j * row, w, n));
  }
}

/** w[i] −= Σ_j c[j]·V_j[i] for j < count, four basis vectors per sweep (then one at a time, as w += (−c[j])·V_j). */
export function basisSubtract(V: usize, count: i32, n: i32, w: usize, c: usize): void {
  const row = <usize>n << 3;
  let j = 0;
  for (; j + 4 <= count; j += 4) {
    const a0 = V + <usize>j * row, a1 = a0 + row, a2 = a1 + row, a3 = a2 + row;
    const cj = c + (<usize>j << 3);
    const c0 = load<f64>(cj), c1 = load<f64>(cj, 8), c2 = load<f64>(cj, 16), c3 = load<f64>(cj, 24);
    const v0 = f64x2.splat(c0), v1 = f64x2.splat(c1), v2 = f64x2.splat(c2), v3 = f64x2.splat(c3);
    let i = 0;
    for (; i + 2 <= n; i += 2) {
      const o = <usize>i << 3;
      const t = f64x2.add(f64x2.add(f64x2.add(f64x2.mul(v0, v128.load(a0 + o)), f64x2.mul(v1, v128.load(a1 + o))), f64x2.mul(v2, v128.load(a2 + o))), f64x2.mul(v3, v128.load(a3 + o)));
      v128.store(w + o, f64x2.sub(v128.load(w + o), t));
    }
    if (i < n) {
      const o = <usize>i << 3;
      store<f64>(w + o, load<f64>(w + o) - (c0 * load<f64>(a0 + o) + c1 * load<f64>(a1 + o) + c2 * load<f64>(a2 + o) + c3 * load<f64>(a3 + o)));
    }
  }
  for (; j < count; j++) axpy(-load<f64>(c + (<usize>j << 3)), V + <usize>j * row, w, n);
}

/** Entries per chunk of combineRows (as src/linalg/vectors.ts COMBINE_CHUNK). */
const COMBINE_CHUNK = 512;

/**
 * X_r = Σ_j Y[r·yStride + j]·V_j for r < rows, j < count (X_r = X + r·n entries): the basis swept
 * chunk by chunk, eight basis vectors per pass over a chunk of an output row, then one at a time.
 */
export function combineRows(V: usize, count: i32, n: i32, Y: usize, yStride: i32, rows: i32, X: usize): void {
  const row = <usize>n << 3;
  memory.fill(X, 0, <usize>rows * row);
  for (let i0 = 0; i0 < n; i0 += COMBINE_CHUNK) {
    const i1 = min(n, i0 + COMBINE_CHUNK);
    for (let r = 0; r < rows; r++) {
      const x = X + <usize>r * row, y = Y + (<usize>(r * yStride) << 3);
      let j = 0;
      for (; j + 8 <= count; j += 8) {
        const a0 = V + <usize>j * row;
        const yj = y + (<usize>j << 3);
        const y0 = load<f64>(yj), y1 = load<f64>(yj, 8), y2 = load<f64>(yj, 16), y3 = load<f64>(yj, 24);
        const y4 = load<f64>(yj, 32), y5 = load<f64>(yj, 40), y6 = load<f64>(yj, 48), y7 = load<f64>(yj, 56);
        const w0 = f64x2.splat(y0), w1 = f64x2.splat(y1), w2 = f64x2.splat(y2), w3 = f64x2.splat(y3);
        const w4 = f64x2.splat(y4), w5 = f64x2.splat(y5), w6 = f64x2.splat(y6), w7 = f64x2.splat(y7);
        let i = i0;
        for (; i + 2 <= i1; i += 2) {
          const o = <usize>i << 3;
          const p = a0 + o;
          let t = f64x2.add(f64x2.mul(w0, v128.load(p)), f64x2.mul(w1, v128.load(p + row)));
          t = f64x2.add(t, f64x2.mul(w2, v128.load(p + 2 * row)));
          t = f64x2.add(t, f64x2.mul(w3, v128.load(p + 3 * row)));
          t = f64x2.add(t, f64x2.mul(w4, v128.load(p + 4 * row)));
          t = f64x2.add(t, f64x2.mul(w5, v128.load(p + 5 * row)));
          t = f64x2.add(t, f64x2.mul(w6, v128.load(p + 6 * row)));
          t = f64x2.add(t, f64x2.mul(w7, v128.load(p + 7 * row)));
          v128.store(x + o, f64x2.add(v128.load(x + o), t));
        }
        if (i < i1) {
          const o = <usize>i << 3;
          const p = a0 + o;
          store<f64>(x + o, load<f64>(x + o) + (y0 * load<f64>(p) + y1 * load<f64>(p + row) + y2 * load<f64>(p + 2 * row) + y3 * load<f64>(p + 3 * row) +
            y4 * load<f64>(p + 4 * row) + y5 * load<f64>(p + 5 * row) + y6 * load<f64>(p + 6 * row) + y7 * load<f64>(p + 7 * row)));
        }
      }
      for (; j < count; j++) {
        const a0 = V + <usize>j * row;
        const y0 = load<f64>(y + (<usize>j << 3));
        const w0 = f64x2.splat(y0);
        let i = i0;
        for (; i + 2 <= i1; i += 2) {
          const o = <usize>i << 3;
          v128.store(x + o, f64x2.add(v128.load(x + o), f64x2.mul(w0, v128.load(a0 + o))));
        }
        if (i < i1) {
          const o = <usize>i << 3;
          store<f64>(x + o, load<f64>(x + o) + y0 * load<f64>(a0 + o));
        }
      }
    }
  }
}

/** CG step: x += α·p, r −= α·q; returns r·r (two lanes, as dot). */
export function cgAdvance(n: i32, alpha: f64, x: usize, p: usize, r: usize, q: usize): f64 {
  const va = f64x2.splat(alpha);
  let s = f64x2.splat(0);
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const o = <usize>i << 3;
    v128.store(x + o, f64x2.add(v128.load(x + o), f64x2.mul(va, v128.load(p + o))));
    const rn = f64x2.sub(v128.load(r + o), f64x2.mul(va, v128.load(q + o)));
    v128.store(r + o, rn);
    s = f64x2.add(s, f64x2.mul(rn, rn));
  }
  let s0 = f64x2.extract_lane(s, 0);
  if (i < n) {
    const o = <usize>i << 3;
    store<f64>(x + o, load<f64>(x + o) + alpha * load<f64>(p + o));
    const rn = load<f64>(r + o) - alpha * load<f64>(q + o);
    store<f64>(r + o, rn);
    s0 += rn * rn;
  }
  return s0 + f64x2.extract_lane(s, 1);
}

/** CG direction: p = z + β·p. */
export function cgDirection(n: i32, beta: f64, z: usize, p: usize): void {
  const vb = f64x2.splat(beta);
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const o = <usize>i << 3;
    v128.store(p + o, f64x2.add(v128.load(z + o), f64x2.mul(vb, v128.load(p + o))));
  }
  if (i < n) store<f64>(p + (<usize>i << 3), load<f64>(z + (<usize>i << 3)) + beta * load<f64>(p + (<usize>i << 3)));
}

/** Remove the mean of the x, y and z components of v (3·count numbers) in place. */
export function projectOutTranslations(v: usize, count: i32): void {
  let mx: f64 = 0, my: f64 = 0, mz: f64 = 0;
  for (let i = 0; i < count; i++) {
    const a = v + <usize>i * 24;
    mx += load<f64>(a); my += load<f64>(a, 8); mz += load<f64>(a, 16);
  }
  mx /= <f64>count; my /= <f64>count; mz /= <f64>count;
  for (let i = 0; i < count; i++) {
    const a = v + <usize>i * 24;
    store<f64>(a, load<f64>(a) - mx); store<f64>(a, load<f64>(a, 8) - my, 8); store<f64>(a, load<f64>(a, 16) - mz, 16);
  }
}

/** y_i = B_i·x_i for count 3×3 blocks B (9 numbers each, row-major): a block-Jacobi preconditioner. */
export function blockDiagonalApply(count: i32, B: usize, x: usize, y: usize): void {
  for (let i = 0; i < count; i++) {
    const b = B + <usize>i * 72, xi = x + <usize>i * 24, yi = y + <usize>i * 24;
    const x0 = load<f64>(xi), x1 = load<f64>(xi, 8), x2 = load<f64>(xi, 16);
    store<f64>(yi, load<f64>(b) * x0 + load<f64>(b, 8) * x1 + load<f64>(b, 16) * x2);
    store<f64>(yi, load<f64>(b, 24) * x0 + load<f64>(b, 32) * x1 + load<f64>(b, 40) * x2, 8);
    store<f64>(yi, load<f64>(b, 48) * x0 + load<f64>(b, 56) * x1 + load<f64>(b, 64) * x2, 16);
  }
}
