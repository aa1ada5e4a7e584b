#!/usr/bin/env python3
"""Save a PyTorch model and its data the way NOS reads them (docs/tasks.md).

    python3 examples/tasks/make_task.py OUT_DIR
    nos-search run --model OUT_DIR/model.pt --data OUT_DIR/data.npz --budget 40
    nos-search final SEARCH.db --model OUT_DIR/model.pt --data OUT_DIR/data.npz --epochs 20

Needs python3 with torch and numpy (Debian: python3-torch). The data here is a toy (two
interleaved spirals of three classes); put your own arrays in `x`, `y` (and optionally `x_val`,
`y_val`) and your own network in `Net`.
"""
import math
import os
import sys

import numpy as np
import torch


class Net(torch.nn.Module):
    def __init__(self, features: int, classes: int):
        super().__init__()
        self.body = torch.nn.Sequential(
            torch.nn.Linear(features, 64), torch.nn.Tanh(), torch.nn.Linear(64, 64), torch.nn.Tanh(),
            torch.nn.Linear(64, classes))

    def forward(self, x):
        return self.body(x.flatten(1))  # class scores: one row per example, one column per class

    # Optional: NOS calls init(seed) once per child (after torch.manual_seed(seed), without
    # gradients), so that every seed starts from its own weights. Without it, every child starts
    # from the weights saved in the file.
    @torch.jit.export
    def init(self, seed: int):
        for module in self.body:
            if isinstance(module, torch.nn.Linear):
                torch.nn.init.xavier_uniform_(module.weight)
                torch.nn.init.zeros_(module.bias)

    # Optional: loss(x, y) and metric(x, y) (a mean over the batch; the metric higher-is-better)
    # replace cross entropy and accuracy.


def spirals(n: int, classes: int, rng: np.random.Generator):
    t = rng.uniform(0.2, 1.0, n)
    label = rng.integers(0, classes, n)
    angle = 3 * math.pi * t + 2 * math.pi * label / classes
    x = np.stack([t * np.cos(angle), t * np.sin(angle)], axis=1) + rng.normal(0, 0.03, (n, 2))
    return x.astype(np.float32), label.astype(np.int64)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "task"
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(0)
    x, y = spirals(3000, 3, rng)
    x_val, y_val = spirals(600, 3, rng)
    np.savez(os.path.join(out, "data.npz"), x=x, y=y, x_val=x_val, y_val=y_val)
    torch.jit.script(Net(2, 3)).save(os.path.join(out, "model.pt"))
    print(f"wrote {out}/model.pt and {out}/data.npz")


if __name__ == "__main__":
    main()
