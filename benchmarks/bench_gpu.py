"""GPU figures (run by ``benchmarks/gpu.sh``): the matmul peak at each precision, and
jaxmlp's examples/s and models/s with their share of that peak.

``jax_default_matmul_precision`` is set explicitly for every row: 'float32' (full float32
passes), 'tensorfloat32' (TF32 tensor cores on NVIDIA Ampere and later), 'bfloat16'
(one bfloat16 pass). The peaks are measured in the same run (8192^2 jit matmul), so a
share is of what this GPU delivers today, not of a datasheet. Runs on CPU too (labelled),
so the script itself is tested where no GPU is at hand.

    .venv-gpu/bin/python benchmarks/bench_gpu.py [--quick]
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_output import Timing, timing, write_results

PRECISIONS = ("float32", "tensorfloat32", "bfloat16")


def matmul_peak(n: int, precision: str) -> float:
    """FLOP/s of an n x n float32 matmul at ``precision``, median of 5 after a warm-up."""
    a = jnp.asarray(np.random.default_rng(0).standard_normal((n, n), dtype=np.float32))
    with jax.default_matmul_precision(precision):
        f = jax.jit(lambda x: x @ x)
        t = timing(lambda: f(a).block_until_ready())
    return 2 * n**3 / t.median


def fit_rate(rows: int, precision: str) -> tuple[Timing, float]:
    """One ``MLPClassifier`` fit: rows x 64 -> (1024, 1024) -> 10, adam, batch 4096,
    2 epochs, float32; its time and FLOPs (forward + backward, 3x the forward's)."""
    import jaxmlp

    rng = np.random.default_rng(0)
    X = rng.standard_normal((rows, 64), dtype=np.float32)
    y = rng.integers(0, 10, rows)
    kw = dict(hidden_layer_sizes=(1024, 1024), max_iter=2, batch_size=4096, random_state=0,
              tol=0.0)  # fmt: skip
    with jax.default_matmul_precision(precision), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = timing(lambda: jaxmlp.MLPClassifier(**kw).fit(X, y), repeats=3)
    flops = 2 * 3 * rows * 2 * (64 * 1024 + 1024 * 1024 + 1024 * 10)
    return t, flops


def models_rate(n_models: int, precision: str) -> Timing:
    """``fit_many`` of ``n_models`` tutorial models, 250 epochs full batch."""
    from jaxmlp import TrainConfig, fit_many, mlp
    from jaxmlp.data.toy import tutorial_split

    split = tutorial_split()
    kw = dict(seeds=np.arange(n_models), learning_rate=np.linspace(0.01, 0.2, n_models))
    with jax.default_matmul_precision(precision):
        return timing(lambda: fit_many(mlp((64,)), split, TrainConfig(epochs=250), **kw),
                      repeats=3)  # fmt: skip


def main() -> None:
    quick = "--quick" in sys.argv
    gpu = jax.default_backend() == "gpu"
    n = 8192 if gpu and not quick else 1024
    rows = (2_000_000 if gpu else 100_000) if not quick else 20_000
    n_models = (10_000 if gpu else 1000) if not quick else 100
    lines, payload = [], {}
    for precision in PRECISIONS:
        began = time.perf_counter()
        peak = matmul_peak(n, precision)
        fit_t, flops = fit_rate(rows, precision)
        many_t = models_rate(n_models, precision)
        share = flops / fit_t.median / peak
        payload[precision] = {"peak_flops": peak, "fit_s": list(fit_t), "fit_flops": flops,
                              "models_s": list(many_t),
                              "seconds": time.perf_counter() - began}  # fmt: skip
        lines.append(f"| {precision} | {peak / 1e12:.1f} TFLOP/s | {fit_t} | "
                     f"{2 * rows / fit_t.median:,.0f} | {share:.0%} | {many_t} | "
                     f"{n_models / many_t.median:,.0f} |")  # fmt: skip
    device = jax.devices()[0].device_kind
    text = "\n".join([
        f"Device: {device} ({'GPU' if gpu else 'no GPU: CPU run, for checking the script'})",
        f"Peak: {n}^2 float32 matmul; fit: {rows:,} x 64 -> (1024, 1024) -> 10, adam, batch "
        f"4096, 2 epochs; models: {n_models:,} tutorial models, 250 epochs", "",
        "| jax_default_matmul_precision | matmul peak | fit | examples/s | share of peak | "
        "fit_many | models/s |", "|---|---:|---:|---:|---:|---:|---:|", *lines,
    ])  # fmt: skip
    write_results("gpu", "jaxmlp on a GPU", text, {"device": device, "rows": payload})


if __name__ == "__main__":
    main()
