#!/usr/bin/env bash
# Run on a fresh GPU machine (NVIDIA, CUDA 12 driver) with Python 3.11+:
#   bash benchmarks/gpu.sh [--quick]
# Installs jaxmlp[gpu] (jax[cuda12] at the pinned jax version) into .venv-gpu, checks that
# JAX sees the GPU, then runs the GPU benchmark (matmul peaks per precision, examples/s,
# models/s, the streamed large table) and the estimator and many-model benchmarks.
# Results: benchmarks/results/{gpu,estimator,many,scale}.{md,json}.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv-gpu
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[gpu,test]" \
  -c constraints.txt
"$VENV/bin/python" - <<'PY'
import jax
kinds = {d.platform for d in jax.devices()}
print("JAX", jax.__version__, "devices:", jax.devices())
if "gpu" not in kinds:
    raise SystemExit("gpu.sh: JAX sees no GPU (is the CUDA 12 driver installed?); stopping.")
PY
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv || true
"$VENV/bin/python" benchmarks/bench_gpu.py "$@"
"$VENV/bin/python" benchmarks/bench_estimator.py
"$VENV/bin/python" benchmarks/bench_many.py
"$VENV/bin/python" benchmarks/bench_scale.py --quick
echo "gpu.sh: done; see benchmarks/results/"
