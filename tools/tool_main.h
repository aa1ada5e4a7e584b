// The shape every NOS command-line tool shares (nosc, nos-train, nos-bench, nos-search): CLI11
// parsing, then the tool's work, with every failure turned into the project's exit codes and a
// message that names the tool. It lives in tools/, beside the compiler rather than in it, because it is the
// command line's support: every layer's tools link it, and no library below the tools does.
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
// (rendered with its caret), std::invalid_argument (bad input), std::system_error (a file or
// standard output that cannot be written, e.g. a full disk), std::bad_alloc (input too large for
// this machine's memory). Exit 2: UsageError. Exit 3: anything else.
int run_main(CLI::App& app, int argc, char** argv, const std::function<int()>& run);

}  // namespace nos::tool
