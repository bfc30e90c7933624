"""Plots decode as PNG of the expected size; the report holds both models' figures and table."""

import base64
import json
import re
import struct

import numpy as np
import pytest
from matplotlib.image import imread

from jaxmlp.reports import figures as plots
from jaxmlp.reports.demo import OUTPUT_FILES, build_summary, metrics_csv, write_demo_outputs
from jaxmlp.workflows.demo import DemoConfig, eval_lines, run_demo


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    result = run_demo(DemoConfig(epochs=60))
    log = eval_lines(result.history)
    return result, write_demo_outputs(result, out, log), log


EXPECTED_SIZES = {
    "data": (600, 500),
    "activation": (600, 500),
    "baseline_surface": (600, 500),
    "model_surface": (600, 500),
    "learning_curves": (700, 600),
}


@pytest.mark.parametrize("name", sorted(EXPECTED_SIZES))
def test_plots_are_pngs_of_expected_size(demo_run, name):
    path = demo_run[1][name]
    assert path.name == OUTPUT_FILES[name]
    assert png_size(path.read_bytes()) == EXPECTED_SIZES[name]
    pixels = imread(path)  # decodes fully
    assert pixels.shape[:2] == EXPECTED_SIZES[name][::-1]
    assert pixels[..., :3].std() > 0.05  # not a blank canvas


def test_decision_surface_uses_model_probabilities():
    """The surface colours follow P(class 1): a left/right split gives red left, blue right."""
    from jaxmlp.data import make_dataset

    split = make_dataset("gaussian", n_samples=40, seed=0)
    xx, _ = plots.mesh_grid(split)
    assert np.allclose(np.diff(xx[0]), plots.MESH_STEP)
    fig = plots.plot_decision_surface(lambda X: (X[:, 0] > 0).astype(float), split, "t")
    rgba = imread(__import__("io").BytesIO(plots.png_bytes(fig)))
    row = rgba[250, :, :3]  # middle row of the 600x500 image
    left, right = row[100], row[420]
    assert left[0] > left[2] and right[2] > right[0]  # RdBu: 0 -> red, 1 -> blue


def test_report_is_self_contained_with_both_models_and_table(demo_run):
    result, written, log = demo_run
    html = written["report"].read_text()
    assert 'id="fig-model_surface"' in html and 'id="fig-baseline_surface"' in html
    assert 'id="fig-learning_curves"' in html
    # every image is inlined and decodes to the PNG written next to it
    blobs = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(blobs) == 5
    on_disk = {p.read_bytes() for k, p in written.items() if k in EXPECTED_SIZES}
    assert {base64.b64decode(b) for b in blobs} == on_disk
    assert not re.search(r'(src|href)="(?!data:)', html)  # nothing external
    table = re.search(r'<table id="comparison">.*?</table>', html, re.S).group(0)
    for label in ("Test accuracy", "Test loss", "Fit time", "Epochs"):
        assert label in table
    h, b = result.history, result.baseline
    assert f"{100 * h.test_acc[-1]:.2f} %" in table and f"{100 * b.test_acc:.2f} %" in table
    assert f"{h.test_loss[-1]:.4f}" in table and f"<td>{b.n_iter}</td>" in table
    assert log[0] in html


def test_summary_and_metrics_csv(demo_run):
    result, written, _ = demo_run
    summary = json.loads(written["summary"].read_text())
    assert summary == json.loads(
        json.dumps(build_summary(result) | {"versions": summary["versions"]})
    )
    assert summary["jaxmlp"]["epochs"] == 60 and summary["config"]["hidden"] == [64]
    assert summary["sklearn"]["test_acc"] == pytest.approx(result.baseline.test_acc)
    assert summary["jaxmlp"]["fit_time_s"] > 0 and summary["sklearn"]["fit_time_s"] > 0
    assert {"jax", "jaxlib", "optax", "scikit-learn", "jaxmlp"} <= set(summary["versions"])
    rows = np.loadtxt(written["metrics"], delimiter=",", skiprows=1)
    assert written["metrics"].read_text().splitlines()[0] == (
        "epoch,train_loss,test_loss,train_acc,test_acc"
    )
    assert rows.shape == (60, 5)
    np.testing.assert_allclose(rows[:, 2], result.history.test_loss, rtol=1e-6)
    assert metrics_csv(result) == written["metrics"].read_text()


def test_no_baseline_writes_four_plots_and_removes_a_stale_one(tmp_path):
    (tmp_path / OUTPUT_FILES["baseline_surface"]).write_bytes(b"old")
    result = run_demo(DemoConfig(epochs=5, baseline=False))
    written = write_demo_outputs(result, tmp_path, eval_lines(result.history))
    assert "baseline_surface" not in written
    assert not (tmp_path / OUTPUT_FILES["baseline_surface"]).exists()
    assert "not run" in written["report"].read_text()
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary files left behind
