#!/usr/bin/env bash
# The main job, from a fresh Debian 12 machine: install the packages, build nos-search, then run a
# short optimizer search (`nos-search run`'s demo: the lstm controller proposes update rules,
# worker processes train a Fashion-MNIST MLP child with each, 1 to 7 minutes on 2 cores) that
# ends with the best rules found next to Adam. Guide: docs/search.md.
#
#   bash examples/run.sh                       # the demo search (docs/search.md: what it prints)
#   bash examples/run.sh --budget 40 --seed 3  # extra arguments go to `nos-search run`
#   NOS_BUILD_DIR=build bash examples/run.sh   # use an existing build: no package setup, no build
#
# The search's files (the database DB, DB.workers.log, the report directory) go to $NOS_RUN_DIR
# (default: runs/ in the repository), unless the arguments name a --db.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

if [[ -n "${NOS_BUILD_DIR:-}" ]]; then
  build=$(cd "$NOS_BUILD_DIR" 2>/dev/null && pwd) || {
    echo "examples/run.sh: NOS_BUILD_DIR=$NOS_BUILD_DIR: no such directory" >&2
    exit 1
  }
else
  echo "== setup: Debian packages (cmake/setup-debian.sh)"
  bash "$root/cmake/setup-debian.sh"
  build=$root/build
  echo "== build: nos-search in $build"
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" -j"$(nproc)" --target nos-search
fi
nos_search=$build/bin/nos-search
if [[ ! -x $nos_search ]]; then
  echo "examples/run.sh: $nos_search is not built (cmake --build $build --target nos-search)" >&2
  exit 1
fi
if ! "$nos_search" run --help >/dev/null 2>&1; then
  echo "examples/run.sh: $nos_search has no 'run' command: the search trains with LibTorch (configure with NOS_WITH_TORCH=ON)" >&2
  exit 1
fi

# A fresh database in the run directory, unless the caller chose one (--db, also for --resume).
args=("$@")
has_db=false
for arg in "${args[@]}"; do
  [[ $arg == --db || $arg == --db=* ]] && has_db=true
done
run_dir=${NOS_RUN_DIR:-$root/runs}
if ! $has_db; then
  mkdir -p "$run_dir"
  args=(--db "$run_dir/search-$(date -u +%Y%m%d-%H%M%S).db" "${args[@]}")
fi

echo "== nos-search run ${args[*]}"
echo "   (progress below; the best rules next to Adam at the end; stop with Ctrl-C, continue with --resume)"
"$nos_search" run "${args[@]}"
