#!/usr/bin/env bash
# The one-call GPU check (issue 23): on a machine with a CUDA GPU and python3's torch wheel, from the
# project's root, builds NOS (LLVM off) and measures what docs/gpu.md reports within a time budget,
# leaving ONE archive OUT/gpu-check.tgz and OUT/summary.txt (also in the archive). Parts, in order of
# importance, each with its own seconds (default budget 480 s after the build, about 8 minutes):
#   kernels  nos-bench kernels --device cuda: single tensors 1M/16M/256M, ResNet-50, the overhead case
#   tests    ctest -L gpu
#   verify   nosc verify of every example rule (CUDA kernel against the interpreter)
#   train    nos-train (MLP 784-256-10, batch 128; Adam, PowerSign, with and without CUDA graphs;
#            LibTorch's Adam; the same MLP as a TorchScript file) against
#            benchmarks/torch_peer.py (eager, torch.compile reduce-overhead)
#   workers  trained children per hour with 1, 4, 8 workers on the GPU, with and without CUDA graphs,
#            the default child, and the ConvNet child where the part's seconds hold it; GPU memory
#   search   a short search: nos-search run --device cuda --workers 8 --time-budget (its seconds - 15)
# A part is cut short at its seconds, and skipped where the budget or the deadline (seconds since the
# script started, build included: a device command's limit) has too little left; summary.txt says so.
# The archive is rewritten after every part, so a run killed from outside keeps the finished parts.
# With .device/ (../shared/gpu/pack.sh) carried along, its headers, SQLite and Fashion-MNIST are used.
#   bash benchmarks/gpu_check.sh [--out DIR] [--budget S] [--deadline S] [--seconds PART=S]...
#                                [--skip PART]... [--build-dir DIR] [--no-build] [--dry-run]
# --dry-run prints the plan (each part's seconds and commands) and exits 0; it needs no GPU.
set -u

parts=(kernels tests verify train workers search)
declare -A secs=([kernels]=110 [tests]=45 [verify]=25 [train]=120 [workers]=135 [search]=45)
declare -A skip=()
usage() {
  echo "usage: gpu_check.sh [--out DIR] [--budget S] [--deadline S] [--seconds PART=S]... [--skip PART]..." \
       "[--build-dir DIR] [--no-build] [--dry-run]   (parts: ${parts[*]})" >&2
  exit 2
}
whole() {  # whole OPTION VALUE: a whole number of seconds, else a usage error
  case $2 in '' | *[!0-9]*) echo "gpu_check.sh: $1: '$2' is not a whole number of seconds" >&2; exit 2 ;; esac
}
part_name() {
  case " ${parts[*]} " in *" $2 "*) ;; *) echo "gpu_check.sh: $1: '$2' is not a part (${parts[*]})" >&2; exit 2 ;; esac
}
out=${OUT:-/tmp/gpu-check}
budget=480
deadline=570
B=$(pwd)/build-gpu-check
build=1
dry_run=0
while [ $# -gt 0 ]; do
  case $1 in
    --out) [ $# -ge 2 ] || usage; out=$2; shift 2 ;;
    --budget) [ $# -ge 2 ] || usage; whole "$1" "$2"; budget=$2; shift 2 ;;
    --deadline) [ $# -ge 2 ] || usage; whole "$1" "$2"; deadline=$2; shift 2 ;;
    --seconds)
      [ $# -ge 2 ] || usage
      case $2 in *=*) ;; *) echo "gpu_check.sh: --seconds: '$2' is not PART=S" >&2; exit 2 ;; esac
      part_name --seconds "${2%%=*}"; whole --seconds "${2#*=}"; secs[${2%%=*}]=${2#*=}; shift 2 ;;
    --skip) [ $# -ge 2 ] || usage; part_name --skip "$2"; skip[$2]=1; shift 2 ;;
    --build-dir) [ $# -ge 2 ] || usage; B=$(realpath -m "$2"); shift 2 ;;
    --no-build) build=0; shift ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "gpu_check.sh: unknown argument '$1'" >&2; usage ;;
  esac
done

root=$(pwd)
R=${TMPDIR:-/tmp}/gpu-check-results  # outside OUT: only the archive and the summary come back
D=$root/.device
declare -A cmds=()
step() { cmds[$1]+="$2"$'\n'; }  # step PART COMMAND: the part's next command

# Configure and build: the machine's torch wheel, LLVM off, .device/'s dependencies where present.
extra=""
if [ -d "$D" ]; then
  extra="-DNOS_THIRD_PARTY_INCLUDE=$D/include -DSQLite3_INCLUDE_DIR=$D/include -DSQLite3_LIBRARY=$D/lib/libsqlite3.so"
fi
configure="cmake -G Ninja -S . -B $B -DCMAKE_BUILD_TYPE=Release -DNOS_WITH_LLVM=OFF $extra"
ninja="ninja -C $B nosc nos-train nos-bench nos-search test_codegen_cuda_gpu test_runtime_gpu"

# kernels: few sizes and reps; the JSON is rewritten after each workload, so a cut keeps the rest.
step kernels "$B/bin/nos-bench kernels --device cuda --layouts single,resnet50,overhead --sizes 1M,16M,256M --reps 10 --warmup 2 --max-seconds 0.5 --json $R/kernels.json"
step tests "ctest --test-dir $B -L gpu --output-on-failure"
for rule in examples/*.dsl; do step verify "$B/bin/nosc verify $rule"; done

# train: the issue's MLP on Fashion-MNIST, 2 epochs (the first warms up), then the PyTorch peer.
train="$B/bin/nos-train --data fashion-mnist --model mlp --hidden 256 --epochs 2 --batch-size 128 --lr 0.001 --device cuda"
for rule in adam powersign; do
  step train "$train --rule examples/$rule.dsl --rule-name $rule --json $R/train-$rule.json"
  step train "$train --rule examples/$rule.dsl --rule-name $rule --cuda-graphs --json $R/train-$rule-graphs.json"
done
step train "$train --optimizer adam --json $R/train-torch-adam.json"
# The user's TorchScript network (issue 21) on CUDA: the same MLP scripted by python3's torch (no
# numpy needed), trained like the built-in one above: its cost against the C++ network.
script_mlp="import torch; torch.jit.script(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))).save('$R/mlp784.pt')"
step train "python3 -c \"$script_mlp\" && ${train/--model mlp --hidden 256/--model $R/mlp784.pt} --rule examples/adam.dsl --rule-name adam --json $R/train-torchscript.json"
step train "python3 benchmarks/torch_peer.py --epochs 2 --batch-size 128 --optimizers adam,powersign --modes eager,compile --json $R/torch-peer.json"

# workers: trained children per hour and each worker's GPU memory (sampled mid-run). A run's time
# budget is its share of the part less 8 s for the workers' start and the last children's end.
models=(mlp)
share=$(( secs[workers] / 12 - 8 ))
if [ "$share" -ge 15 ]; then models+=(convnet); else share=$(( secs[workers] / 6 - 8 )); fi
workers_note=""
[ "${#models[@]}" = 1 ] && workers_note="the ConvNet child left out: 12 runs of at least 15 s need --seconds workers=$(( 12 * 23 ))"
if [ "$share" -lt 5 ]; then share=5; fi
for model in "${models[@]}"; do
  for graphs in "" "--cuda-graphs"; do
    for workers in 1 4 8; do
      name="workers-$model-$workers${graphs:+-graphs}"
      step workers "rm -f $R/$name.db*; (sleep $((share / 2)); nvidia-smi --query-compute-apps=pid,used_memory --format=csv > $R/$name.memory.csv) & $B/bin/nos-search run --db $R/$name.db --model $model --device cuda --workers $workers${graphs:+ $graphs} --time-budget $share --no-baseline --no-report --quiet; wait; n=\$(grep -c ' lr [0-9]' $R/$name.db.workers.log); echo $name: \$n trained in $share s, \$((n * 3600 / $share)) an hour > $R/$name.txt; rm -f $R/$name.db $R/$name.db-*"
    done
  done
done
search_seconds=$(( secs[search] > 25 ? secs[search] - 15 : 10 ))
step search "$B/bin/nos-search run --db $R/search.db --device cuda --workers 8 --time-budget $search_seconds --no-baseline"

if [ "$dry_run" = 1 ]; then
  total=0
  for p in "${parts[@]}"; do [ -n "${skip[$p]:-}" ] || total=$(( total + secs[$p] )); done
  echo "gpu_check.sh plan: budget $budget s after the build (parts: $total s), deadline $deadline s from the start;" \
       "results in $out/gpu-check.tgz and $out/summary.txt"
  if [ "$build" = 1 ]; then echo "build: $configure"; echo "build: $ninja"; else echo "build: none (--no-build, $B)"; fi
  for p in "${parts[@]}"; do
    if [ -n "${skip[$p]:-}" ]; then echo "part $p: skipped (--skip)"; continue; fi
    echo "part $p: ${secs[$p]} s"
    [ "$p" = workers ] && [ -n "$workers_note" ] && echo "  ($workers_note)"
    while IFS= read -r c; do [ -n "$c" ] && echo "  $c"; done <<<"${cmds[$p]}"
  done
  exit 0
fi

start=$(date +%s)
command -v nvidia-smi >/dev/null || { echo "gpu_check.sh: no nvidia-smi: this is not a GPU machine" >&2; exit 1; }
rm -rf "$R" && mkdir -p "$R" "$out" || exit 1
summary=$R/summary.txt
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
say() { echo "$*" | tee -a "$summary"; }
archive() {  # atomically, so that a kill mid-write leaves the last whole archive
  cp "$summary" "$out/summary.txt"
  tar czf "$out/gpu-check.tgz.part" -C "$R" . && mv "$out/gpu-check.tgz.part" "$out/gpu-check.tgz"
}
say "gpu_check.sh $(git rev-parse --short HEAD 2>/dev/null): budget $budget s, deadline $deadline s; $(sed -n 2p "$R/machine.txt")"
if [ "$build" = 1 ]; then
  t=$(date +%s)
  timeout 120 bash -c "$configure" >"$R/configure.log" 2>&1
  rc=$?
  [ "$rc" = 0 ] && { timeout 300 bash -c "$ninja" >"$R/build.log" 2>&1; rc=$?; }
  say "build rc=$rc $(( $(date +%s) - t )) s"
  if [ "$rc" != 0 ]; then tail -30 "$R/build.log" "$R/configure.log" >>"$summary" 2>/dev/null; archive; exit 1; fi
fi
parts_start=$(date +%s)
end=$(( parts_start + budget ))
[ $(( start + deadline )) -lt "$end" ] && end=$(( start + deadline ))
i=0
for p in "${parts[@]}"; do
  now=$(date +%s)
  if [ -n "${skip[$p]:-}" ]; then say "part $p: skipped (--skip)"; continue; fi
  left=$(( end > now ? end - now : 0 ))
  if [ "$left" -lt 10 ]; then say "part $p: skipped: $left s left of the budget and deadline"; archive; continue; fi
  part_end=$(( now + (secs[$p] < left ? secs[$p] : left) ))
  say "part $p: $(( part_end - now )) s of ${secs[$p]} s planned"
  [ "$p" = workers ] && [ -n "$workers_note" ] && say "  ($workers_note)"
  while IFS= read -r c; do
    [ -n "$c" ] || continue
    i=$((i + 1)); t=$(date +%s)
    if [ $(( part_end - t )) -lt 3 ]; then say "  step$i skipped: the part's time is spent: $c"; continue; fi
    timeout -k 5 $(( part_end - t )) bash -c "$c" >"$R/step$i.log" 2>&1
    rc=$?
    say "  step$i rc=$rc$([ "$rc" = 124 ] && echo ' (cut at the part'"'"'s end)') $(( $(date +%s) - t )) s: $c"
  done <<<"${cmds[$p]}"
  archive
done
{
  echo "results:"
  cat "$R"/workers-*.txt 2>/dev/null | sed 's/^/  /'
  grep -h '^torch ' "$R"/step*.log 2>/dev/null | sed 's/^/  /'
  python3 - "$R" <<'EOF'
import glob, json, sys
def find(o):  # the first object with a per-epoch history
    if isinstance(o, dict):
        if "history" in o: return o
        for v in o.values():
            r = find(v)
            if r: return r
    if isinstance(o, list):
        for v in o:
            r = find(v)
            if r: return r
for path in sorted(glob.glob(sys.argv[1] + "/train-*.json")):
    r = find(json.load(open(path))) or {}
    epochs = [round(e.get("seconds", 0), 3) for e in r.get("history", [])]
    print(f"  {path.split('/')[-1]}: {r.get('status')} graph={r.get('graph')} val_acc={r.get('val_acc')} "
          f"steps={r.get('steps')} epoch seconds {epochs}")
EOF
  echo "total $(( $(date +%s) - start )) s"
} 2>&1 | tee -a "$summary"
archive
echo "results: $out/gpu-check.tgz, $out/summary.txt"
