#!/usr/bin/env bash
# Installs the Debian 12 packages NOS builds and tests with. Idempotent: packages already present
# are skipped, so a second run costs one dpkg query.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  zlib1g-dev libzstd-dev
  llvm-16-dev clang-16
  libtorch-dev libopenblas0-pthread
  libfmt-dev doctest-dev libcli11-dev nlohmann-json3-dev libsqlite3-dev libpq-dev postgresql
  dataset-fashion-mnist gnuplot-nox
  python3 python3-yaml
  python3-torch  # examples/tasks/make_task.py and its test: a TorchScript model and .npz data from Python
  # The text task's text (nos-data fortunes, docs/tasks.md): English, German, Spanish, Italian,
  # Polish and Czech fortunes under /usr/share/games/fortunes
  fortunes fortunes-de fortunes-es fortunes-it fortunes-pl fortunes-cs
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
