#!/usr/bin/env bash
# gpu_check.sh's run without a GPU: a stand-in nvidia-smi, no build, no time left (--deadline 0):
# every part is skipped and the summary says why; OUT holds the archive and the summary alone.
#   smoke.sh SCRIPT WORKDIR
set -eu
script=$1 dir=$2
rm -rf "$dir" && mkdir -p "$dir/bin" "$dir/tmp"
printf '#!/bin/sh\necho stand-in\n' >"$dir/bin/nvidia-smi" && chmod +x "$dir/bin/nvidia-smi"
PATH="$dir/bin:$PATH" TMPDIR="$dir/tmp" bash "$script" --no-build --build-dir "$dir/none" --deadline 0 --out "$dir/out"
test "$(cd "$dir/out" && echo *)" = "gpu-check.tgz summary.txt" || { echo "OUT holds: $(ls "$dir/out")"; exit 1; }
skipped=$(tar xzOf "$dir/out/gpu-check.tgz" ./summary.txt | grep -c 'skipped: 0 s left')
test "$skipped" = 6 || { echo "$skipped of 6 parts said skipped"; exit 1; }
cmp <(tar xzOf "$dir/out/gpu-check.tgz" ./summary.txt) "$dir/out/summary.txt"
echo "smoke: 6 parts skipped, OUT: gpu-check.tgz summary.txt"
