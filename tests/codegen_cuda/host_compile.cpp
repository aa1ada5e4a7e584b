#include "host_compile.h"

#include <dlfcn.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace nos::test {
namespace {

std::string run_command(const std::string& command, int* status) {
  std::string output;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run: " + command);
  std::array<char, 4096> buffer;
  while (std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) output.append(buffer.data(), n);
  *status = pclose(pipe);
  return output;
}

}  // namespace

HostLibrary::HostLibrary(const std::string& source, const std::string& stem) {
  namespace fs = std::filesystem;
  dir_ = fs::temp_directory_path() / ("nos_cuda_host_" + std::to_string(getpid()) + "_" + stem);
  fs::create_directories(dir_);
  fs::path cpp = dir_ / (stem + ".cpp"), so = dir_ / (stem + ".so");
  std::ofstream(cpp) << source;
  const std::string command = std::string(NOS_CXX_COMPILER) + " -std=c++17 -O2 -ffp-contract=off -fPIC -shared -w -o " +
                              so.string() + " " + cpp.string();
  int status = 0;
  std::string output = run_command(command, &status);
  if (status != 0) throw std::runtime_error("host compile failed: " + command + "\n" + output);
  handle_ = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle_) throw std::runtime_error(std::string("dlopen failed: ") + dlerror());
}

HostLibrary::~HostLibrary() {
  if (handle_) dlclose(handle_);
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void* HostLibrary::symbol(const std::string& name) const {
  void* s = dlsym(handle_, name.c_str());
  if (!s) throw std::runtime_error("missing symbol " + name);
  return s;
}

std::string host_driver(const ir::Function& f, const std::string& sym) {
  const std::string slots = std::to_string(f.states.size());
  return "extern \"C\" void " + sym +
         "_run(const float* in, unsigned long long seed, unsigned int t, unsigned int tensor, float lr,\n"
         "    float* w, const float* g, float* const* states, long long n) {\n"
         "  float sv[" + sym + "_step_values > 0 ? " + sym + "_step_values : 1];\n  " + sym + "_step(in, sv);\n"
         "  unsigned long long key[" + sym + "_streams > 0 ? " + sym + "_streams : 1];\n  " + sym +
         "_keys(seed, t, tensor, key);\n"
         "  for (long long i = 0; i < n; ++i) {\n"
         "    float st[4] = {0, 0, 0, 0};\n"
         "    for (int s = 0; s < " + slots + "; ++s) st[s] = states[s][i];\n"
         "    w[i] = " + sym + "_element(sv, key, lr, w[i], g[i], st, (unsigned long long)i);\n"
         "    for (int s = 0; s < " + slots + "; ++s) states[s][i] = st[s];\n"
         "  }\n}\n";
}

}  // namespace nos::test
