// nos::RuleOptimizer: a torch::optim::Optimizer that runs a compiled update rule.
//
//   auto rule = nos::compiler::compile_text("exp(sign(g) * sign(m)) * g");
//   nos::RuleOptimizer opt(model->parameters(), rule, nos::RuleOptimizerOptions(0.05).total_steps(T));
//   loss.backward(); opt.step(); opt.zero_grad();
//   torch::save(opt, "opt.pt");  ...  torch::load(opt2, "opt.pt");
//
// Each step() makes one fused kernel call per (device, dtype, step settings) bucket of parameters
// through codegen::Executor: every parameter with a gradient of the bucket is one row of the
// kernel's tensor table. The step count t is the optimizer's (it counts step() calls), so bias
// correction and the decays ld/cd/rd see the same t for every parameter; a parameter that gets its
// first gradient late starts from zero state at that t.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include <torch/optim/optimizer.h>
#include <torch/serialize/archive.h>

#include "compiler/codegen/executor.h"
#include "compiler/compile.h"

namespace nos {

// codegen::ParallelFor on LibTorch's intra-op thread pool (at::parallel_for, at::set_num_threads):
// what RuleOptimizer runs CPU kernels on when threads() is 0.
codegen::ParallelFor torch_parallel_for();

struct RuleOptimizerOptions : public torch::optim::OptimizerCloneableOptions<RuleOptimizerOptions> {
  RuleOptimizerOptions(double lr = 1e-3);  // NOLINT: implicit like torch::optim::AdamOptions
  TORCH_ARG(double, lr) = 1e-3;
  // T, the run's total number of steps: required (> 0) when the rule reads ld, cd or rd.
  TORCH_ARG(std::int64_t, total_steps) = 0;
  // Keys the rule's random streams (eps, noise, drop) together with t and the parameter's index.
  TORCH_ARG(std::int64_t, seed) = 0;
  // "auto" (Cpu if this build has the LLVM backend, else Interp; Cuda for CUDA tensors),
  // or a codegen backend name: "interp", "cpu", "cuda".
  TORCH_ARG(std::string, backend) = "auto";
  // CPU kernels: worker threads of their own; 0 = run on LibTorch's thread pool (at::parallel_for).
  TORCH_ARG(std::int64_t, threads) = 0;

 public:
  void serialize(torch::serialize::InputArchive& archive) override;
  void serialize(torch::serialize::OutputArchive& archive) const override;
  double get_lr() const override;
  void set_lr(const double lr) override;
  friend bool operator==(const RuleOptimizerOptions& a, const RuleOptimizerOptions& b);
};

// One float32 buffer per state slot the rule reads (ir::Function::states), like the parameter.
struct RuleParamState : public torch::optim::OptimizerCloneableParamState<RuleParamState> {
  TORCH_ARG(std::vector<torch::Tensor>, buffers);

 public:
  void serialize(torch::serialize::InputArchive& archive) override;
  void serialize(torch::serialize::OutputArchive& archive) const override;
};

class RuleOptimizer : public torch::optim::Optimizer {
 public:
  // Throws std::invalid_argument when a group's options are invalid: an unknown backend, a
  // negative lr, or no total_steps for a rule that reads T.
  RuleOptimizer(std::vector<torch::optim::OptimizerParamGroup> param_groups, compiler::CompiledRule rule,
                RuleOptimizerOptions defaults = {});
  RuleOptimizer(std::vector<torch::Tensor> params, compiler::CompiledRule rule, RuleOptimizerOptions defaults = {});

  // Applies one update to every parameter that has a gradient; parameters without one are skipped
  // (their state does not move). Returns the closure's loss when one is given.
  torch::Tensor step(LossClosure closure = nullptr) override;

  // Checkpoints hold the rule's canonical hash and text, t, every group's options and the state
  // buffers (by the parameter's position in the groups). load() refuses a checkpoint of another
  // rule, or of differently shaped groups, with a message naming both sides.
  void save(torch::serialize::OutputArchive& archive) const override;
  void load(torch::serialize::InputArchive& archive) override;

  const compiler::CompiledRule& rule() const { return rule_; }
  std::int64_t step_count() const { return t_; }  // steps taken so far; the next step is t + 1
  // The backend step() uses (or would use) for tensors on `device`.
  codegen::Backend backend_for(const RuleOptimizerOptions& options, const c10::Device& device) const;
  // Where the kernels read each step's scalars (lr, t, seed, the schedule values ld/cd/rd, bias
  // corrections). false (the default): from the launch's arguments, made on the host each step.
  // true: a table of every step's scalars (t = 1..total_steps) is kept on the parameters' device
  // with a step counter there; each step selects its row into a fixed buffer and advances the
  // counter with tensor ops, and the kernel reads that buffer when it runs. Every step then makes
  // the same calls with the same arguments, so one CUDA graph captured from a step replays every
  // later one (runtime/step_graph.h). The updates are the same, bit for bit. Needs total_steps on
  // every group, and refuses a step beyond it; throws std::invalid_argument otherwise, or when the
  // table would exceed kMaxStepTableBytes.
  void set_step_in_memory(bool on);
  bool step_in_memory() const { return step_in_memory_; }
  static constexpr std::int64_t kMaxStepTableBytes = std::int64_t{256} << 20;
  // For a caller that replays a captured step (step_in_memory only): the step ran on the device
  // without step() being called; counts it on the host (t, the counters' known values).
  void count_replayed_step();
  // Sets the step count to `t` and the device counters to match (one fill each, not captured): after
  // a capture, which recorded a step without running it, or a capture that failed.
  void reset_step_count(std::int64_t t);

  // Builds (or loads from the kernel caches) every kernel step() will need for the parameters as
  // they are now, so a rule whose kernel cannot be built fails here, before training, and the
  // build's time is measured apart from the steps. Throws what the backend throws.
  void build_kernels();

 private:
  void validate(const RuleOptimizerOptions& options) const;
  RuleParamState& state_for(const torch::Tensor& param);
  std::shared_ptr<codegen::Executor> executor(codegen::Backend backend, codegen::DType dtype, std::int64_t threads);

  // step_in_memory: one table of step scalars and one counter per (device, step settings).
  struct StepSchedule {
    c10::Device device;
    RuleOptimizerOptions settings;
    torch::Tensor table;    // uint8 [T, sizeof(KernelStep)]: row t - 1 holds step t's
    torch::Tensor counter;  // int64 [1]: steps taken, i.e. the row of the next step
    torch::Tensor current;  // uint8 [1, sizeof(KernelStep)]: what the kernel reads
    std::int64_t known = -1;  // the counter's value as the host knows it; -1: unknown
  };
  StepSchedule& schedule_for(const c10::Device& device, const RuleOptimizerOptions& options);

  compiler::CompiledRule rule_;
  std::int64_t t_ = 0;
  bool step_in_memory_ = false;
  std::vector<StepSchedule> schedules_;
  std::map<std::tuple<codegen::Backend, codegen::DType, std::int64_t>, std::shared_ptr<codegen::Executor>> executors_;
};

}  // namespace nos
