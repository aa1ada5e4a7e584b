#include "runtime/rule_optimizer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <stdexcept>

#include <fmt/format.h>
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/DeviceGuard.h>
#include <torch/utils.h>

#include "runtime/torch_compat.h"

namespace nos {
namespace {

using torch::serialize::InputArchive;
using torch::serialize::OutputArchive;

// What a checkpoint is checked against before anything is loaded.
constexpr const char* kHashKey = "nos/rule_hash";
constexpr const char* kRuleKey = "nos/rule";
constexpr const char* kStepKey = "nos/step";

codegen::DType kernel_dtype(const torch::Tensor& param) {
  switch (param.scalar_type()) {
    case at::kFloat: return codegen::DType::F32;
    case at::kBFloat16: return codegen::DType::BF16;
    case at::kHalf: return codegen::DType::F16;
    default:
      throw std::invalid_argument(std::string("RuleOptimizer: parameters of type ") + c10::toString(param.scalar_type()) +
                                  " are not supported (float32, bfloat16 and float16 are)");
  }
}

// Parameter groups with equal step settings share one kernel call.
bool same_step_settings(const RuleOptimizerOptions& a, const RuleOptimizerOptions& b) {
  return a.lr() == b.lr() && a.total_steps() == b.total_steps() && a.seed() == b.seed() &&
         a.backend() == b.backend() && a.threads() == b.threads();
}

struct Bucket {
  c10::Device device;
  codegen::DType dtype;
  const RuleOptimizerOptions* options;
  std::vector<codegen::KernelTensor> table;
  std::vector<torch::Tensor> contiguous_grads;  // keeps copies alive until the kernel has run
};

c10::IValue read_value(InputArchive& archive, const std::string& key) {
  c10::IValue value;
  archive.read(key, value);
  return value;
}

}  // namespace

// ---- options and per-parameter state ------------------------------------------------------------

RuleOptimizerOptions::RuleOptimizerOptions(double lr) : lr_(lr) {}

double RuleOptimizerOptions::get_lr() const { return lr(); }
void RuleOptimizerOptions::set_lr(const double lr) { this->lr(lr); }

bool operator==(const RuleOptimizerOptions& a, const RuleOptimizerOptions& b) { return same_step_settings(a, b); }

void RuleOptimizerOptions::serialize(OutputArchive& archive) const {
  archive.write("lr", c10::IValue(lr()));
  archive.write("total_steps", c10::IValue(total_steps()));
  archive.write("seed", c10::IValue(seed()));
  archive.write("backend", c10::IValue(backend()));
  archive.write("threads", c10::IValue(threads()));
}

void RuleOptimizerOptions::serialize(InputArchive& archive) {
  lr(read_value(archive, "lr").toDouble());
  total_steps(read_value(archive, "total_steps").toInt());
  seed(read_value(archive, "seed").toInt());
  backend(read_value(archive, "backend").toStringRef());
  threads(read_value(archive, "threads").toInt());
}

void RuleParamState::serialize(OutputArchive& archive) const {
  archive.write("size", c10::IValue(static_cast<std::int64_t>(buffers().size())));
  for (std::size_t i = 0; i < buffers().size(); ++i) archive.write(std::to_string(i), buffers()[i], /*is_buffer=*/true);
}

void RuleParamState::serialize(InputArchive& archive) {
  std::vector<torch::Tensor> loaded(static_cast<std::size_t>(read_value(archive, "size").toInt()));
  for (std::size_t i = 0; i < loaded.size(); ++i) archive.read(std::to_string(i), loaded[i], /*is_buffer=*/true);
  buffers(std::move(loaded));
}

// ---- the optimizer ------------------------------------------------------------------------------

RuleOptimizer::RuleOptimizer(std::vector<torch::optim::OptimizerParamGroup> param_groups, compiler::CompiledRule rule,
                             RuleOptimizerOptions defaults)
    : Optimizer(std::move(param_groups), std::make_unique<RuleOptimizerOptions>(defaults)), rule_(std::move(rule)) {
  validate(defaults);
  for (const torch::optim::OptimizerParamGroup& group : param_groups_)
    validate(static_cast<const RuleOptimizerOptions&>(group.options()));
}

RuleOptimizer::RuleOptimizer(std::vector<torch::Tensor> params, compiler::CompiledRule rule,
                             RuleOptimizerOptions defaults)
    : RuleOptimizer(std::vector<torch::optim::OptimizerParamGroup>{torch::optim::OptimizerParamGroup(std::move(params))},
                    std::move(rule), std::move(defaults)) {}

void RuleOptimizer::validate(const RuleOptimizerOptions& options) const {
  if (!(options.lr() >= 0) || !std::isfinite(options.lr()))
    throw std::invalid_argument("RuleOptimizer: invalid learning rate " + std::to_string(options.lr()));
  if (options.backend() != "auto" && !codegen::parse_backend(options.backend()))
    throw std::invalid_argument("RuleOptimizer: unknown backend '" + options.backend() +
                                "' (expected auto, interp, cpu or cuda)");
  if (options.threads() < 0) throw std::invalid_argument("RuleOptimizer: threads must be >= 0");
  if (options.total_steps() < 0 || options.total_steps() > std::numeric_limits<std::uint32_t>::max())
    throw std::invalid_argument("RuleOptimizer: total_steps " + std::to_string(options.total_steps()) +
                                " is out of range");
  if (options.total_steps() == 0 && ir::needs_total_steps(rule_.optimized))
    throw std::invalid_argument("RuleOptimizer: rule '" + rule_.display() +
                                "' reads the run's total step count T (ld, cd or rd), but total_steps is not set; "
                                "pass RuleOptimizerOptions(lr).total_steps(T)");
}

codegen::Backend RuleOptimizer::backend_for(const RuleOptimizerOptions& options, const c10::Device& device) const {
  if (options.backend() == "auto") {
    if (device.is_cuda()) return codegen::Backend::Cuda;
    std::string why;
    if (codegen::backend_available(codegen::Backend::Cpu, &why)) return codegen::Backend::Cpu;
    static std::once_flag warned;
    std::call_once(warned, [&] {
      fmt::print(stderr, "nos: warning: the LLVM CPU backend is unavailable ({}); RuleOptimizer falls back to the "
                 "reference interpreter, which is slow\n", why);
    });
    return codegen::Backend::Interp;
  }
  codegen::Backend backend = *codegen::parse_backend(options.backend());
  if ((backend == codegen::Backend::Cuda) != device.is_cuda())
    throw std::invalid_argument(std::string("RuleOptimizer: backend '") + codegen::name(backend) +
                                "' cannot update parameters on " + device.str());
  return backend;
}

RuleParamState& RuleOptimizer::state_for(const torch::Tensor& param) {
  std::unique_ptr<torch::optim::OptimizerParamState>& slot = state_[runtime::compat::state_key(param)];
  if (!slot) {
    auto state = std::make_unique<RuleParamState>();
    std::vector<torch::Tensor> buffers;
    for (std::size_t i = 0; i < rule_.optimized.states.size(); ++i)
      buffers.push_back(torch::zeros(param.sizes(), param.options().dtype(at::kFloat)));
    state->buffers(std::move(buffers));
    slot = std::move(state);
  }
  return static_cast<RuleParamState&>(*slot);
}

codegen::ParallelFor torch_parallel_for() {
  return [](std::int64_t count, const std::function<void(std::int64_t, std::int64_t)>& body) {
    at::parallel_for(0, count, 1, body);
  };
}

std::shared_ptr<codegen::Executor> RuleOptimizer::executor(codegen::Backend backend, codegen::DType dtype,
                                                           std::int64_t threads) {
  std::shared_ptr<codegen::Executor>& exec = executors_[{backend, dtype, threads}];
  if (!exec) {
    codegen::ExecutorOptions options;
    options.threads = static_cast<int>(threads);
    // CPU kernels share LibTorch's intra-op thread pool instead of starting threads of their own
    // on every step.
    if (threads == 0) options.parallel_for = torch_parallel_for();
    exec = codegen::make_executor(rule_.optimized, backend, dtype, options);
  }
  return exec;
}

void RuleOptimizer::build_kernels() {
  for (const torch::optim::OptimizerParamGroup& group : param_groups_) {
    const auto& options = static_cast<const RuleOptimizerOptions&>(group.options());
    for (const torch::Tensor& param : group.params()) {
      c10::DeviceGuard on_device(param.device());
      executor(backend_for(options, param.device()), kernel_dtype(param), options.threads());
    }
  }
}

torch::Tensor RuleOptimizer::step(LossClosure closure) {
  torch::Tensor loss;
  if (closure) {
    torch::AutoGradMode enable_grad(true);
    loss = closure();
  }
  torch::NoGradGuard no_grad;
  for (const torch::optim::OptimizerParamGroup& group : param_groups_)
    validate(static_cast<const RuleOptimizerOptions&>(group.options()));  // groups may be added later

  std::vector<Bucket> buckets;
  std::uint32_t tensor_id = 0;  // the parameter's position over all groups: keys its random streams
  for (const torch::optim::OptimizerParamGroup& group : param_groups_) {
    const auto& options = static_cast<const RuleOptimizerOptions&>(group.options());
    for (const torch::Tensor& param : group.params()) {
      std::uint32_t id = tensor_id++;
      const torch::Tensor& grad = param.grad();
      if (!grad.defined()) continue;
      if (!param.is_contiguous() || param.layout() != at::kStrided)
        throw std::invalid_argument("RuleOptimizer: parameter " + std::to_string(id) + " is not a contiguous dense tensor");
      if (grad.layout() != at::kStrided)
        throw std::invalid_argument("RuleOptimizer: sparse gradients are not supported (parameter " +
                                    std::to_string(id) + ")");
      if (grad.scalar_type() != param.scalar_type() || grad.device() != param.device() ||
          grad.sizes() != param.sizes())
        throw std::invalid_argument("RuleOptimizer: the gradient of parameter " + std::to_string(id) +
                                    " differs from it in type, device or shape");
      codegen::DType dtype = kernel_dtype(param);
      auto bucket = std::find_if(buckets.begin(), buckets.end(), [&](const Bucket& b) {
        return b.device == param.device() && b.dtype == dtype && same_step_settings(*b.options, options);
      });
      if (bucket == buckets.end()) bucket = buckets.insert(buckets.end(), Bucket{param.device(), dtype, &options, {}, {}});

      torch::Tensor g = grad.is_contiguous() ? grad : bucket->contiguous_grads.emplace_back(grad.contiguous());
      codegen::KernelTensor row{};
      row.w = param.data_ptr();
      row.g = g.data_ptr();
      const std::vector<torch::Tensor>& buffers = state_for(param).buffers();
      for (std::size_t s = 0; s < buffers.size(); ++s) row.state[s] = buffers[s].data_ptr<float>();
      row.numel = param.numel();
      row.tensor_id = id;
      bucket->table.push_back(row);
    }
  }

  if (step_in_memory_)
    for (const Bucket& bucket : buckets)
      if (t_ + 1 > bucket.options->total_steps())
        throw std::invalid_argument(fmt::format("RuleOptimizer: step {} is beyond total_steps {}, the last step whose "
                                                "scalars are kept in memory (set_step_in_memory)",
                                                t_ + 1, bucket.options->total_steps()));
  ++t_;  // only now: a step refused above leaves the optimizer as it was
  for (Bucket& bucket : buckets) {
    const RuleOptimizerOptions& options = *bucket.options;
    codegen::Backend backend = backend_for(options, bucket.device);
    if (step_in_memory_) {
      StepSchedule& schedule = schedule_for(bucket.device, options);
      if (schedule.known != t_ - 1) schedule.counter.fill_(t_ - 1);
      at::index_select_out(schedule.current, schedule.table, 0, schedule.counter);
      schedule.counter.add_(1);
      schedule.known = t_;
      c10::DeviceGuard on_device(bucket.device);
      executor(backend, bucket.dtype, options.threads())
          ->step_at(bucket.table, schedule.current.data_ptr(), runtime::compat::current_stream(bucket.device));
      continue;
    }
    codegen::KernelStep step =
        codegen::make_step(rule_.optimized, static_cast<float>(options.lr()), static_cast<std::uint32_t>(t_),
                           static_cast<std::uint32_t>(options.total_steps()), static_cast<std::uint64_t>(options.seed()));
    c10::DeviceGuard on_device(bucket.device);
    executor(backend, bucket.dtype, options.threads())
        ->step(bucket.table, step, runtime::compat::current_stream(bucket.device));
  }
  return loss;
}

// ---- step scalars in memory (CUDA graphs) ---------------------------------------------------------

void RuleOptimizer::set_step_in_memory(bool on) {
  if (on)
    for (const torch::optim::OptimizerParamGroup& group : param_groups_) {
      const auto& options = static_cast<const RuleOptimizerOptions&>(group.options());
      if (options.total_steps() <= 0)
        throw std::invalid_argument("RuleOptimizer: step scalars in memory need total_steps (the table's length)");
      if (options.total_steps() > kMaxStepTableBytes / static_cast<std::int64_t>(sizeof(codegen::KernelStep)))
        throw std::invalid_argument(fmt::format("RuleOptimizer: a table of {} steps' scalars exceeds {} MiB",
                                                options.total_steps(), kMaxStepTableBytes >> 20));
    }
  step_in_memory_ = on;
}

RuleOptimizer::StepSchedule& RuleOptimizer::schedule_for(const c10::Device& device, const RuleOptimizerOptions& options) {
  for (StepSchedule& schedule : schedules_)
    if (schedule.device == device && same_step_settings(schedule.settings, options)) return schedule;
  // Made on the host with make_step, as the argument path makes each step's, then copied once.
  constexpr auto row = static_cast<std::int64_t>(sizeof(codegen::KernelStep));
  const std::int64_t steps = options.total_steps();
  torch::Tensor table = torch::empty({steps, row}, torch::kUInt8);
  for (std::int64_t t = 1; t <= steps; ++t) {
    codegen::KernelStep step =
        codegen::make_step(rule_.optimized, static_cast<float>(options.lr()), static_cast<std::uint32_t>(t),
                           static_cast<std::uint32_t>(steps), static_cast<std::uint64_t>(options.seed()));
    std::memcpy(table.data_ptr<std::uint8_t>() + (t - 1) * row, &step, sizeof step);
  }
  auto on = torch::TensorOptions().device(device);
  StepSchedule schedule{device, options, table.to(device), torch::zeros({1}, on.dtype(torch::kLong)),
                        torch::empty({1, row}, on.dtype(torch::kUInt8)), 0};
  return schedules_.emplace_back(std::move(schedule));
}

void RuleOptimizer::count_replayed_step() {
  ++t_;
  for (StepSchedule& schedule : schedules_)
    if (schedule.known >= 0) ++schedule.known;
}

void RuleOptimizer::reset_step_count(std::int64_t t) {
  t_ = t;
  for (StepSchedule& schedule : schedules_) {
    schedule.counter.fill_(t);
    schedule.known = t;
  }
}

// ---- checkpoints --------------------------------------------------------------------------------

void RuleOptimizer::save(OutputArchive& archive) const {
  archive.write(kHashKey, c10::IValue(rule_.hash_hex()));
  archive.write(kRuleKey, c10::IValue(rule_.display()));
  archive.write(kStepKey, c10::IValue(t_));
  archive.write("param_groups/size", c10::IValue(static_cast<std::int64_t>(param_groups_.size())));
  OutputArchive states(archive.compilation_unit());
  std::int64_t index = 0;
  for (std::size_t i = 0; i < param_groups_.size(); ++i) {
    OutputArchive group(archive.compilation_unit());
    group.write("params/size", c10::IValue(static_cast<std::int64_t>(param_groups_[i].params().size())));
    OutputArchive options(archive.compilation_unit());
    static_cast<const RuleOptimizerOptions&>(param_groups_[i].options()).serialize(options);
    group.write("options", options);
    archive.write("param_groups/" + std::to_string(i), group);
    // States are keyed by the parameter's position, which survives a restart; TensorImpl addresses do not.
    for (const torch::Tensor& param : param_groups_[i].params()) {
      auto found = state_.find(runtime::compat::state_key(param));
      if (found != state_.end()) {
        OutputArchive state(archive.compilation_unit());
        static_cast<const RuleParamState&>(*found->second).serialize(state);
        states.write(std::to_string(index), state);
      }
      ++index;
    }
  }
  archive.write("state", states);
}

void RuleOptimizer::load(InputArchive& archive) {
  c10::IValue hash, text;
  if (!archive.try_read(kHashKey, hash) || !hash.isString())
    throw std::runtime_error("RuleOptimizer: not a RuleOptimizer checkpoint (it has no rule hash)");
  archive.read(kRuleKey, text);
  if (hash.toStringRef() != rule_.hash_hex())
    throw std::runtime_error("RuleOptimizer: the checkpoint was saved for rule " + hash.toStringRef() + " ('" +
                             text.toStringRef() + "'), but this optimizer runs rule " + rule_.hash_hex() + " ('" +
                             rule_.display() + "')");

  // Check every group's shape before changing anything, so a refused checkpoint leaves this intact.
  std::int64_t group_count = read_value(archive, "param_groups/size").toInt();
  if (group_count != static_cast<std::int64_t>(param_groups_.size()))
    throw std::runtime_error("RuleOptimizer: the checkpoint has " + std::to_string(group_count) +
                             " parameter groups, this optimizer " + std::to_string(param_groups_.size()));
  std::vector<RuleOptimizerOptions> options(param_groups_.size());
  for (std::size_t i = 0; i < param_groups_.size(); ++i) {
    InputArchive group;
    archive.read("param_groups/" + std::to_string(i), group);
    std::int64_t size = read_value(group, "params/size").toInt();
    if (size != static_cast<std::int64_t>(param_groups_[i].params().size()))
      throw std::runtime_error("RuleOptimizer: parameter group " + std::to_string(i) + " of the checkpoint has " +
                               std::to_string(size) + " parameters, this optimizer's " +
                               std::to_string(param_groups_[i].params().size()));
    InputArchive saved_options;
    group.read("options", saved_options);
    options[i].serialize(saved_options);
    validate(options[i]);
  }
  InputArchive states;
  archive.read("state", states);
  decltype(state_) loaded;
  std::int64_t index = 0;
  for (const torch::optim::OptimizerParamGroup& group : param_groups_)
    for (const torch::Tensor& param : group.params()) {
      InputArchive saved;
      if (states.try_read(std::to_string(index), saved)) {
        auto state = std::make_unique<RuleParamState>();
        state->serialize(saved);
        std::vector<torch::Tensor> buffers = state->buffers();
        if (buffers.size() != rule_.optimized.states.size())
          throw std::runtime_error("RuleOptimizer: parameter " + std::to_string(index) + " has " +
                                   std::to_string(buffers.size()) + " state buffers in the checkpoint, the rule needs " +
                                   std::to_string(rule_.optimized.states.size()));
        for (torch::Tensor& buffer : buffers) {
          if (buffer.numel() != param.numel())
            throw std::runtime_error("RuleOptimizer: parameter " + std::to_string(index) + " has " +
                                     std::to_string(param.numel()) + " elements, its state in the checkpoint " +
                                     std::to_string(buffer.numel()));
          buffer = buffer.to(param.device(), at::kFloat).reshape(param.sizes()).contiguous();
        }
        state->buffers(std::move(buffers));
        loaded[runtime::compat::state_key(param)] = std::move(state);
      }
      ++index;
    }

  for (std::size_t i = 0; i < param_groups_.size(); ++i)
    param_groups_[i].set_options(std::make_unique<RuleOptimizerOptions>(options[i]));
  state_ = std::move(loaded);
  t_ = read_value(archive, kStepKey).toInt();
}

}  // namespace nos
