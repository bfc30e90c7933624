"""Write examples/tutorial.ipynb (run: python examples/make_tutorial_notebook.py).

The notebook is generated so that its cells stay reviewable as plain Python here.
"""

from pathlib import Path

import nbformat as nbf

CELLS = [
    (
        "md",
        """# The JAX stax MLP tutorial, retold with jaxmlp

A multilayer perceptron built from JAX's functional `stax` layers, trained with SGD +
momentum on scikit-learn's two-circles data and compared with scikit-learn's
`MLPClassifier`. Every number below is the tutorial's own (see `SPEC.md` in the project).""",
    ),
    (
        "code",
        """%matplotlib inline
import jax
import numpy as np

import jaxmlp
from jaxmlp.reports import figures
from jaxmlp.workflows.demo import eval_lines, fit_baseline

print("jaxmlp", jaxmlp.__version__, "| jax", jax.__version__, "|", jax.default_backend())""",
    ),
    (
        "md",
        """## 1. Data
`make_circles(n_samples=200, noise=0.2, factor=0.5, random_state=1337)`, standardised on all
200 points, split 70/30 with `random_state=42`.""",
    ),
    (
        "code",
        """split = jaxmlp.tutorial_split()
print("train", split.X_train.shape, np.bincount(split.y_train), "| test", split.X_test.shape,
      np.bincount(split.y_test))
figures.plot_dataset(split)""",
    ),
    (
        "md",
        """## 2. The scikit-learn baseline
`MLPClassifier(alpha=1, max_iter=1000)`; we pin `random_state=0` so that runs repeat.""",
    ),
    (
        "code",
        """baseline = fit_baseline(split)
print(f"scikit-learn test accuracy {baseline.test_acc:.4f}, {baseline.n_iter} iterations")
figures.plot_decision_surface(baseline.proba1, split, "scikit-learn MLPClassifier: P(class 1)")""",
    ),
    (
        "md",
        """## 3. A user-defined activation: swish
`swish(x) = x * sigmoid(beta * x)`; `stax.elementwise` turns any such function into a layer.""",
    ),
    ("code", """figures.plot_activation(jaxmlp.swish, "swish")"""),
    (
        "md",
        """## 4. The model
`serial(Dense(64), Swish, Dense(2))`: `init(rng, input_shape)` gives a plain pytree of
`(W, b)` tuples, `apply(params, X)` the logits.""",
    ),
    (
        "code",
        """net = jaxmlp.mlp(hidden=(64,), activation="swish", n_classes=2)
out_shape, params = net.init(jax.random.PRNGKey(0), (-1, 2))
print("output shape", out_shape)
print([tuple(p.shape) for layer in params for p in layer])""",
    ),
    (
        "md",
        """## 5. Training
SGD with momentum (`optax.sgd(0.05, momentum=0.9)`, the tutorial's
`optimizers.momentum(0.05, mass=0.9)`), 250 full-batch epochs. `jaxmlp.fit` runs every epoch
*and* the per-epoch train/test metrics as one compiled `lax.while_loop`.""",
    ),
    (
        "code",
        """optimizer = jaxmlp.make_optimizer("momentum", 0.05, momentum=0.9)
result = jaxmlp.fit(net, optimizer, split, jaxmlp.TrainConfig(epochs=250))
print("\\n".join(eval_lines(result.history)))
h = result.history
print(f"final: train loss {h.train_loss[-1]:.5f}, test loss {h.test_loss[-1]:.5f}, "
      f"train acc {h.train_acc[-1]:.5f}, test acc {h.test_acc[-1]:.5f}")
# The tutorial's golden numbers (SPEC section 8):
assert abs(h.test_loss[-1] - 0.32795) < 1e-3 and round(float(h.test_acc[-1]) * 60) == 50""",
    ),
    ("md", "## 6. Learning curves and the decision surface"),
    ("code", """figures.plot_learning_curves(h)"""),
    (
        "code",
        """def proba1(X):
    return np.asarray(jax.nn.softmax(net.apply(result.params, X))[:, 1])

figures.plot_decision_surface(proba1, split, "jaxmlp MLP: P(class 1)")""",
    ),
    (
        "md",
        """## 7. Next steps the tutorial suggests
Other networks, activations, optimizers and mini-batches are arguments away. Here: two
hidden layers of 32 GELU units, Adam, mini-batches of 32 on the moons data. An optimizer
given by name takes its numbers as traced values: trying another learning rate reuses the
compiled program.""",
    ),
    (
        "code",
        """moons = jaxmlp.make_dataset("moons", n_samples=300, noise=0.2, seed=0)
net2 = jaxmlp.mlp((32, 32), "gelu", 2)
r2 = jaxmlp.fit(net2, "adam", moons, jaxmlp.TrainConfig(epochs=100, batch_size=32),
                learning_rate=0.01)
print(f"moons test accuracy {r2.history.test_acc[-1]:.3f}")
assert r2.history.test_acc[-1] > 0.9""",
    ),
]


def build() -> nbf.NotebookNode:
    nb = nbf.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}  # fmt: skip
    nb.cells = [nbf.v4.new_markdown_cell(src) if kind == "md" else nbf.v4.new_code_cell(src)
                for kind, src in CELLS]  # fmt: skip
    return nb


if __name__ == "__main__":
    path = Path(__file__).with_name("tutorial.ipynb")
    nbf.write(build(), path)
    print(f"wrote {path}")
