// A compiled rule ready to run: the one interface the runtime, nosc and the benchmarks use,
// whatever backend is behind it.
//
//   auto exec = codegen::make_executor(optimized, codegen::Backend::Cpu, codegen::DType::F32);
//   exec->step(tensors, step);   // updates every tensor of the table, in place
//
// Kernels come from the kernel cache (memory, then disk, then a compile), so asking twice for the
// same rule is cheap.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "compiler/codegen/kernel_abi.h"
#include "compiler/ir.h"

namespace nos::codegen {

enum class Backend : std::uint8_t {
  Interp,  // the reference interpreter (float32 only): slow, always available
  Cpu,     // LLVM ORC JIT (when built with NOS_WITH_LLVM)
  Cuda,    // NVRTC + the CUDA driver (when built with NOS_WITH_CUDA and a GPU is present)
};
const char* name(Backend backend);
std::optional<Backend> parse_backend(std::string_view name);

// Whether this build and machine can run the backend; `why` says what is missing.
bool backend_available(Backend backend, std::string* why = nullptr);

// Runs body(begin, end) over sub-ranges of [0, count), possibly in parallel.
using ParallelFor = std::function<void(std::int64_t count, const std::function<void(std::int64_t, std::int64_t)>& body)>;

struct ExecutorOptions {
  int threads = 0;        // CPU: worker threads, 0 = hardware concurrency
  // CPU: when set, the kernel's chunks run through this instead of threads of its own, e.g.
  // LibTorch's at::parallel_for, so optimizer steps share the framework's thread pool.
  ParallelFor parallel_for;
  std::string arch;       // CUDA: "sm_90"; empty = the current device's
  bool use_disk_cache = true;
};

class Executor {
 public:
  virtual ~Executor() = default;
  // Tensor pointers are host pointers for Interp/Cpu and device pointers for Cuda; `stream` is a
  // CUstream for Cuda (nullptr = the default stream) and ignored elsewhere.
  virtual void step(std::span<const KernelTensor> tensors, const KernelStep& step, void* stream = nullptr) = 0;
  // The same step with its KernelStep read from memory when the kernel runs: device memory for
  // Cuda (a launch captured in a CUDA graph then reads each replay's values), host memory elsewhere
  // (read at once: these kernels run before step_at returns). Aligned like a KernelStep.
  virtual void step_at(std::span<const KernelTensor> tensors, const void* step_in_memory, void* stream = nullptr);
  virtual Backend backend() const = 0;
  virtual DType dtype() const = 0;
};

// `optimized` must come from ir::optimize. Throws std::runtime_error when the backend is
// unavailable or compilation fails (the message carries the compiler's log).
std::shared_ptr<Executor> make_executor(const ir::Function& optimized, Backend backend, DType dtype,
                                        const ExecutorOptions& options = {});

}  // namespace nos::codegen
