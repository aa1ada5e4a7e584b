#!/usr/bin/env bash
# Sets up a Debian 12 machine (packages), builds NOS and runs every test suite.
#   bash tests/run.sh                 # everything
#   bash tests/run.sh -L unit         # extra arguments go to ctest (here: only the `unit` label)
set -euo pipefail
cd "$(dirname "$0")/.."
bash cmake/setup-debian.sh
jobs=$(nproc)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs" "$@"
