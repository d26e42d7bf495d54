#!/usr/bin/env python3
"""Reference for bench/modes.bench.ts: the lowest k eigenpairs of a Hessian in Matrix Market form
by scipy's eigsh (ARPACK, shift-invert about sigma < 0, which='LM').

    python3 bench/eigsh.py H.mtx --k 23 --sigma -1e-3 [--out result.json]

k counts the three translation zero modes too (they are the largest 1/(λ − σ) of the operator);
the JSON reports all k eigenvalues ascending, their residuals ‖Hψ − λψ‖, the wall and CPU time of
the eigsh call (the sparse LU of H − σI plus the ARPACK iteration), the LU time alone and the
number of solves. The shift-inverted operator is built exactly as eigsh builds it for a sparse matrix
(scipy's SpLuInv: splu of csc(H − σI) with default options), but through `OPinv` so that the
solves can be counted. BLAS runs on one thread (set before numpy loads) to compare like with like
against the single-threaded TypeScript solver. scipy is pip-installed only if it is missing.
"""
import argparse
import json
import os
import subprocess
import sys
import time

for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

try:
    import numpy as np
    import scipy
    import scipy.io
    import scipy.sparse as sp
    import scipy.sparse.linalg as spla
except ImportError:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", "numpy", "scipy"])
    import numpy as np
    import scipy
    import scipy.io
    import scipy.sparse as sp
    import scipy.sparse.linalg as spla


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("matrix", help="Matrix Market file (coordinate real symmetric)")
    ap.add_argument("--k", type=int, default=23, help="eigenpairs to compute, zero modes included")
    ap.add_argument("--sigma", type=float, required=True, help="shift, slightly below 0")
    ap.add_argument("--tol", type=float, default=0.0, help="ARPACK tol (0: machine precision)")
    ap.add_argument("--out", help="write the JSON here instead of stdout")
    args = ap.parse_args()

    t0 = time.perf_counter()
    H = sp.csr_matrix(scipy.io.mmread(args.matrix))
    t_read = time.perf_counter() - t0

    n = H.shape[0]
    solves = 0

    def make_opinv():
        t = time.perf_counter()
        lu = spla.splu(sp.csc_matrix(H - args.sigma * sp.eye(n, format="csr")))
        t_lu = time.perf_counter() - t

        def solve(x):
            nonlocal solves
            solves += 1
            return lu.solve(np.asarray(x, dtype=np.float64))

        return spla.LinearOperator((n, n), matvec=solve, dtype=np.float64), t_lu, lu

    t0 = time.perf_counter()
    c0 = time.process_time()
    opinv, t_lu, lu = make_opinv()
    vals, vecs = spla.eigsh(H, k=args.k, sigma=args.sigma, which="LM", OPinv=opinv, tol=args.tol)
    t_eigsh = time.perf_counter() - t0
    cpu_eigsh = time.process_time() - c0

    order = np.argsort(vals)
    vals, vecs = vals[order], vecs[:, order]
    res = np.linalg.norm(H @ vecs - vecs * vals, axis=0)
    out = {
        "n": n,
        "k": args.k,
        "sigma": args.sigma,
        "tol": args.tol,
        "scipy": scipy.__version__,
        "numpy": np.__version__,
        "nnzStored": int(H.nnz),
        "luFill": int(lu.L.nnz + lu.U.nnz),
        "seconds": {"read": t_read, "eigsh": t_eigsh, "lu": t_lu, "arpack": t_eigsh - t_lu, "eigshCpu": cpu_eigsh},
        "solves": solves,
        "values": vals.tolist(),
        "residuals": res.tolist(),
    }
    text = json.dumps(out)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
