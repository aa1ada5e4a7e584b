#!/usr/bin/env bash
# Sets up a Debian 12 machine (packages), builds NOS and runs every test suite, then builds the
# minimal configuration (no LLVM, no CUDA backend) and runs its unit and tool tests.
#   bash tests/run.sh                 # everything
#   bash tests/run.sh -L unit         # extra arguments go to both ctest runs (here: only `unit`)
# The minimal build keeps LibTorch: that way every layer is compiled and tested without a backend
# (the runtime's interpreter fallback, the tools' "backend not built" paths), and its objects are
# mostly ccache hits of the full build's, so it adds minutes, not a second full build.
set -euo pipefail
cd "$(dirname "$0")/.."
bash cmake/setup-debian.sh
jobs=$(nproc)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs" "$@"

echo "tests/run.sh: the minimal configuration (-DNOS_WITH_LLVM=OFF -DNOS_WITH_CUDA=OFF)"
cmake -S . -B build-minimal -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNOS_WITH_LLVM=OFF -DNOS_WITH_CUDA=OFF
cmake --build build-minimal -j"$jobs"
ctest --test-dir build-minimal --output-on-failure -j"$jobs" -LE 'slow|gpu' "$@"
