// The shape every NOS command-line tool shares (nosc, nos-train, nos-bench): CLI11 parsing, then
// the tool's work, with every failure turned into the project's exit codes and a message that
// names the tool.
#pragma once

#include <functional>
#include <iostream>
#include <stdexcept>
#include <string>

#include <CLI/CLI.hpp>

#include "dsl/diagnostic.h"

namespace nos::tool {

enum Exit : int {
  kOk = 0,
  kInvalid = 1,   // an invalid rule or input (files, data, devices)
  kUsage = 2,     // a command-line mistake
  kInternal = 3,  // a bug: please report it
};

// A command-line mistake found after parsing, e.g. two options that exclude each other.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Parses argv into `app`, then calls run(). dsl::Error (rendered with its caret) and
// std::invalid_argument (bad input) exit 1, UsageError exits 2, anything else 3.
inline int run_main(CLI::App& app, int argc, char** argv, const std::function<int()>& run) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kUsage;
  }
  const std::string name = app.get_name();
  try {
    return run();
  } catch (const dsl::Error& e) {
    std::cerr << e.diagnostic().render();
    return kInvalid;
  } catch (const UsageError& e) {
    std::cerr << name << ": error: " << e.what() << "\nRun '" << name << " --help' for usage.\n";
    return kUsage;
  } catch (const std::invalid_argument& e) {
    std::cerr << name << ": error: " << e.what() << '\n';
    return kInvalid;
  } catch (const std::exception& e) {
    std::cerr << name << ": internal error: " << e.what() << '\n';
    return kInternal;
  }
}

}  // namespace nos::tool
