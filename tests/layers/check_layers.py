#!/usr/bin/env python3
"""Checks the root CMakeLists.txt's promise: the tree is the pipeline, and no layer depends on one
after it. Layers, first to last: support, dsl, compiler, runtime, controller, tools, benchmarks.

Reads what the build and the sources say, not what they happen to link today:
  - every target_link_libraries / add_dependencies in a layer's CMakeLists.txt files: each named
    target (add_library / add_executable anywhere in the layers) must be of the same or an earlier
    layer;
  - every #include "LAYER/..." in a layer's sources: LAYER must be the same or an earlier one.
Prints one line per upward dependency (file:line, what, which layers) and exits 1 when there is any.

  python3 tests/layers/check_layers.py [ROOT]     # ROOT: the source tree (default: this one)
"""
import pathlib
import re
import sys

LAYERS = ["support", "dsl", "compiler", "runtime", "controller", "tools", "benchmarks"]
RANK = {name: i for i, name in enumerate(LAYERS)}
SOURCE_SUFFIXES = {".h", ".hpp", ".cpp", ".cc", ".cu", ".cuh", ".inc", ".def"}

COMMAND = re.compile(r"\b(add_library|add_executable|target_link_libraries|add_dependencies)\s*\(([^)]*)\)",
                     re.IGNORECASE)
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"/]+)/', re.MULTILINE)
KEYWORDS = {"PUBLIC", "PRIVATE", "INTERFACE", "STATIC", "SHARED", "OBJECT", "MODULE", "ALIAS", "IMPORTED",
            "EXCLUDE_FROM_ALL", "GLOBAL", "LINK_PUBLIC", "LINK_PRIVATE", "LINK_INTERFACE_LIBRARIES"}


def strip_comments(text):
    # A '#' starts a comment outside quotes; CMake's bracket comments are not used in this tree.
    out = []
    for line in text.splitlines():
        quoted = False
        for i, c in enumerate(line):
            if c == '"':
                quoted = not quoted
            elif c == "#" and not quoted:
                line = line[:i]
                break
        out.append(line)
    return "\n".join(out)


def commands(path):
    """(command, arguments, line) for each command of interest in one CMakeLists.txt."""
    text = strip_comments(path.read_text())
    for m in COMMAND.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        yield m.group(1).lower(), m.group(2).split(), line


def check(root):
    root = pathlib.Path(root)
    cmake_files = {layer: sorted((root / layer).rglob("CMakeLists.txt")) for layer in LAYERS if (root / layer).is_dir()}
    target_layer = {}
    for layer, files in cmake_files.items():
        for path in files:
            for command, args, _ in commands(path):
                if command in ("add_library", "add_executable") and args:
                    target_layer[args[0]] = layer

    problems = []
    for layer, files in cmake_files.items():
        for path in files:
            for command, args, line in commands(path):
                if command not in ("target_link_libraries", "add_dependencies") or not args:
                    continue
                for dep in args[1:]:
                    if dep in KEYWORDS or "$" in dep:
                        continue  # a keyword, or a variable that names a target of this layer's loops
                    dep_layer = target_layer.get(dep)
                    if dep_layer and RANK[dep_layer] > RANK[layer]:
                        problems.append(f"{path.relative_to(root)}:{line}: {args[0]} ({layer}/) links {dep} "
                                        f"({dep_layer}/), a later layer")

    for layer in cmake_files:
        for path in sorted((root / layer).rglob("*")):
            if path.suffix not in SOURCE_SUFFIXES or not path.is_file():
                continue
            text = path.read_text(errors="replace")
            for m in INCLUDE.finditer(text):
                included = m.group(1)
                if included in RANK and RANK[included] > RANK[layer]:
                    line = text.count("\n", 0, m.start()) + 1
                    problems.append(f"{path.relative_to(root)}:{line}: includes {included}/ from {layer}/, a later layer")
    return target_layer, problems


def main(argv):
    root = argv[1] if len(argv) > 1 else pathlib.Path(__file__).resolve().parents[2]
    targets, problems = check(root)
    if not targets:
        print(f"check_layers: no targets found under {root}: not a NOS source tree?", file=sys.stderr)
        return 2
    for p in problems:
        print(f"check_layers: {p}")
    if problems:
        print(f"check_layers: {len(problems)} upward dependencies (order: {' -> '.join(LAYERS)})")
        return 1
    print(f"check_layers: {len(targets)} targets, no upward dependency ({' -> '.join(LAYERS)})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
