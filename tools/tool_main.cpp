#include "tools/tool_main.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <new>
#include <system_error>

#include <fmt/format.h>

#include "dsl/diagnostic.h"
#include "dsl/excerpt.h"
#include "support/atomic_file.h"

namespace nos::tool {
namespace {

// Output that never reached its file is a failed run: a report on a full disk must not exit 0.
// Returns the reason, or an empty string when everything written so far is out.
std::string flush_standard_output() {
  errno = 0;
  std::cout.flush();  // std::cout writes through stdout: this already flushes it, and sets errno
  int error = errno;
  bool failed = std::fflush(stdout) != 0 || std::ferror(stdout) || !std::cout;
  if (!failed) return {};
  if (!error) error = errno;
  return error ? std::strerror(error) : "write error";
}

// Messages quote input (a path, a rule, a JSON token): however large it is, the message stays
// short enough to read; dsl::Error's rendering bounds its own.
constexpr std::size_t kMaxMessageBytes = 16384;

std::string bounded(const char* message) { return dsl::excerpt(message, kMaxMessageBytes); }

int finish(const std::string& name, int code) {
  std::string failure = flush_standard_output();
  if (failure.empty()) return code;
  fmt::print(stderr, "{}: error: cannot write standard output: {}\n", name, failure);
  return code == kOk ? kInvalid : code;
}

}  // namespace

int run_main(CLI::App& app, int argc, char** argv, const std::function<int()>& run) {
  const std::string name = app.get_name();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return finish(name, app.exit(e));
  } catch (const CLI::CallForAllHelp& e) {
    return finish(name, app.exit(e));
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return finish(name, kUsage);
  }
  int code = kInternal;
  try {
    code = run();
  } catch (const dsl::Error& e) {
    fmt::print(stderr, "{}", e.diagnostic().render());
    code = kInvalid;
  } catch (const UsageError& e) {
    fmt::print(stderr, "{}: error: {}\nRun '{} --help' for usage.\n", name, bounded(e.what()), name);
    code = kUsage;
  } catch (const std::invalid_argument& e) {
    fmt::print(stderr, "{}: error: {}\n", name, bounded(e.what()));
    code = kInvalid;
  } catch (const support::FileError& e) {
    fmt::print(stderr, "{}: error: {}\n", name, bounded(e.what()));
    code = kInvalid;
  } catch (const std::system_error& e) {
    fmt::print(stderr, "{}: error: {}\n", name, bounded(e.what()));
    code = kInvalid;
  } catch (const std::bad_alloc&) {
    fmt::print(stderr, "{}: error: out of memory (the input or the model is too large for this machine)\n", name);
    code = kInvalid;
  } catch (const std::exception& e) {
    fmt::print(stderr, "{}: internal error: {}\n", name, e.what());
    code = kInternal;
  }
  return finish(name, code);
}

}  // namespace nos::tool
