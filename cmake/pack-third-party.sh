#!/usr/bin/env bash
# Copies the header-only dependencies (CLI11, nlohmann/json, fmt, doctest and its CMake scripts) into
# .third_party/ so a machine without a package manager (the GPU machine) can build NOS:
#   bash cmake/pack-third-party.sh            # here, after cmake/setup-debian.sh
#   cmake -S . -B build -DNOS_THIRD_PARTY_INCLUDE=$PWD/.third_party/include -DNOS_WITH_LLVM=OFF ...
# .third_party/ is git-ignored; carry it to the other machine with the working tree.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.third_party
rm -rf "$out"
mkdir -p "$out/include" "$out/cmake"
cp -r /usr/include/CLI /usr/include/nlohmann /usr/include/fmt /usr/include/doctest "$out/include/"
cp /usr/lib/cmake/doctest/doctest.cmake /usr/lib/cmake/doctest/doctestAddTests.cmake "$out/cmake/"
echo "packed $(du -sh "$out" | cut -f1) into $out"
