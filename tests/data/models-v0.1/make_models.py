"""Written by jaxmlp 0.1.0 (commit 1644061): model folders and the predictions they made.

Run once with that version (PYTHONPATH=<its src> python make_models.py <this folder>); the
tests load these folders with the current code and compare with expected.json.
"""
import json, sys, shutil
from pathlib import Path
import numpy as np, pandas as pd
from sklearn.datasets import load_iris
import jaxmlp
out = Path(sys.argv[1])
X, y = load_iris(return_X_y=True)
names = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
df = pd.DataFrame(X, columns=names)
df["colour"] = np.where(X[:, 0] > 5.8, "dark", "light")
df["species"] = np.array(["setosa", "versicolor", "virginica"])[y]
df.loc[5, "sepal_width"] = np.nan
rows = df.iloc[::5].reset_index(drop=True)
rows.to_csv(out / "rows.csv", index=False)
df.to_csv("/tmp/iris_train.csv", index=False)
from jaxmlp.cli import app
from typer.testing import CliRunner
r = CliRunner().invoke(app, ["train", "/tmp/iris_train.csv", "--target", "species", "--out", str(out / "table"),
                              "--hidden", "8", "--max-iter", "40", "--lr", "0.01", "--no-baseline", "-q"], catch_exceptions=False)
assert r.exit_code == 0, r.output
(out / "table" / "report.html").unlink()  # keep the fixture small
est = jaxmlp.MLPClassifier((6,), activation="tanh", solver="lbfgs", max_iter=30, random_state=0)
est.fit(X[:, :2].astype(np.float32), y)
jaxmlp.save(est, out / "classifier")
table = jaxmlp.load(out / "table")
expected = {
    "table_proba": table.predict_proba(rows).tolist(),
    "table_predict": table.predict(rows).tolist(),
    "classifier_proba": est.predict_proba(X[::5, :2].astype(np.float32)).tolist(),
    "written_by": "jaxmlp 0.1.0 at commit 1644061",
}
(out / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")
