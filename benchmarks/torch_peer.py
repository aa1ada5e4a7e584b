#!/usr/bin/env python3
"""The PyTorch peer of NOS's child training (benchmarks/gpu_check.sh): the same MLP 784-256-10 on
Fashion-MNIST with nos-train's own train/validation split (seed 0: the same rows, the same
standardization), batch 128, Adam (lr 1e-3) and PowerSign (exp(sign(g) * sign(m)) * g, as
examples/powersign.dsl), each trained eagerly and with the step under
torch.compile(mode="reduce-overhead") (CUDA graphs); prints and writes seconds an epoch, per step
and the validation accuracy. What differs from nos-train: the initial weights and the data order
come from torch's generator, and only full batches are trained (one shape for the compiled step).
Data: $NOS_DATASETS/fashion-mnist/train-images-idx3-ubyte.gz (and labels)."""
import argparse, gzip, json, os, sys, time

import torch

MASK64 = (1 << 64) - 1


def mt19937_64(seed):
    """std::mt19937_64's output stream, as runtime/data/dataset.cpp's seeded_permutation draws it."""
    n, m = 312, 156
    state = [seed & MASK64]
    for i in range(1, n):
        state.append((6364136223846793005 * (state[-1] ^ (state[-1] >> 62)) + i) & MASK64)
    i = n
    while True:
        if i >= n:
            for k in range(n):
                y = (state[k] & 0xFFFFFFFF80000000) | (state[(k + 1) % n] & 0x7FFFFFFF)
                state[k] = state[(k + m) % n] ^ (y >> 1) ^ (0xB5026F5AA96619E9 if y & 1 else 0)
            i = 0
        x = state[i]
        i += 1
        x ^= (x >> 29) & 0x5555555555555555
        x ^= (x << 17) & 0x71D67FFFEDA60000
        x ^= (x << 37) & 0xFFF7EEE000000000
        x ^= x >> 43
        yield x


def seeded_permutation(n, seed):
    """runtime/data/dataset.cpp's seeded_permutation: Fisher-Yates with rng() % (i + 1)."""
    order, rng = list(range(n)), mt19937_64(seed)
    for i in range(n - 1, 0, -1):
        j = next(rng) % (i + 1)
        order[i], order[j] = order[j], order[i]
    return order


def load(root):
    def read(name, offset):
        with gzip.open(os.path.join(root, "fashion-mnist", name)) as f:
            return torch.frombuffer(bytearray(f.read()), dtype=torch.uint8)[offset:]
    x = read("train-images-idx3-ubyte.gz", 16).view(-1, 784).float() / 255
    y = read("train-labels-idx1-ubyte.gz", 8).long()
    return x, y


def split(x, y, seed, val_fraction, train_subset):
    """nos-train's split (split_dataset): the head of the seeded permutation is the validation part;
    pixels standardized by the training part's mean and standard deviation (one group: an image)."""
    n = x.shape[0]
    n_val = min(max(round(val_fraction * n), 1), n - 1)
    order = torch.tensor(seeded_permutation(n, seed))
    val, train = order[:n_val], order[n_val:]
    if train_subset > 0:
        train = train[:train_subset]
    xt = x[train].double()
    mean = xt.mean().item()
    var = max(0.0, (xt * xt).mean().item() - mean * mean)
    inv_std = 1 / var ** 0.5 if var > 1e-12 else 1.0
    mean_f, inv_f = torch.tensor(mean, dtype=torch.float32), torch.tensor(inv_std, dtype=torch.float32)
    return (x[train] - mean_f) * inv_f, y[train], (x[val] - mean_f) * inv_f, y[val]


class PowerSign(torch.optim.Optimizer):
    """w -= lr * exp(sign(g) * sign(m)) * g, m the moving average of g (beta 0.9; its bias correction
    does not change its sign). Tensor ops only, so that torch.compile captures the whole step."""

    def __init__(self, params, lr=1e-3, beta=0.9):
        super().__init__(params, {"lr": lr, "beta": beta})
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p]["m"] = torch.zeros_like(p)

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                m = self.state[p]["m"]
                m.mul_(group["beta"]).add_(p.grad, alpha=1 - group["beta"])
                p.add_(torch.exp(torch.sign(p.grad) * torch.sign(m)) * p.grad, alpha=-group["lr"])


def synchronize(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def run(mode, optimizer, data, a):
    x, y, xv, yv = data
    torch.manual_seed(a.seed)
    model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10)).to(a.device)
    if optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=a.lr, capturable=(mode != "eager"))
    else:
        opt = PowerSign(model.parameters(), lr=a.lr)

    def step(xb, yb):
        opt.zero_grad(set_to_none=False)
        loss = torch.nn.functional.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
        return loss.detach()

    if mode == "compile":
        step = torch.compile(step, mode="reduce-overhead")
    n = (x.shape[0] // a.batch_size) * a.batch_size  # full batches only: one shape for the compiled step
    times, accuracy = [], []
    for _ in range(a.epochs):
        order = torch.randperm(x.shape[0], device=a.device)[:n].view(-1, a.batch_size)
        synchronize(a.device)
        start = time.perf_counter()
        for index in order:
            step(x[index], y[index])
        synchronize(a.device)
        times.append(time.perf_counter() - start)
        with torch.no_grad():
            accuracy.append((model(xv).argmax(1) == yv).float().mean().item())
    steps = n // a.batch_size
    return {"mode": mode, "optimizer": optimizer, "epoch_seconds": times, "best_step_ms": 1000 * min(times) / steps,
            "steps_per_epoch": steps, "val_acc": accuracy}


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    positive = lambda kind: lambda text: check(kind, text, lambda v: v > 0, "positive")  # noqa: E731
    p.add_argument("--epochs", type=positive(int), default=3)
    p.add_argument("--batch-size", type=positive(int), default=128)
    p.add_argument("--lr", type=positive(float), default=1e-3)
    p.add_argument("--seed", type=lambda t: check(int, t, lambda v: v >= 0, "not negative"), default=0)
    p.add_argument("--val-fraction", type=lambda t: check(float, t, lambda v: 0 < v < 1, "between 0 and 1"),
                   default=1 / 6, help="as nos-train's (default 1/6: 50,000 training images)")
    p.add_argument("--train-subset", type=lambda t: check(int, t, lambda v: v >= 0, "not negative"), default=0)
    p.add_argument("--optimizers", type=lambda t: names(t, ("adam", "powersign")), default="adam,powersign")
    p.add_argument("--modes", type=lambda t: names(t, ("eager", "compile")), default="eager,compile")
    p.add_argument("--device", default="cuda")
    p.add_argument("--json", help="written after every run, so that a run cut short keeps the finished ones")
    a = p.parse_args(argv)
    if a.device.startswith("cuda") and not torch.cuda.is_available():
        p.error(f"--device {a.device}: torch {torch.__version__} sees no CUDA device")
    if "compile" in a.modes and not hasattr(torch, "compile"):
        p.error(f"--modes compile: torch {torch.__version__} has no torch.compile")
    return a


def check(kind, text, ok, what):
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a {kind.__name__}")
    if not ok(value):
        raise argparse.ArgumentTypeError(f"'{text}' must be {what}")
    return value


def names(text, allowed):
    items = text.split(",")
    for item in items:
        if item not in allowed:
            raise argparse.ArgumentTypeError(f"'{item}' is not one of {', '.join(allowed)}")
    return items


def main(argv):
    a = parse(argv)
    root = os.environ.get("NOS_DATASETS", "/usr/share/datasets")
    try:
        x, y = load(root)
    except OSError as e:
        sys.exit(f"torch_peer.py: {e.filename or root}: {e.strerror or e} (set NOS_DATASETS to the datasets' folder)")
    data = [t.to(a.device) for t in split(x, y, a.seed, a.val_fraction, a.train_subset)]
    print(f"torch {torch.__version__}: {data[0].shape[0]} training, {data[2].shape[0]} validation images (seed {a.seed})")
    results = []
    for mode in a.modes:
        for optimizer in a.optimizers:
            r = run(mode, optimizer, data, a)
            results.append(r)
            print(f"torch {mode} {optimizer}: {r['best_step_ms']:.3f} ms a step, epochs "
                  f"{['%.3f' % t for t in r['epoch_seconds']]} s, val_acc {r['val_acc'][-1]:.4f}", flush=True)
            if a.json:
                with open(a.json, "w") as f:
                    json.dump({"torch": torch.__version__, "device": a.device, "runs": results}, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1:])
