#include "runtime/cpu_threads.h"

#include <dlfcn.h>

#include <ATen/Parallel.h>

namespace nos::runtime {
namespace {

// Looked up at run time: LibTorch links whichever libblas.so.3 the system provides, and only
// OpenBLAS has these (MKL follows at::set_num_threads; the reference BLAS is single-threaded).
template <class Function>
Function* blas_function(const char* name) {
  return reinterpret_cast<Function*>(dlsym(RTLD_DEFAULT, name));
}

}  // namespace

void set_cpu_threads(int threads) {
  if (threads < 1) return;
  at::set_num_threads(threads);
  if (auto* set = blas_function<void(int)>("openblas_set_num_threads")) set(threads);
}

int blas_threads() {
  auto* get = blas_function<int()>("openblas_get_num_threads");
  return get ? get() : 0;
}

}  // namespace nos::runtime
