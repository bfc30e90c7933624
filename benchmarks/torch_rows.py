"""PyTorch (eager, CPU) and skorch versions of P1, P3 and P4 for ``bench_many.py``; optional.

Install with ``pip install -e ".[bench]"`` (torch 2.13 CPU build, skorch 1.4). Without
them the rows are skipped with a note.
"""

from __future__ import annotations

import time

import numpy as np


def available(module: str = "torch") -> bool:
    """Whether ``module`` ('torch' or 'skorch') can be imported."""
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def _mlp(n_in: int, hidden: tuple[int, ...], n_out: int, activation):
    import torch

    layers, width = [], n_in
    for h in hidden:
        layers += [torch.nn.Linear(width, h), activation()]
        width = h
    return torch.nn.Sequential(*layers, torch.nn.Linear(width, n_out))


def _skorch_fit(module, X, y, **kw) -> float:
    """Seconds to fit skorch's NeuralNetClassifier (no validation split, quiet)."""
    import torch
    from skorch import NeuralNetClassifier

    net = NeuralNetClassifier(module, criterion=torch.nn.CrossEntropyLoss, train_split=None,
                              verbose=0, **kw)  # fmt: skip
    t0 = time.perf_counter()
    net.fit(np.asarray(X, np.float32), np.asarray(y, np.int64))
    return time.perf_counter() - t0


def p3_skorch(split, seed: int, epochs: int = 250) -> float:
    """One tutorial model through skorch (full batch, SGD momentum; like the scikit-learn
    row, no per-epoch test metrics); seconds."""
    import torch

    torch.manual_seed(seed)
    return _skorch_fit(_mlp(2, (64,), 2, torch.nn.SiLU), split.X_train, split.y_train,
                       optimizer=torch.optim.SGD, lr=0.05, optimizer__momentum=0.9,
                       batch_size=len(split.X_train), max_epochs=epochs)  # fmt: skip


def p4_skorch(X: np.ndarray, y: np.ndarray, epochs: int = 5, batch: int = 256) -> float:
    """P4 through skorch: 50 -> 256 -> 256 -> 5 relu, adam, shuffled batches; seconds."""
    import torch

    torch.manual_seed(0)
    return _skorch_fit(_mlp(X.shape[1], (256, 256), int(y.max()) + 1, torch.nn.ReLU), X, y,
                       optimizer=torch.optim.Adam, lr=1e-3, batch_size=batch, max_epochs=epochs,
                       iterator_train__shuffle=True)  # fmt: skip


def p1_torch(split, epochs: int = 250) -> float:
    """The tutorial's training in PyTorch eager: 2 -> 64 swish -> 2, SGD momentum 0.9,
    lr 0.05, full batch, train/test loss and accuracy after every epoch; seconds."""
    import torch

    torch.manual_seed(0)
    X, y = torch.tensor(split.X_train), torch.tensor(split.y_train, dtype=torch.long)
    Xt, yt = torch.tensor(split.X_test), torch.tensor(split.y_test, dtype=torch.long)
    model = torch.nn.Sequential(torch.nn.Linear(2, 64), torch.nn.SiLU(), torch.nn.Linear(64, 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    t0 = time.perf_counter()
    for _ in range(epochs):
        opt.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        opt.step()
        with torch.no_grad():
            for A, b in ((X, y), (Xt, yt)):
                out = model(A)
                float(loss_fn(out, b)), float((out.argmax(1) == b).float().mean())
    return time.perf_counter() - t0


def p4_torch(X: np.ndarray, y: np.ndarray, epochs: int = 5, batch: int = 256) -> float:
    """P4 in PyTorch eager: 50 -> 256 -> 256 -> 5 relu, adam, shuffled batches; seconds."""
    import torch

    torch.manual_seed(0)
    Xt, yt = torch.tensor(X, dtype=torch.float32), torch.tensor(y, dtype=torch.long)
    model = torch.nn.Sequential(torch.nn.Linear(X.shape[1], 256), torch.nn.ReLU(),
                                torch.nn.Linear(256, 256), torch.nn.ReLU(),
                                torch.nn.Linear(256, int(y.max()) + 1))  # fmt: skip
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=0.0)
    loss_fn = torch.nn.CrossEntropyLoss()
    t0 = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(Xt))
        for i in range(0, len(Xt), batch):
            idx = order[i : i + batch]
            opt.zero_grad()
            loss_fn(model(Xt[idx]), yt[idx]).backward()
            opt.step()
    return time.perf_counter() - t0
