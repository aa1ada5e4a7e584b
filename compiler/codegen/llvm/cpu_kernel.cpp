// CpuKernel: kernel objects linked into the process by ORC, and their multithreaded launch.
#include <algorithm>
#include <atomic>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/IRCompileLayer.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/Support/MemoryBuffer.h>

#include "compiler/codegen/llvm/cpu_backend.h"
#include "compiler/codegen/llvm/kernel_module.h"
#include "compiler/codegen/llvm/llvm_support.h"

namespace nos::codegen::cpu {
namespace {

// The IR compiler of a JIT that only links objects.
struct NoCompiler : llvm::orc::IRCompileLayer::IRCompiler {
  NoCompiler() : IRCompiler(llvm::orc::IRSymbolMapper::ManglingOptions()) {}
  llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>> operator()(llvm::Module&) override {
    return llvm::make_error<llvm::StringError>("the kernel JIT links objects only", llvm::inconvertibleErrorCode());
  }
};
using CompilerOrError = llvm::Expected<std::unique_ptr<llvm::orc::IRCompileLayer::IRCompiler>>;

// One ORC LLJIT for the whole process, used only as a linker: kernels arrive as finished objects
// (compiled outside any lock, by emit_object), and each gets a JITDylib of its own, so every
// kernel defines the same symbol `nos_kernel` and its code is freed with it.
class JitSession {
 public:
  static std::shared_ptr<JitSession> instance() {
    static std::shared_ptr<JitSession> session(new JitSession);
    return session;
  }

  // Links the object and returns its JITDylib and the address of nos_kernel.
  std::pair<llvm::orc::JITDylib*, CpuKernelFn> link(std::string_view object) {
    std::lock_guard<std::mutex> lock(mutex_);
    llvm::orc::ExecutionSession& session = jit_->getExecutionSession();
    llvm::orc::JITDylib& library =
        unwrap(session.createJITDylib("nos_kernel_" + std::to_string(next_id_++)), "creating a JITDylib");
    try {
      // Whatever the optimizer may still call (memset, memcpy) resolves in the process.
      library.addGenerator(unwrap(llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
                                      jit_->getDataLayout().getGlobalPrefix()),
                                  "searching the process for symbols"));
      auto buffer = llvm::MemoryBuffer::getMemBufferCopy(llvm::StringRef(object.data(), object.size()),
                                                         "nos_kernel.o");
      check(jit_->addObjectFile(library, std::move(buffer)), "adding a kernel object");
      auto address = unwrap(jit_->lookup(library, kKernelSymbol), "linking a kernel object");
      return {&library, address.toPtr<CpuKernelFn>()};
    } catch (...) {
      llvm::consumeError(session.removeJITDylib(library));
      throw;
    }
  }

  void remove(llvm::orc::JITDylib& library) {
    std::lock_guard<std::mutex> lock(mutex_);
    // Nothing useful can be done about a failure while a kernel is being destroyed.
    llvm::consumeError(jit_->getExecutionSession().removeJITDylib(library));
  }

 private:
  // LLJIT left to itself would create two TargetMachines it never uses (to compile IR, and for
  // the data layout) and add a module of platform symbols (__dso_handle, initializer support) to
  // every kernel's JITDylib: kernels arrive compiled and have no initializers.
  JitSession() {
    llvm::orc::LLJITBuilder builder;
    builder.setJITTargetMachineBuilder(host_target_builder())
        .setDataLayout(host_target_machine().createDataLayout())
        .setCompileFunctionCreator([](llvm::orc::JITTargetMachineBuilder) -> CompilerOrError {
          return std::make_unique<NoCompiler>();
        })
        .setPlatformSetUp(llvm::orc::setUpInactivePlatform);
    jit_ = unwrap(builder.create(), "creating the ORC JIT");
  }

  std::mutex mutex_;
  std::unique_ptr<llvm::orc::LLJIT> jit_;
  std::uint64_t next_id_ = 0;
};

struct Range {
  std::uint32_t tensor;
  std::int64_t begin, end;
};

}  // namespace

struct CpuKernel::Impl {
  std::shared_ptr<JitSession> session;  // outlives every kernel linked into it
  llvm::orc::JITDylib* library = nullptr;
  CpuKernelFn entry = nullptr;
};

CpuKernel::CpuKernel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

CpuKernel::~CpuKernel() { impl_->session->remove(*impl_->library); }

std::shared_ptr<CpuKernel> CpuKernel::compile(const ir::Function& f, DType dtype) {
  return load_object(emit_object(f, dtype));
}

std::shared_ptr<CpuKernel> CpuKernel::load_object(std::string_view object_bytes) {
  auto impl = std::make_unique<Impl>();
  impl->session = JitSession::instance();
  std::tie(impl->library, impl->entry) = impl->session->link(object_bytes);
  return std::shared_ptr<CpuKernel>(new CpuKernel(std::move(impl)));
}

CpuKernelFn CpuKernel::entry() const { return impl_->entry; }

void CpuKernel::run(const KernelTensor* tensors, std::size_t n_tensors, const KernelStep& step,
                    int threads) const {
  std::vector<Range> ranges;
  for (std::size_t k = 0; k < n_tensors; ++k)
    for (std::int64_t begin = 0; begin < tensors[k].numel; begin += kChunkElements)
      ranges.push_back({static_cast<std::uint32_t>(k), begin, std::min(tensors[k].numel, begin + kChunkElements)});
  CpuKernelFn fn = impl_->entry;
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t r = next++; r < ranges.size(); r = next++)
      fn(tensors, ranges[r].tensor, ranges[r].begin, ranges[r].end, &step);
  };
  std::size_t helpers = std::min<std::size_t>(threads > 1 ? threads - 1 : 0, ranges.size() ? ranges.size() - 1 : 0);
  std::vector<std::thread> pool;
  pool.reserve(helpers);
  for (std::size_t t = 0; t < helpers; ++t) {
    try {
      pool.emplace_back(work);
    } catch (const std::system_error&) {
      break;  // fewer threads than asked for still do all the work
    }
  }
  work();  // the calling thread takes its share too
  for (std::thread& t : pool) t.join();
}

}  // namespace nos::codegen::cpu
