// The shape every NOS command-line tool shares (nosc, nos-train, nos-bench, nos-search): CLI11
// parsing, then the tool's work, with every failure turned into the project's exit codes and a
// message that names the tool. It lives in tools/, with the executables (tools/nosc, tools/nos_train,
// tools/nos_search; nos-bench in benchmarks/): every tool links it, and no library does.
#pragma once

#include <functional>
#include <stdexcept>
#include <string>

#include <CLI/CLI.hpp>

namespace nos::tool {

enum Exit : int {
  kOk = 0,
  kInvalid = 1,   // an invalid rule or input (files, data, devices), or output that cannot be written
  kUsage = 2,     // a command-line mistake
  kInternal = 3,  // a bug: please report it
};

// A command-line mistake found after parsing, e.g. two options that exclude each other.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Parses argv into `app`, then calls run(), then flushes standard output. Exit 1: dsl::Error
// (rendered with its caret), std::invalid_argument (bad input), support::FileError (an output file
// that cannot be written, e.g. a full disk: support/atomic_file.h, the one way every tool writes
// one), other std::system_errors (a subprocess that cannot start, standard output that cannot be
// written), std::bad_alloc (input too large for this machine's memory). Exit 2: UsageError.
// Exit 3: anything else.
int run_main(CLI::App& app, int argc, char** argv, const std::function<int()>& run);

}  // namespace nos::tool
