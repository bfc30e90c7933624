"""The tutorial notebook runs top to bottom (its own cells assert the golden numbers)."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).parents[1] / "examples" / "tutorial.ipynb"


@pytest.mark.slow
def test_tutorial_notebook_executes(tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()  # fmt: skip
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "eval_epoch: 201, loss: 0.3303, accuracy: 83.33" in text
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 5  # data, baseline surface, swish, learning curves, model surface


def test_notebook_is_generated_from_its_script():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "make_nb", NOTEBOOK.with_name("make_tutorial_notebook.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    cells = nbformat.read(NOTEBOOK, as_version=4).cells
    assert [c.source for c in cells] == [c.source for c in module.build().cells]
