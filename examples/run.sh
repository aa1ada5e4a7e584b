#!/usr/bin/env bash
# The main job, from a fresh Debian 12 machine: set up, build, then check, explain, evaluate and
# verify every bundled example rule, and train a child network with PowerSign and with Adam.
# (The optimizer search, nos-search, replaces this once it exists.)
set -euo pipefail
cd "$(dirname "$0")/.."
bash cmake/setup-debian.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target nosc nos-train
nosc=build/bin/nosc

steps=$(mktemp --suffix=.json)
trap 'rm -f "$steps"' EXIT
cat >"$steps" <<'JSON'
{"lr": 0.01, "total_steps": 100,
 "w": [0.5, -1.25, 2.0, 0.0],
 "grads": [[0.1, -0.2, 0.3, 0.0], [0.2, 0.1, -0.3, -0.05], [-0.1, 0.3, 0.2, 0.1]]}
JSON

for file in examples/*.dsl; do
  echo "== $file"
  "$nosc" check --hash "$file"
done
echo
echo "== nosc explain: PowerSign"
"$nosc" explain examples/powersign.dsl --rule-name powersign
echo
echo "== nosc eval: three steps of each rule on $steps"
for file in examples/*.dsl; do
  for rule in $("$nosc" check "$file" | sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\): .*/\1/p'); do
    printf '%-18s ' "$rule"
    "$nosc" eval "$file" --rule-name "$rule" --input "$steps"
  done
done

echo
echo "== nosc verify: the compiled CPU kernels against the interpreter"
"$nosc" verify examples/powersign.dsl --rule-name powersign
"$nosc" verify examples/adam.dsl --rule-name adam
echo
echo "== nos-train: one epoch of Fashion-MNIST (20,000 examples) with PowerSign, then Adam"
build/bin/nos-train --rule "exp(sign(g) * sign(m)) * g" --model mlp --data fashion-mnist --epochs 1 \
  --train-subset 20000 --lr 0.05
build/bin/nos-train --optimizer adam --model mlp --data fashion-mnist --epochs 1 --train-subset 20000 --lr 0.001
