#!/usr/bin/env python3
"""The PyTorch peer of NOS's child training (benchmarks/gpu_check.sh): the same MLP 784-256-10 on
Fashion-MNIST's first 50,000 training images, batch 128, Adam (lr 1e-3), trained eagerly and with
the step under torch.compile(mode="reduce-overhead") (CUDA graphs); prints and writes seconds an
epoch and per step. Data: $NOS_DATASETS/fashion-mnist/train-images-idx3-ubyte.gz (and labels)."""
import argparse, gzip, json, os, time

import numpy as np
import torch


def load(root):
    def read(name, offset):
        with gzip.open(os.path.join(root, "fashion-mnist", name)) as f:
            return np.frombuffer(f.read(), np.uint8, offset=offset)
    x = read("train-images-idx3-ubyte.gz", 16).reshape(-1, 784)[:50000].astype(np.float32) / 255
    y = read("train-labels-idx1-ubyte.gz", 8)[:50000].astype(np.int64)
    return torch.from_numpy(x), torch.from_numpy(y)


def run(mode, x, y, epochs, batch, device):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10)).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, capturable=(mode != "eager"))

    def step(xb, yb):
        opt.zero_grad(set_to_none=False)
        loss = torch.nn.functional.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
        return loss.detach()

    if mode == "compile":
        step = torch.compile(step, mode="reduce-overhead")
    n = (x.shape[0] // batch) * batch  # full batches only: one shape for the compiled step
    times = []
    for _ in range(epochs):
        order = torch.randperm(x.shape[0], device=device)[:n].view(-1, batch)
        torch.cuda.synchronize()
        start = time.perf_counter()
        for index in order:
            step(x[index], y[index])
        torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    steps = n // batch
    return {"mode": mode, "epoch_seconds": times, "best_step_ms": 1000 * min(times) / steps, "steps_per_epoch": steps}


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--json")
    a = p.parse_args()
    x, y = load(os.environ.get("NOS_DATASETS", "/usr/share/datasets"))
    x, y = x.cuda(), y.cuda()
    results = [run(mode, x, y, a.epochs, a.batch_size, "cuda") for mode in ("eager", "compile")]
    for r in results:
        print(f"torch {r['mode']}: {r['best_step_ms']:.3f} ms a step, epochs {['%.3f' % t for t in r['epoch_seconds']]} s")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"torch": torch.__version__, "runs": results}, f, indent=1)


if __name__ == "__main__":
    main()
