#!/usr/bin/env bash
# The one-call GPU check (issue 23): on a machine with a CUDA GPU and python3's torch wheel, from the
# project's root, builds NOS (LLVM off) and measures what docs/gpu.md reports, leaving everything in
# ONE archive, OUT/gpu-check.tgz:
#   the GPU tests (ctest -L gpu), nosc verify of every example rule, nos-bench kernels on cuda,
#   child training (MLP 784-256-10, batch 128) by NOS with and without CUDA graphs against a PyTorch
#   peer of the same network (eager, torch.compile reduce-overhead: benchmarks/torch_peer.py),
#   trained children per hour with 1, 4, 8, 16 workers on the GPU with and without CUDA graphs (and
#   the GPU memory of each worker, for choosing a count), and a 5-minute search.
# With .device/ (../shared/gpu/pack.sh) carried along, its headers, SQLite and Fashion-MNIST are used.
#   bash benchmarks/gpu_check.sh [--out DIR] [--search-seconds S] [--worker-seconds S] [--dry-run]
# --dry-run prints the plan (every command) and exits 0 without running anything; it needs no GPU.
set -u

usage() {
  echo "usage: gpu_check.sh [--out DIR] [--search-seconds S] [--worker-seconds S] [--dry-run]" >&2
  exit 2
}
out=${OUT:-/tmp/gpu-check}
search_seconds=300
worker_seconds=60
dry_run=0
while [ $# -gt 0 ]; do
  case $1 in
    --out) [ $# -ge 2 ] || usage; out=$2; shift 2 ;;
    --search-seconds) [ $# -ge 2 ] || usage; search_seconds=$2; shift 2 ;;
    --worker-seconds) [ $# -ge 2 ] || usage; worker_seconds=$2; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "gpu_check.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
for n in "$search_seconds" "$worker_seconds"; do
  case $n in '' | *[!0-9]*) echo "gpu_check.sh: '$n' is not a whole number of seconds" >&2; exit 2 ;; esac
done

root=$(pwd)
B=$root/build-gpu-check
R=$out/results
D=$root/.device
steps=()
step() { steps+=("$1"); }

# Configure and build: the machine's torch wheel, LLVM off, .device/'s dependencies where present.
extra=""
if [ -d "$D" ]; then
  extra="-DNOS_THIRD_PARTY_INCLUDE=$D/include -DSQLite3_INCLUDE_DIR=$D/include -DSQLite3_LIBRARY=$D/lib/libsqlite3.so"
fi
step "cmake -G Ninja -S . -B $B -DCMAKE_BUILD_TYPE=Release -DNOS_WITH_LLVM=OFF $extra"
step "ninja -C $B nosc nos-train nos-bench nos-search test_codegen_cuda_gpu test_runtime_gpu"
step "ctest --test-dir $B -L gpu --output-on-failure"
for rule in examples/*.dsl; do step "$B/bin/nosc verify $rule"; done
step "$B/bin/nos-bench kernels --device cuda --json $R/kernels.json"

# Child training: the MLP on Fashion-MNIST, NOS with and without graphs, then the peer.
train="$B/bin/nos-train --data fashion-mnist --model mlp --hidden 256 --epochs 3 --batch-size 128 --lr 0.001 --device cuda"
for rule in adam powersign; do
  step "$train --rule examples/$rule.dsl --json $R/train-$rule.json"
  step "$train --rule examples/$rule.dsl --cuda-graphs --json $R/train-$rule-graphs.json"
done
step "$train --optimizer adam --json $R/train-torch-adam.json"
step "python3 benchmarks/torch_peer.py --epochs 3 --batch-size 128 --json $R/torch-peer.json"

# Workers per GPU: trained children per hour, and each worker's GPU memory (sampled mid-run).
for graphs in "" "--cuda-graphs"; do
  for workers in 1 4 8 16; do
    name="workers-$workers${graphs:+-graphs}"
    step "rm -f $R/$name.db*; (sleep $((worker_seconds / 2)); nvidia-smi --query-compute-apps=pid,used_memory --format=csv > $R/$name.memory.csv) & $B/bin/nos-search run --db $R/$name.db --device cuda --workers $workers $graphs --time-budget $worker_seconds --no-baseline --no-report --quiet; wait; echo trained: \$(grep -c ' lr [0-9]' $R/$name.db.workers.log) in $worker_seconds s > $R/$name.txt"
  done
done
step "$B/bin/nos-search run --db $R/search.db --device cuda --workers 8 --time-budget $search_seconds"

if [ "$dry_run" = 1 ]; then
  echo "gpu_check.sh plan: $((${#steps[@]})) steps, results in $out/gpu-check.tgz"
  for s in "${steps[@]}"; do echo "  $s"; done
  exit 0
fi

command -v nvidia-smi >/dev/null || { echo "gpu_check.sh: no nvidia-smi: this is not a GPU machine" >&2; exit 1; }
rm -rf "$R" && mkdir -p "$R" || exit 1
if [ -d "$D" ]; then
  export NOS_DATASETS=$D/datasets LD_LIBRARY_PATH=$D/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi
export PYTHONUNBUFFERED=1
export CMAKE_PREFIX_PATH
CMAKE_PREFIX_PATH=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  cmake --version | head -1; g++ --version | head -1; nproc
  python3 -c 'import torch;print("torch", torch.__version__, torch.version.cuda)'
} >"$R/machine.txt" 2>&1
trap 'tar czf "$out/gpu-check.tgz" -C "$R" .; echo "results: $out/gpu-check.tgz"' EXIT
i=0
for s in "${steps[@]}"; do
  i=$((i + 1)); t=$(date +%s)
  timeout -k 5 900 bash -c "$s" >"$R/step$i.log" 2>&1
  echo "step$i rc=$? $(( $(date +%s) - t ))s: $s" | tee -a "$R/steps.txt"
done
