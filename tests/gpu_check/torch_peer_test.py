#!/usr/bin/env python3
"""benchmarks/torch_peer.py on the CPU (run by CTest where python3 imports torch): its split is
nos-train's (std::mt19937_64 and runtime/data/dataset.cpp's seeded_permutation, values from C++),
a short eager run of Adam and PowerSign on a small synthetic IDX set writes its JSON, and bad
arguments and missing data are refused with exit 2 and 1."""
import gzip, json, os, struct, subprocess, sys, tempfile

import torch

here = os.path.dirname(os.path.abspath(__file__))
peer_path = os.path.join(here, "..", "..", "benchmarks", "torch_peer.py")
sys.path.insert(0, os.path.dirname(peer_path))
import torch_peer  # noqa: E402


def check(ok, what):
    if not ok:
        sys.exit(f"FAILED: {what}")


# std::mt19937_64 default-seeded (5489): its 10000th value is the standard's check value.
rng = torch_peer.mt19937_64(5489)
for _ in range(9999):
    next(rng)
check(next(rng) == 9981545732273789042, "mt19937_64's 10000th value")
# seeded_permutation(10, seed) as the C++ function computes it (printed by a copy compiled with g++).
check(torch_peer.seeded_permutation(10, 0) == [7, 2, 0, 8, 3, 9, 6, 1, 5, 4], "seeded_permutation(10, 0)")
check(torch_peer.seeded_permutation(10, 7) == [0, 7, 4, 9, 3, 1, 2, 8, 6, 5], "seeded_permutation(10, 7)")

with tempfile.TemporaryDirectory() as root:
    n = 600
    os.mkdir(os.path.join(root, "fashion-mnist"))
    g = torch.Generator().manual_seed(1)
    pixels = torch.randint(0, 256, (n, 784), generator=g, dtype=torch.uint8)
    labels = torch.arange(n, dtype=torch.uint8) % 10
    with gzip.open(os.path.join(root, "fashion-mnist", "train-images-idx3-ubyte.gz"), "wb") as f:
        f.write(struct.pack(">IIII", 2051, n, 28, 28) + bytes(pixels.flatten().tolist()))
    with gzip.open(os.path.join(root, "fashion-mnist", "train-labels-idx1-ubyte.gz"), "wb") as f:
        f.write(struct.pack(">II", 2049, n) + bytes(labels.tolist()))

    x, y = torch_peer.load(root)
    xt, yt, xv, yv = torch_peer.split(x, y, 0, 1 / 6, 0)
    order = torch_peer.seeded_permutation(n, 0)
    check(xv.shape[0] == 100 and xt.shape[0] == 500, "nos-train's sizes: round(n / 6) validation rows")
    check(yv.tolist() == [int(labels[i]) for i in order[:100]], "the validation part is the permutation's head")
    check(abs(xt.double().mean().item()) < 1e-5 and abs(xt.double().std().item() - 1) < 1e-3, "standardized")

    out = os.path.join(root, "peer.json")
    env = dict(os.environ, NOS_DATASETS=root)
    run = lambda *args: subprocess.run([sys.executable, peer_path, *args], env=env,  # noqa: E731
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    r = run("--device", "cpu", "--modes", "eager", "--epochs", "2", "--batch-size", "64", "--json", out)
    check(r.returncode == 0, f"the CPU run: {r.stdout}")
    runs = json.load(open(out))["runs"]
    check([(r["mode"], r["optimizer"]) for r in runs] == [("eager", "adam"), ("eager", "powersign")], "both optimizers")
    for one in runs:
        check(one["steps_per_epoch"] == 7 and len(one["epoch_seconds"]) == 2 and len(one["val_acc"]) == 2, "JSON fields")
    for args in (["--optimizers", "sgd"], ["--epochs", "0"], ["--val-fraction", "1"], ["--modes", "graph"]):
        r = run("--device", "cpu", *args)
        check(r.returncode == 2 and "error" in r.stdout, f"{args} refused with exit 2: {r.returncode} {r.stdout}")
    r = subprocess.run([sys.executable, peer_path, "--device", "cpu", "--modes", "eager"],
                       env=dict(env, NOS_DATASETS=os.path.join(root, "none")), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    check(r.returncode == 1 and "NOS_DATASETS" in r.stdout, f"missing data: exit 1 naming the file: {r.stdout}")
print("torch_peer_test: all checks passed")
