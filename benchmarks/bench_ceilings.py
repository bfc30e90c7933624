"""What XLA:CPU allows for issue #4's targets on this machine: floors and ceilings of code
written directly in JAX, measured in one run, and the levers tried against them.

    .venv/bin/python benchmarks/bench_ceilings.py

Each row strips a target's workload down to what no implementation can skip, written
directly in JAX with nothing of jaxmlp's engine. These are floors of XLA:CPU running that
code, not of the hardware: P1's floor (~22 us per step) is dispatch cost -- ~25 small
kernels per step, the CPU idle most of the time -- and P3's floor runs at a fraction of
one core's FMA peak (element-wise work, no matrix product big enough for the FMA units).
The gap between a row and its target is XLA:CPU's, not jaxmlp's engine's:

- matmul: float32 matmul throughput at 2048^2 (the reference "peak" of bench_many.py), at
  256^2 (the size of P4's products), and bfloat16 x bfloat16 -> float32 at 256^2.
- P1 floor: 250 full-batch steps of the tutorial's network (value and gradient, optax SGD
  momentum) with no metrics at all; the target is 2 ms *with* four metrics per epoch.
- P3 floor: 1000 tutorial models x 250 epochs written by hand with the models in the
  vector lanes (arrays of shape (rows, 64, models)): forward, manual backward, momentum
  update, train and test metrics, one core (one JAX CPU device). Reported with the
  arithmetic it does (``P3_FLOPS`` per model-epoch) and the share of the matmul peak that
  1 s on both cores would need.
- P4 ceiling: the step's matrix products and ReLUs only (forward and backward at batch
  256, the simplest loss whose gradient needs the forward pass -- ``sum(out**2) / 2`` --
  and plain SGD; no softmax, no Adam), 625 steps x 5 epochs; for reference the same
  products with a backward pass that does not wait for the forward one (a fixed output
  gradient: not a training step, but XLA may then overlap the products); and two
  restructurings: bfloat16 products with float32 accumulation, and the batch split over
  two JAX CPU devices (data parallel, gradients summed with ``psum``).

Levers tried against the floors and ceilings (``--levers``), each measured here:

- P1: the pre-thunk XLA:CPU runtime (``--xla_cpu_use_thunk_runtime=false``, in fresh
  processes; jax 0.10.2's XLA says the flag is no longer supported and ignores it) and
  unrolling the loop over steps (``scan(unroll=k)``);
- P3: model blocks sized to the L2 cache (8 and 16 models instead of 40) and a cheaper
  sigmoid (``0.5 * tanh(x / 2) + 0.5``; ``1 / (1 + exp(-x))``) in the models-in-lanes layout;
- P4: the bias folded into the matrix product (a column of ones: bias + product in one
  kernel, the epilogue XLA:CPU does not fuse itself).

Writes benchmarks/results/ceilings.{json,md}.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import jax

jax.config.update("jax_num_cpu_devices", 2)  # for the data-parallel P4 row

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
from bench_output import write_results  # noqa: E402
from jax.example_libraries import stax  # noqa: E402
from jax.sharding import Mesh  # noqa: E402
from jax.sharding import PartitionSpec as P  # noqa: E402

from jaxmlp import tutorial_split  # noqa: E402

# P3 arithmetic per model-epoch (FMA = 2 flops, sigmoid ~20): per (row, hidden unit) 46
# flops on the 140 training rows (forward 4, sigmoid 20, swish 1, logits 4; backward 4 + 4,
# weight gradients 4 + 4, bias 1), 29 on the 60 test rows (forward and logits only)
P3_FLOPS = 140 * 64 * 46 + 60 * 64 * 29


def best_of(fn, repeats: int = 3) -> float:
    jax.block_until_ready(fn())
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - t0)
    return min(times)


def matmul(n: int, dtype=jnp.float32) -> float:
    a = jnp.ones((n, n), dtype)
    f = jax.jit(lambda x: jnp.dot(x, x, preferred_element_type=jnp.float32))
    reps = max(1, (2048 // n) ** 2)

    def run():
        for _ in range(reps):
            out = f(a)
        return out

    return 2 * n**3 * reps / best_of(run, 5) / 1e9


def p1_floor(split, unroll: int = 1) -> float:
    X, y = jnp.asarray(split.X_train), jnp.asarray(split.y_train)
    init, apply = stax.serial(stax.Dense(64), stax.elementwise(jax.nn.swish), stax.Dense(2))
    _, params = init(jax.random.PRNGKey(0), (-1, 2))
    opt = optax.sgd(0.05, momentum=0.9)

    def loss(p):
        logp = jax.nn.log_softmax(apply(p, X))
        return -jnp.mean(jnp.take_along_axis(logp, y[:, None], 1))

    @jax.jit
    def run(p):
        def step(carry, _):
            p, s = carry
            value, g = jax.value_and_grad(loss)(p)
            u, s = opt.update(g, s)
            return (optax.apply_updates(p, u), s), value

        return jax.lax.scan(step, (p, opt.init(p)), None, length=250, unroll=unroll)

    return best_of(lambda: run(params), 20)


SIGMOIDS = {
    "jax.nn.sigmoid": jax.nn.sigmoid,
    "0.5 tanh(x/2) + 0.5": lambda z: 0.5 * jnp.tanh(0.5 * z) + 0.5,
    "1 / (1 + exp(-x))": lambda z: 1 / (1 + jnp.exp(-z)),
}


def p3_floor(split, models: int = 1000, block: int = 40, sigmoid: str = "jax.nn.sigmoid"
             ) -> float:  # fmt: skip
    """One core: blocks of ``block`` models in the lanes, mapped over sequentially."""
    cpu = jax.devices()[0]
    Xtr, Xte = jnp.asarray(split.X_train), jnp.asarray(split.X_test)
    Ytr = jax.nn.one_hot(split.y_train, 2)
    Yte = jax.nn.one_hot(split.y_test, 2)

    def forward(p, X):
        W1, b1, W2, b2 = p  # (2, 64, m), (64, m), (64, 2, m), (2, m)
        z = X[:, 0, None, None] * W1[0] + X[:, 1, None, None] * W1[1] + b1  # (n, 64, m)
        s = SIGMOIDS[sigmoid](z)
        h = z * s
        logits = jnp.stack([jnp.sum(h * W2[:, c], 1) + b2[c] for c in (0, 1)], 1)  # (n, 2, m)
        return z, s, h, logits

    def metrics(logits, Y):
        logp = jax.nn.log_softmax(logits, axis=1)
        loss = -jnp.mean(jnp.sum(Y[:, :, None] * logp, 1), 0)
        right = jnp.where(logits[:, 1] > logits[:, 0], Y[:, 1, None], Y[:, 0, None])
        return loss, jnp.mean(right, 0), logp

    def epoch(carry, _):
        p, v = carry
        W2 = p[2]
        z, s, h, logits = forward(p, Xtr)
        loss, acc, logp = metrics(logits, Ytr)
        d = (jnp.exp(logp) - Ytr[:, :, None]) / Xtr.shape[0]  # (n, 2, m)
        dz = (d[:, 0, None] * W2[:, 0] + d[:, 1, None] * W2[:, 1]) * (s * (1 + z * (1 - s)))
        g = (jnp.stack([jnp.sum(Xtr[:, k, None, None] * dz, 0) for k in (0, 1)]), dz.sum(0),
             jnp.stack([jnp.sum(h * d[:, c, None], 0) for c in (0, 1)], 1), d.sum(0))  # fmt: skip
        v = jax.tree.map(lambda v, g: 0.9 * v + g, v, g)
        p = jax.tree.map(lambda p, v: p - 0.05 * v, p, v)
        test_loss, test_acc, _ = metrics(forward(p, Xte)[3], Yte)
        return (p, v), jnp.stack([loss, acc, test_loss, test_acc])

    def train_block(p):
        return jax.lax.scan(epoch, (p, jax.tree.map(jnp.zeros_like, p)), None, length=250)

    keys = jax.random.split(jax.random.PRNGKey(0), 4)
    shapes = [(models // block, 2, 64, block), (models // block, 64, block),
              (models // block, 64, 2, block), (models // block, 2, block)]  # fmt: skip
    params = tuple(jax.device_put(0.1 * jax.random.normal(k, s), cpu)
                   for k, s in zip(keys, shapes, strict=True))  # fmt: skip
    run = jax.jit(lambda p: jax.lax.map(train_block, p))
    return best_of(lambda: run(params), 1)


def _p4_data(rows: int):
    rng = np.random.default_rng(0)
    return rng.standard_normal((rows, 50)).astype(np.float32)


def _p4_params():
    keys = jax.random.split(jax.random.PRNGKey(0), 3)
    dims = (50, 256, 256, 5)
    return [(jax.random.normal(k, (a, b)) * (2 / a) ** 0.5, jnp.zeros(b))
            for k, a, b in zip(keys, dims[:-1], dims[1:], strict=True)]  # fmt: skip


def _chain(dtype, fold_bias: bool = False):
    def dense(x, W, b):
        if fold_bias:  # [x, 1] @ [[W], [b]]: the bias inside the product
            x = jnp.concatenate([x, jnp.ones((x.shape[0], 1), x.dtype)], axis=1)
            Wb = jnp.concatenate([W, b[None]], axis=0)
            return jnp.dot(x.astype(dtype), Wb.astype(dtype), preferred_element_type=jnp.float32)
        return jnp.dot(x.astype(dtype), W.astype(dtype), preferred_element_type=jnp.float32) + b

    def out(p, x):
        for i, (W, b) in enumerate(p):
            x = dense(x, W, b)
            if i < len(p) - 1:
                x = jax.nn.relu(x)
        return x

    return out


def p4_ceiling(rows: int, dtype=jnp.float32, devices: int = 1, batch: int = 256,
               dependent: bool = True, fold_bias: bool = False) -> float:  # fmt: skip
    """Seconds for 5 epochs of the bare products at ``batch`` rows per step.

    ``dependent``: the output gradient is the output itself (loss ``sum(out**2) / 2``), so
    the backward pass waits for the forward one, as in training; else a fixed array (the
    backward products may then run alongside the forward ones: not a training step).
    """
    out = _chain(dtype, fold_bias)
    X = _p4_data(rows)
    G = jnp.asarray(np.random.default_rng(1).standard_normal((batch // devices, 5)), jnp.float32)
    steps = rows // batch

    def grads(p, xb):
        if dependent:
            return jax.grad(lambda p: 0.5 * jnp.sum(out(p, xb) ** 2))(p)
        return jax.grad(lambda p: jnp.sum(out(p, xb) * G))(p)

    def local(p, X):
        b = X.shape[0] // steps

        def step(i, p):
            g = grads(p, jax.lax.dynamic_slice_in_dim(X, (i % steps) * b, b))
            if devices > 1:
                g = jax.lax.psum(g, "d")
            return jax.tree.map(lambda p, g: p - 1e-6 * g, p, g)

        return jax.lax.fori_loop(0, 5 * steps, step, p)

    if devices == 1:
        run = jax.jit(local)
        Xd = jax.device_put(X, jax.devices()[0])
    else:
        mesh = Mesh(np.array(jax.devices()[:devices]), ("d",))
        # device k holds its share of every batch, contiguously
        Xd = X.reshape(steps, devices, batch // devices, 50).transpose(1, 0, 2, 3)
        Xd = jax.device_put(Xd.reshape(-1, 50), jax.sharding.NamedSharding(mesh, P("d")))
        run = jax.jit(jax.shard_map(local, mesh=mesh, in_specs=(P(), P("d")), out_specs=P()))
    params = _p4_params()
    return best_of(lambda: run(params, Xd), 2)


_P1_CHILD = """
import sys
sys.path.insert(0, {here!r})
from bench_ceilings import p1_floor
from jaxmlp import tutorial_split
print(p1_floor(tutorial_split()))
"""


def p1_in_process(xla_flags: str, processes: int = 3) -> tuple[float, str]:
    """The P1 floor with ``XLA_FLAGS`` (read when XLA starts): the median over fresh
    processes, and XLA's word if it ignored a flag."""
    script = _P1_CHILD.format(here=os.path.dirname(os.path.abspath(__file__)))
    times, said = [], ""
    for _ in range(processes):
        proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              env=os.environ | {"XLA_FLAGS": xla_flags}, timeout=600)  # fmt: skip
        times.append(float(proc.stdout.split()[-1]))
        if "no longer supported" in proc.stderr:
            said = "; XLA: 'no longer supported' (the flag is ignored)"
    return float(np.median(times)), said


def levers(split, peak: float, p4_rows: int, p4_flops: float) -> list[tuple[str, float, str]]:
    """Each lever against the floor or ceiling it targets (see the module docstring)."""
    rows = []
    base, _ = p1_in_process("")
    for flags in ("", "--xla_cpu_use_thunk_runtime=false"):
        t, said = (base, "") if not flags else p1_in_process(flags)
        rows.append((f"lever P1: fresh processes, XLA_FLAGS={flags or '(none)'}", t * 1e3,
                     f"ms ({t / base:.2f}x){said}"))  # fmt: skip
    base = p1_floor(split)
    for k in (1, 2, 5, 10):
        t = p1_floor(split, unroll=k)
        rows.append((f"lever P1: scan(unroll={k})", t * 1e3, f"ms ({t / base:.2f}x)"))
    base = p3_floor(split)
    for block in (8, 16, 40):
        t = p3_floor(split, block=block)
        rows.append((f"lever P3: blocks of {block} models", t, f"s ({t / base:.2f}x)"))
    for name in SIGMOIDS:
        t = p3_floor(split, sigmoid=name)
        rows.append((f"lever P3: sigmoid as {name}", t, f"s ({t / base:.2f}x)"))
    base = p4_ceiling(p4_rows)
    t = p4_ceiling(p4_rows, fold_bias=True)
    g = p4_flops / t / 1e9
    rows.append(("lever P4: bias folded into the product", t,
                 f"s ({t / base:.2f}x); {g:.0f} GFLOP/s = {g / peak:.0%} of peak"))  # fmt: skip
    return rows


def main() -> None:
    split = tutorial_split()
    peak = matmul(2048)
    rows: list[tuple[str, float, str]] = []
    rows.append(("matmul float32 2048^2", peak, "GFLOP/s (the reference peak)"))
    m256 = matmul(256)
    rows.append(("matmul float32 256^2", m256, f"GFLOP/s = {m256 / peak:.0%} of peak"))
    b256 = matmul(256, jnp.bfloat16)
    rows.append(("matmul bfloat16 -> float32 256^2", b256, f"GFLOP/s = {b256 / peak:.0%} of peak"))

    t = p1_floor(split)
    rows.append(("P1 floor (XLA:CPU dispatch): 250 steps, no metrics", t * 1e3,
                 "ms; target 2 ms with metrics"))  # fmt: skip

    t = p3_floor(split)
    flops = P3_FLOPS * 1000 * 250
    rows.append(("P3 floor (XLA:CPU, element-wise): 1000 models by hand, models in lanes, "
                 "1 core", t, f"s; {flops / t / 1e9:.0f} GFLOP/s; 1 s on 2 cores needs "
                 f"{flops / 1e9:.0f} GFLOP/s = {flops / 1e9 / peak:.0%} of peak"))  # fmt: skip

    p4_rows = 160_000
    macs = [50 * 256, 256 * 256, 256 * 5]  # the work done: no input gradient of layer 1
    p4_flops = p4_rows * 5 * (4 * sum(macs) + 2 * sum(macs[1:]))
    for name, kw in (("float32, backward independent of forward (not training)",
                      {"dependent": False}),
                     ("float32", {}), ("bfloat16 products, float32 sums", {"dtype": jnp.bfloat16}),
                     ("float32, batch split over 2 CPU devices", {"devices": 2})):  # fmt: skip
        t = p4_ceiling(p4_rows, **kw)
        g = p4_flops / t / 1e9
        rows.append((f"P4 ceiling: bare products, {name}", t,
                     f"s; {g:.0f} GFLOP/s = {g / peak:.0%} of peak; target 75%"))  # fmt: skip

    if "--levers" in sys.argv:
        rows += levers(split, peak, p4_rows, p4_flops)
    lines = ["| what | value | unit and note |", "|---|---:|---|"]
    lines += [f"| {w} | {v:.3g} | {note} |" for w, v, note in rows]
    write_results("ceilings", "Floors and ceilings", "\n".join(lines),
                  {"rows": [dict(what=w, value=v, note=n) for w, v, n in rows]})  # fmt: skip


if __name__ == "__main__":
    main()
