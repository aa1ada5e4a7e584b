// Generated code compiled with the host C++ compiler into a shared object and loaded: how the tests
// run the CUDA backend's host+device element functions on a machine without a GPU.
#pragma once

#include <filesystem>
#include <string>

#include "compiler/ir.h"
#include "rules.h"

namespace nos::test {

// A loaded shared object. Its temporary directory is removed with it, but kept (and named in the
// error) when the compile fails.
class HostLibrary {
 public:
  // Compiles `source` with -O2 -ffp-contract=off (the project's own float rules); throws
  // std::runtime_error with the compiler's output on failure.
  HostLibrary(const std::string& source, const std::string& stem);
  HostLibrary(const HostLibrary&) = delete;
  HostLibrary& operator=(const HostLibrary&) = delete;
  ~HostLibrary();

  void* symbol(const std::string& name) const;  // throws when absent

 private:
  std::filesystem::path dir_;
  void* handle_ = nullptr;
};

// `extern "C" void <symbol>_run(const float* inputs, unsigned long long seed, unsigned int t,
//   unsigned int tensor, float lr, float* w, const float* g, float* const* states, long long n)`:
// the rule's generated functions driven over n elements as the kernel drives them.
using HostRunFn = void (*)(const float*, unsigned long long, unsigned int, unsigned int, float, float*, const float*,
                           float* const*, long long);
std::string host_driver(const ir::Function& f, const std::string& symbol);

}  // namespace nos::test
