#include "compiler/codegen/executor.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "compiler/codegen/kernel_cache.h"
#include "compiler/interpreter.h"
#include "compiler/passes.h"

#ifdef NOS_HAVE_LLVM
#include "compiler/codegen/llvm/cpu_backend.h"
#endif
#ifdef NOS_HAVE_CUDA
#include "compiler/codegen/cuda/cuda_kernel.h"
#endif

namespace nos::codegen {
namespace {

// NOS_LOG_KERNELS=1 reports where each kernel came from (compiled, disk cache) on stderr.
void log_kernel(const CacheKey& key, const char* origin, double ms) {
  static const bool enabled = [] {
    const char* v = std::getenv("NOS_LOG_KERNELS");
    return v && *v && std::string_view(v) != "0";
  }();
  if (enabled)
    fmt::print(stderr, "nos: kernel {} {} {}: {} in {:.2f} ms\n", ir::hash_hex(key.rule_hash), key.backend, key.dtype,
               origin, ms);
}

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

// The reference interpreter behind the Executor interface: float32, host memory, one tensor at a
// time. It is the fallback where no JIT was built, and the oracle the other backends are tested on.
class InterpExecutor final : public Executor {
 public:
  explicit InterpExecutor(ir::Function f) : f_(std::move(f)) {}

  void step(std::span<const KernelTensor> tensors, const KernelStep& step, void*) override {
    ir::StepInputs inputs;
    std::size_t n_scalars = 0;
    for (const ir::Instr& in : f_.body) n_scalars += in.op == ir::Op::Step;
    inputs.step_scalars.assign(step.inputs, step.inputs + n_scalars);
    inputs.bias_correction.assign(step.inputs + n_scalars, step.inputs + n_scalars + f_.states.size());
    for (const KernelTensor& t : tensors) {
      ir::StepContext ctx{step.t, 0, step.lr, step.seed, t.tensor_id, &inputs};
      std::vector<float*> states(t.state, t.state + f_.states.size());
      ir::interpret_step(f_, ctx, static_cast<float*>(t.w), static_cast<const float*>(t.g), states,
                         static_cast<std::size_t>(t.numel));
    }
  }
  Backend backend() const override { return Backend::Interp; }
  DType dtype() const override { return DType::F32; }

 private:
  ir::Function f_;
};

#ifdef NOS_HAVE_LLVM
// LLVM kernels: in memory for the process, as relocatable objects on disk across processes.
std::shared_ptr<const cpu::CpuKernel> cpu_kernel(const ir::Function& f, DType dtype, bool use_disk_cache) {
  static MemoryCache<cpu::CpuKernel> memory;
  static const std::string target = cpu::cpu_target_id();  // queried once: it is not cheap
  CacheKey key{ir::canonical_hash(f), "llvm", name(dtype), target, std::string("llvm ") + kCodegenRevision};
  return memory.get_or_create(key.describe(), [&]() -> std::shared_ptr<const cpu::CpuKernel> {
    DiskCache disk;
    auto start = std::chrono::steady_clock::now();
    if (use_disk_cache) {
      if (std::optional<std::string> object = disk.read(key)) {
        try {
          auto kernel = cpu::CpuKernel::load_object(*object);
          log_kernel(key, "loaded from the disk cache", ms_since(start));
          return kernel;
        } catch (const std::exception&) {
          // A stale or damaged object is only a miss: compile below and overwrite it.
        }
      }
    }
    std::string object = cpu::emit_object(f, dtype);
    std::shared_ptr<const cpu::CpuKernel> kernel = cpu::CpuKernel::load_object(object);
    log_kernel(key, "compiled", ms_since(start));
    if (use_disk_cache) disk.write(key, object);
    return kernel;
  });
}

class CpuExecutor final : public Executor {
 public:
  CpuExecutor(std::shared_ptr<const cpu::CpuKernel> kernel, DType dtype, int threads, ParallelFor parallel_for)
      : kernel_(std::move(kernel)), dtype_(dtype), threads_(threads), parallel_for_(std::move(parallel_for)) {}

  void step(std::span<const KernelTensor> tensors, const KernelStep& step, void*) override {
    if (!parallel_for_) return kernel_->run(tensors.data(), tensors.size(), step, threads_);
    chunks_.clear();
    for (std::uint32_t t = 0; t < tensors.size(); ++t)
      for (std::int64_t b = 0; b < tensors[t].numel; b += cpu::CpuKernel::kChunkElements)
        chunks_.push_back({t, b, std::min(tensors[t].numel, b + cpu::CpuKernel::kChunkElements)});
    CpuKernelFn entry = kernel_->entry();
    const std::vector<Chunk>& chunks = chunks_;
    // The pool splits [0, count) statically, so one descheduled worker (another VM, LibTorch's
    // spinning OpenMP threads) would hold up the whole step. Its ranges are only used as tickets
    // here: every worker takes chunks from one counter until none is left, as CpuKernel::run does.
    std::atomic<std::size_t> next{0};
    parallel_for_(static_cast<std::int64_t>(chunks.size()), [&](std::int64_t, std::int64_t) {
      for (std::size_t i = next++; i < chunks.size(); i = next++)
        entry(tensors.data(), chunks[i].tensor, chunks[i].begin, chunks[i].end, &step);
    });
  }
  Backend backend() const override { return Backend::Cpu; }
  DType dtype() const override { return dtype_; }

 private:
  std::shared_ptr<const cpu::CpuKernel> kernel_;
  DType dtype_;
  int threads_;
  ParallelFor parallel_for_;
  struct Chunk {
    std::uint32_t tensor;
    std::int64_t begin, end;
  };
  std::vector<Chunk> chunks_;  // reused across steps: no allocation in the steady state
};
#endif

#ifdef NOS_HAVE_CUDA
// CUDA kernels: loaded modules in memory, CUBIN/PTX images on disk. The image kind travels as the
// first byte of the cached payload.
//
// The memory cache is never destroyed: a static cache's destructor would run cuModuleUnload
// during exit, among the CUDA driver's and the CUDA runtime's (LibTorch's) own exit handlers, in
// an order nothing fixes, so after the context may be gone: `nos-bench compile` on an H200 wrote
// all its records, then died of SIGSEGV at exit. Modules live as long as the process anyway; the
// driver frees them with the context when the process ends.
std::shared_ptr<const cuda::CudaKernel> cuda_kernel(const ir::Function& f, DType dtype, const std::string& arch,
                                                    bool use_disk_cache) {
  static auto& memory = *new MemoryCache<cuda::CudaKernel>;  // deliberately leaked: see above
  CacheKey key{ir::canonical_hash(f), "cuda", name(dtype), arch, cuda::kernel_compiler_id()};
  int slots = static_cast<int>(f.states.size());
  return memory.get_or_create(key.describe(), [&]() -> std::shared_ptr<const cuda::CudaKernel> {
    DiskCache disk;
    auto start = std::chrono::steady_clock::now();
    if (use_disk_cache) {
      if (std::optional<std::string> payload = disk.read(key); payload && !payload->empty()) {
        cuda::CompiledImage image{(*payload)[0] == 'P' ? cuda::ImageKind::Ptx : cuda::ImageKind::Cubin, arch,
                                  payload->substr(1), ""};
        try {
          auto kernel = std::make_shared<const cuda::CudaKernel>(cuda::CudaKernel::load(std::move(image), slots));
          log_kernel(key, "loaded from the disk cache", ms_since(start));
          return kernel;
        } catch (const std::exception&) {
          // Unloadable (a driver update, a damaged file): compile again below.
        }
      }
    }
    auto kernel = std::make_shared<const cuda::CudaKernel>(cuda::CudaKernel::compile(f, dtype, arch));
    log_kernel(key, "compiled", ms_since(start));
    if (use_disk_cache) {
      const cuda::CompiledImage& image = kernel->image();
      disk.write(key, (image.kind == cuda::ImageKind::Ptx ? "P" : "C") + image.image);
    }
    return kernel;
  });
}

class CudaExecutor final : public Executor {
 public:
  CudaExecutor(std::shared_ptr<const cuda::CudaKernel> kernel, DType dtype)
      : kernel_(std::move(kernel)), dtype_(dtype) {}

  void step(std::span<const KernelTensor> tensors, const KernelStep& step, void* stream) override {
    table_.update(tensors, kernel_->max_blocks(), stream);
    kernel_->launch(table_, step, stream);
  }
  void step_at(std::span<const KernelTensor> tensors, const void* step_in_memory, void* stream) override {
    table_.update(tensors, kernel_->max_blocks(), stream);
    kernel_->launch_at(table_, reinterpret_cast<std::uint64_t>(step_in_memory), stream);
  }
  Backend backend() const override { return Backend::Cuda; }
  DType dtype() const override { return dtype_; }

 private:
  std::shared_ptr<const cuda::CudaKernel> kernel_;
  DType dtype_;
  cuda::KernelTable table_;  // device copy of the tensor table, re-uploaded only when it changes
};
#endif

}  // namespace

void Executor::step_at(std::span<const KernelTensor> tensors, const void* step_in_memory, void* stream) {
  KernelStep read;
  std::memcpy(&read, step_in_memory, sizeof read);
  step(tensors, read, stream);
}

const char* name(Backend backend) {
  switch (backend) {
    case Backend::Interp: return "interp";
    case Backend::Cpu: return "cpu";
    case Backend::Cuda: return "cuda";
  }
  return "?";
}

std::optional<Backend> parse_backend(std::string_view name) {
  for (Backend b : {Backend::Interp, Backend::Cpu, Backend::Cuda})
    if (name == codegen::name(b)) return b;
  return std::nullopt;
}

bool backend_available(Backend backend, std::string* why) {
  switch (backend) {
    case Backend::Interp: return true;
    case Backend::Cpu:
#ifdef NOS_HAVE_LLVM
      return true;
#else
      if (why) *why = "this build has no LLVM backend (NOS_WITH_LLVM=OFF)";
      return false;
#endif
    case Backend::Cuda:
#ifdef NOS_HAVE_CUDA
      return cuda::cuda_available(why);
#else
      if (why) *why = "this build has no CUDA backend (NOS_WITH_CUDA=OFF)";
      return false;
#endif
  }
  return false;
}

std::shared_ptr<Executor> make_executor(const ir::Function& optimized, Backend backend, DType dtype,
                                        const ExecutorOptions& options) {
  (void)options;  // unused when no JIT backend is built
  std::string why;
  if (!backend_available(backend, &why)) throw std::runtime_error(std::string(name(backend)) + " backend: " + why);
  if (backend == Backend::Interp) {
    if (dtype != DType::F32) throw std::runtime_error("interp backend: only f32 parameters");
    return std::make_shared<InterpExecutor>(optimized);
  }
#ifdef NOS_HAVE_LLVM
  if (backend == Backend::Cpu) {
    int threads = options.threads > 0 ? options.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    return std::make_shared<CpuExecutor>(cpu_kernel(optimized, dtype, options.use_disk_cache), dtype, threads,
                                         options.parallel_for);
  }
#endif
#ifdef NOS_HAVE_CUDA
  if (backend == Backend::Cuda) {
    std::string arch = options.arch.empty() ? cuda::current_device().arch() : options.arch;
    return std::make_shared<CudaExecutor>(cuda_kernel(optimized, dtype, arch, options.use_disk_cache), dtype);
  }
#endif
  throw std::runtime_error(std::string(name(backend)) + " backend: not available");
}

}  // namespace nos::codegen
