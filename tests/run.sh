#!/usr/bin/env bash
# Sets up a Debian 12 machine (packages), builds NOS and runs every test suite, then builds the
# minimal configuration (no LLVM, no CUDA backend) and runs its unit and tool tests.
#   bash tests/run.sh                 # everything
#   bash tests/run.sh -L unit         # extra arguments go to both ctest runs (here: only `unit`)
# The minimal build keeps LibTorch: that way every layer is compiled and tested without a backend
# (the runtime's interpreter fallback, the tools' "backend not built" paths), and its objects are
# mostly ccache hits of the full build's, so it adds minutes, not a second full build.
# The PostgreSQL storage tests run against a private server (tests/postgres/cluster.sh: a temporary
# data directory, 127.0.0.1, a free port), started here and stopped on exit; NOS_TEST_POSTGRES_URL
# set by the caller is used instead. A server that cannot start fails the run, loudly: the package
# is installed by setup-debian.sh, so that is an environment problem CI must show, not hide as
# skipped tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash cmake/setup-debian.sh
if [ -z "${NOS_TEST_POSTGRES_URL:-}" ]; then
  pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/nos-test-postgres-XXXXXX")
  trap 'bash tests/postgres/cluster.sh stop "$pg_dir"' EXIT
  if ! NOS_TEST_POSTGRES_URL=$(bash tests/postgres/cluster.sh start "$pg_dir"); then
    echo "tests/run.sh: ERROR: the private PostgreSQL server for the storage tests did not start (above)" >&2
    exit 1
  fi
  export NOS_TEST_POSTGRES_URL
  echo "tests/run.sh: PostgreSQL for the tests at $NOS_TEST_POSTGRES_URL"
fi
jobs=$(nproc)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs" "$@"

echo "tests/run.sh: the minimal configuration (-DNOS_WITH_LLVM=OFF -DNOS_WITH_CUDA=OFF)"
cmake -S . -B build-minimal -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNOS_WITH_LLVM=OFF -DNOS_WITH_CUDA=OFF
cmake --build build-minimal -j"$jobs"
ctest --test-dir build-minimal --output-on-failure -j"$jobs" -LE 'slow|gpu' "$@"
