"""``jaxmlp demo``: the tutorial, reproduced (:func:`jaxmlp.workflows.demo.run_demo`), its
lines printed and its report written (:mod:`jaxmlp.reports.demo`)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any, cast

import typer

from jaxmlp.cli import options as opt
from jaxmlp.cli.common import fail, output_folder, printer
from jaxmlp.cli.progress import progress_bar

__all__ = ["demo"]


def _summary_lines(result: Any) -> list[str]:
    """What the demo prints after training: the baseline, the tutorial's lines, the end."""
    from jaxmlp.workflows.demo import eval_lines

    lines = []
    if result.baseline is not None:
        b = result.baseline
        lines.append(f"scikit-learn MLPClassifier(alpha=1, max_iter=1000, random_state=0): "
                     f"test accuracy {b.test_acc:.4f}, test loss {b.test_loss:.4f}, "
                     f"{b.n_iter} iterations, fit {b.fit_time_s:.3f} s")  # fmt: skip
    lines += eval_lines(result.history)
    h = result.history
    lines.append(f"final (epoch {h.epoch[-1]}): train loss {h.train_loss[-1]:.5f}, "
                 f"test loss {h.test_loss[-1]:.5f}, train acc {h.train_acc[-1]:.5f}, "
                 f"test acc {h.test_acc[-1]:.5f}")  # fmt: skip
    steady = result.steady_fit_time_s
    steady_text = f", {steady * 1e3:.1f} ms compiled" if steady else ""
    lines.append(f"jaxmlp fit: {result.fit_time_s:.3f} s first call (incl. compilation)"
                 f"{steady_text}")  # fmt: skip
    return lines


def demo(
    dataset: opt.Dataset = "circles",
    n_samples: opt.NSamples = 200,
    noise: opt.Noise = 0.2,
    data_seed: opt.DataSeed = 1337,
    test_size: opt.TestSize = 0.3,
    hidden: Annotated[
        str, typer.Option(callback=opt.hidden, help="Hidden layer widths, comma-separated: 32,32.")
    ] = "64",
    activation: opt.Activation = "swish",
    beta: Annotated[
        float, typer.Option(callback=opt.number(opt.positive, "--beta", "--beta 1.0"),
                            help="Swish gate slope.")
    ] = 1.0,
    optimizer: opt.Optimizer = "momentum",
    lr: Annotated[
        float, typer.Option(callback=opt.number(opt.positive, "--lr", "--lr 0.05"),
                            help="Learning rate.")
    ] = 0.05,
    momentum: Annotated[
        float, typer.Option(callback=opt.number(opt.rate, "--momentum", "--momentum 0.9"),
                            help="Momentum ('mass').")
    ] = 0.9,
    schedule: Annotated[
        str, typer.Option(callback=opt.check_schedule, help="constant, exponential, cosine.")
    ] = "constant",
    epochs: opt.Epochs = 250,
    batch_size: opt.BatchSize = None,
    eval_every: Annotated[
        int | None,
        typer.Option(callback=opt.number(opt.positive, "--eval-every", "--eval-every 10"),
                     help="Record metrics every N epochs [default: every epoch up to 10000 "
                          "epochs]."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of jax.random.PRNGKey.")] = 0,
    baseline: Annotated[
        bool, typer.Option("--baseline/--no-baseline", help="Fit scikit-learn's MLP too.")
    ] = True,
    out_dir: opt.OutFolder = Path("out/demo"),
    quiet: opt.Quiet = False,
) -> None:  # fmt: skip
    """Reproduce the tutorial: train the MLP, compare with scikit-learn, write a report."""
    t_start = time.perf_counter()
    if eval_every is None:
        eval_every = 1 if epochs <= 10_000 else epochs // 2_000
    output_folder(out_dir)
    from jaxmlp.core.program import DivergenceError
    from jaxmlp.workflows.demo import DemoConfig, eval_lines, run_demo

    config = DemoConfig(
        dataset=dataset, n_samples=n_samples, noise=noise, data_seed=data_seed,
        test_size=test_size, hidden=cast(tuple[int, ...], hidden), activation=activation, beta=beta,
        optimizer=optimizer, lr=lr, momentum=momentum, schedule=schedule, epochs=epochs,
        batch_size=batch_size, eval_every=eval_every, seed=seed, baseline=baseline,
    )  # fmt: skip
    say = printer(quiet)
    batching = "full batch" if batch_size is None else f"batch {batch_size}"
    say(f"jaxmlp demo: {dataset}, MLP with hidden layers {'-'.join(map(str, hidden))} "
        f"({activation}), {optimizer} lr={lr}, {epochs} epochs, {batching}")  # fmt: skip
    try:
        with progress_bar(epochs, "epoch", enabled=not quiet and epochs >= 5_000) as bar:
            progress = None if bar is None else lambda done, h: bar(done, _live(h))
            result = run_demo(config, progress=progress)
    except DivergenceError as e:
        fail(f"{e} (--lr is {lr}.)", code=1)
    except (ValueError, TypeError) as e:
        fail(str(e))
    for line in _summary_lines(result):
        say(line)
    from jaxmlp.reports.demo import write_demo_outputs

    written = write_demo_outputs(result, out_dir, eval_lines(result.history))
    say(f"wrote {len(written)} files to {out_dir}/ ({', '.join(p.name for p in written.values())})"
        f" in {time.perf_counter() - t_start:.1f} s; open {written['report']}")  # fmt: skip


def _live(history: Any) -> str:
    if not len(history.epoch):
        return ""
    return f"train loss {history.train_loss[-1]:.4f}  test acc {history.test_acc[-1]:.3f}"
