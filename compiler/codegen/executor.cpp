#include "compiler/codegen/executor.h"

#include <stdexcept>

#include "compiler/interpreter.h"

namespace nos::codegen {
namespace {

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

}  // namespace

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
      if (why) *why = "this build has no LLVM backend (NOS_WITH_LLVM=OFF)";
      return false;
    case Backend::Cuda:
      if (why) *why = "this build has no CUDA backend (NOS_WITH_CUDA=OFF)";
      return false;
  }
  return false;
}

std::shared_ptr<Executor> make_executor(const ir::Function& optimized, Backend backend, DType dtype,
                                        const ExecutorOptions&) {
  std::string why;
  if (!backend_available(backend, &why)) throw std::runtime_error(std::string(name(backend)) + " backend: " + why);
  if (backend == Backend::Interp) {
    if (dtype != DType::F32) throw std::runtime_error("interp backend: only f32 parameters");
    return std::make_shared<InterpExecutor>(optimized);
  }
  throw std::runtime_error(std::string(name(backend)) + " backend: not available");
}

KernelStep make_step(const ir::Function& optimized, float lr, std::uint32_t t, std::uint32_t total_steps,
                     std::uint64_t seed) {
  ir::StepInputs in = ir::step_inputs(optimized, t, total_steps);
  if (in.step_scalars.size() + in.bias_correction.size() > static_cast<std::size_t>(kMaxStepInputs))
    throw std::runtime_error("rule needs more than " + std::to_string(kMaxStepInputs) + " per-step inputs");
  KernelStep step{lr, t, seed, {}};
  std::size_t k = 0;
  for (float v : in.step_scalars) step.inputs[k++] = v;
  for (float v : in.bias_correction) step.inputs[k++] = v;
  return step;
}

}  // namespace nos::codegen
