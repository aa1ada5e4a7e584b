#!/usr/bin/env bash
# gpu_check.sh's nos-train commands and one run of its workers part, taken from its plan and run on
# the CPU (cuda -> cpu; 1 epoch of 1,000 examples; a 6 s search; a stand-in nvidia-smi): a command
# line that cannot run (a .dsl file of several rules without --rule-name) fails here, not in the
# few device minutes of a GPU session.
#   part_commands.sh SCRIPT BIN_DIR PYTHON WORKDIR    (PYTHON: one that imports torch, or "")
set -eu
script=$1 bin=$2 python=$3 dir=$4
rm -rf "$dir" && mkdir -p "$dir/gpu-check-results"
plan=$(TMPDIR="$dir" bash "$script" --dry-run --no-build --build-dir "$dir/build")
ran=0
while IFS= read -r line; do
  command=${line//"$dir/build/bin/"/"$bin/"}
  command=${command//--device cuda/--device cpu}
  command=${command//--epochs 2/--epochs 1 --train-subset 1000}
  if [[ $command == python3\ * ]]; then
    [ -n "$python" ] || { echo "skipped (no python3 with torch): $command"; continue; }
    command="$python ${command#python3 }"
  fi
  echo "+ $command"
  (eval "$command") >"$dir/step.log" 2>&1 || { cat "$dir/step.log"; echo "failed: $command"; exit 1; }
  ran=$((ran + 1))
done < <(grep -E '^ +(python3 -c .*&& )?[^ ]*/bin/nos-train ' <<<"$plan" | sed 's/^ *//')
[ "$ran" -ge 5 ] || { echo "only $ran nos-train commands ran"; exit 1; }
echo "train commands: $ran ran on the CPU"

# The workers part: one worker with CUDA graphs asked for, its count of trained children.
mkdir -p "$dir/bin" && printf '#!/bin/sh\necho stand-in\n' >"$dir/bin/nvidia-smi" && chmod +x "$dir/bin/nvidia-smi"
line=$(grep -m1 -E 'workers-mlp-1-graphs\.db --model mlp' <<<"$plan" | sed 's/^ *//')
[ -n "$line" ] || { echo "no workers-mlp-1-graphs run in the plan"; exit 1; }
command=${line//"$dir/build/bin/"/"$bin/"}
command=${command//--device cuda/--device cpu}
command=$(sed -E 's/--time-budget [0-9]+/--time-budget 6/' <<<"$command")
echo "+ $command"
(PATH="$dir/bin:$PATH" eval "$command") >"$dir/step.log" 2>&1 || { cat "$dir/step.log"; echo "failed: $command"; exit 1; }
grep -E '^workers-mlp-1-graphs: [1-9][0-9]* trained in 14 s, [0-9]+ an hour$' "$dir/gpu-check-results/workers-mlp-1-graphs.txt" ||
  { echo "workers-mlp-1-graphs.txt: $(cat "$dir/gpu-check-results/workers-mlp-1-graphs.txt" 2>&1)"; exit 1; }
echo "workers part: one run on the CPU counted its children"
