#include "runtime/trainer.h"

#include <chrono>
#include <cmath>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>
#include <torch/cuda.h>
#include <torch/optim/adam.h>
#include <torch/optim/rmsprop.h>
#include <torch/optim/sgd.h>
#include <torch/utils.h>

#include "runtime/cpu_threads.h"
#include "runtime/metrics.h"
#include "runtime/objective.h"
#include "runtime/child_model.h"
#include "runtime/loss_reader.h"
#include "runtime/rule_optimizer.h"
#include "runtime/step_graph.h"

namespace nos::runtime {
namespace {

using Clock = std::chrono::steady_clock;

// Validation runs in chunks so a large validation set never needs one huge activation tensor.
constexpr std::int64_t kEvalChunk = 1000;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Decorrelates the per-epoch shuffling seeds of nearby run seeds (splitmix64's finalizer).
std::uint64_t epoch_seed(std::uint64_t seed, int epoch) {
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ull * static_cast<std::uint64_t>(epoch + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

struct Tensors {
  torch::Tensor x, y;
};

// y is what the objective reads: the labels, the float targets [N, K] (regression), or nothing
// (lm reads x: a placeholder of N zeros keeps the batching the same).
Tensors to_tensors(const Dataset& data, Objective objective, const torch::Device& device) {
  std::vector<std::int64_t> shape{data.size()};
  shape.insert(shape.end(), data.shape.begin(), data.shape.end());
  // from_blob borrows the vectors, which outlive the run (train() holds `data`) and are only read:
  // on the CPU the tensors use them in place (a search's worker trains thousands of children on one
  // split, and copying it for every run cost a few percent of the search); other devices copy.
  auto own = [&](torch::Tensor borrowed) { return device.is_cpu() ? borrowed : borrowed.to(device); };
  torch::Tensor x = own(torch::from_blob(const_cast<float*>(data.features.data()), shape, torch::kFloat));
  if (objective == Objective::Regression)
    return {x, own(torch::from_blob(const_cast<float*>(data.targets.data()), {data.size(), data.target_width}, torch::kFloat))};
  if (objective == Objective::LanguageModel) return {x, torch::zeros({data.size()}, torch::kLong).to(device)};
  return {x, own(torch::from_blob(const_cast<std::int64_t*>(data.labels.data()), {data.size()}, torch::kLong))};
}

// One copy of `data` on a CUDA device, in Dataset::device_copies.
struct DeviceCopy {
  torch::Device device;
  Objective objective;
  const float* features;
  const std::int64_t* labels;
  const float* targets;
  std::int64_t size;
  Tensors tensors;
};

// The data on `device`: borrowed on the CPU; on CUDA copied by the first run on that device and
// kept in the Dataset for the next runs (the runs of a worker's process share the split).
Tensors device_tensors(const Dataset& data, Objective objective, const torch::Device& device) {
  if (device.is_cpu()) return to_tensors(data, objective, device);
  // "cuda" means the current device: an empty tensor there names it.
  torch::Device where = device.has_index() ? device : torch::empty({0}, torch::TensorOptions(device)).device();
  if (!data.device_copies.slot) data.device_copies.slot = std::make_shared<std::vector<DeviceCopy>>();
  auto& copies = *static_cast<std::vector<DeviceCopy>*>(data.device_copies.slot.get());
  for (const DeviceCopy& copy : copies)
    if (copy.device == where && copy.objective == objective && copy.features == data.features.data() &&
        copy.labels == data.labels.data() && copy.targets == data.targets.data() && copy.size == data.size())
      return copy.tensors;
  std::erase_if(copies, [&](const DeviceCopy& copy) { return copy.device == where; });  // stale: the data moved
  copies.push_back({where, objective, data.features.data(), data.labels.data(), data.targets.data(), data.size(),
                    to_tensors(data, objective, where)});
  return copies.back().tensors;
}

struct Evaluation {
  double loss = 0, metric = 0;
};

Evaluation evaluate(ChildModel& model, const Tensors& val) {
  torch::NoGradGuard no_grad;
  model.set_training(false);
  ChunkScore total;
  std::int64_t n = val.x.size(0);
  for (std::int64_t begin = 0; begin < n; begin += kEvalChunk) {
    std::int64_t end = std::min(n, begin + kEvalChunk);
    ChunkScore chunk = model.score(val.x.slice(0, begin, end), val.y.slice(0, begin, end));
    total.loss_sum += chunk.loss_sum;
    total.metric_sum += chunk.metric_sum;
  }
  model.set_training(true);
  return {total.loss_sum / static_cast<double>(n), total.metric_sum / static_cast<double>(n)};
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const OptimizerSpec& spec, const TrainConfig& config,
                                                        std::vector<torch::Tensor> params, std::int64_t total_steps,
                                                        const torch::Device& device, std::string& backend) {
  if (spec.rule) {
    // The kernels' seed is 64 bits, RuleOptimizerOptions' an int64: the same bits, never saturated.
    auto options = RuleOptimizerOptions(config.lr)
                       .total_steps(total_steps)
                       .seed(static_cast<std::int64_t>(config.seed))
                       .backend(config.backend)
                       .threads(config.threads);
    auto optimizer = std::make_unique<RuleOptimizer>(std::move(params), *spec.rule, options);
    backend = codegen::name(optimizer->backend_for(options, device));
    return optimizer;
  }
  backend = "torch";
  // eps 1e-8 for both, as in the rules' `adam` and `rmsprop` operands.
  if (spec.torch_optimizer == "adam")
    return std::make_unique<torch::optim::Adam>(std::move(params), torch::optim::AdamOptions(config.lr).eps(1e-8));
  if (spec.torch_optimizer == "rmsprop")
    return std::make_unique<torch::optim::RMSprop>(std::move(params),
                                                   torch::optim::RMSpropOptions(config.lr).alpha(0.99).eps(1e-8));
  if (spec.torch_optimizer == "sgd")
    return std::make_unique<torch::optim::SGD>(std::move(params),
                                               torch::optim::SGDOptions(config.lr).momentum(spec.momentum));
  throw std::invalid_argument(fmt::format("unknown optimizer '{}' (expected adam, rmsprop or sgd)", spec.torch_optimizer));
}

}  // namespace

bool device_available(const std::string& device, std::string* why) {
  torch::Device parsed(torch::kCPU);
  try {
    parsed = torch::Device(device);
  } catch (const std::exception&) {
    if (why) *why = "unknown device '" + device + "' (expected cpu, cuda or cuda:N)";
    return false;
  }
  if (parsed.is_cpu()) return true;
  if (!parsed.is_cuda()) {
    if (why) *why = "device '" + device + "' is not supported (expected cpu, cuda or cuda:N)";
    return false;
  }
  if (!torch::cuda::is_available()) {
    if (why) *why = "device '" + device + "': no CUDA device is available to this LibTorch build";
    return false;
  }
  if (parsed.has_index() && parsed.index() >= static_cast<int>(torch::cuda::device_count())) {
    if (why) *why = fmt::format("device '{}': there are only {} CUDA devices", device, torch::cuda::device_count());
    return false;
  }
  return true;
}

RunResult train(const Split& data, const OptimizerSpec& optimizer_spec, const TrainConfig& config,
                const EpochCallback& on_epoch) {
  std::string why;
  if (!device_available(config.device, &why)) throw std::invalid_argument(why);
  if (config.epochs < 1) throw std::invalid_argument("epochs must be at least 1");
  if (config.batch_size < 1) throw std::invalid_argument("the batch size must be at least 1");
  auto start = Clock::now();
  set_cpu_threads(config.threads);
  torch::manual_seed(config.seed);
  torch::Device device(config.device);

  const Objective objective = resolve_objective(config.objective, data.train, config.model.name);
  Tensors train_set = device_tensors(data.train, objective, device), val_set = device_tensors(data.val, objective, device);
  std::unique_ptr<ChildModel> model =
      make_child_model(config.model, objective, data.train.shape, objective_outputs(objective, data.train),
                       data.train.vocabulary, config.seed);
  model->to(device);

  std::int64_t n = data.train.size();
  std::int64_t steps_per_epoch = (n + config.batch_size - 1) / config.batch_size;
  RunResult result;
  result.lr = config.lr;
  std::unique_ptr<torch::optim::Optimizer> optimizer = make_optimizer(
      optimizer_spec, config, model->parameters(), steps_per_epoch * config.epochs, device, result.backend);
  if (auto* rule_optimizer = dynamic_cast<RuleOptimizer*>(optimizer.get())) {
    auto compile_start = Clock::now();
    try {
      rule_optimizer->build_kernels();
    } catch (const std::exception& e) {  // the candidate's fault, not the run's: a result
      result.status = Status::CompileFailed;
      result.message = fmt::format("the {} kernel of this rule cannot be built: {}", result.backend, e.what());
      result.compile_seconds = result.seconds = seconds_since(compile_start);
      return result;
    }
    result.compile_seconds = seconds_since(compile_start);
  }

  // CUDA graphs (cuda_graphs): full batches go through one captured step, which reads its batch
  // from `batch_index` and zeroes the gradients in place (the graph keeps their addresses); a
  // short last batch runs the same step eagerly. Without a graph (on the CPU, say) the same
  // steps run eagerly, with the same results as the loop below.
  std::vector<torch::Tensor> params = model->parameters();
  auto step_on = [&](const torch::Tensor& index) {
    {
      torch::NoGradGuard no_grad;
      for (torch::Tensor& p : params)
        if (p.grad().defined()) p.mutable_grad().zero_();
    }
    torch::Tensor loss = model->loss(train_set.x.index_select(0, index), train_set.y.index_select(0, index));
    loss.backward();
    optimizer->step();
    return loss;
  };
  torch::Tensor batch_index;
  std::unique_ptr<StepGraph> graph;
  std::optional<StepGraph::SideStream> side_stream;
  if (config.cuda_graphs) {
    auto* rule_optimizer = dynamic_cast<RuleOptimizer*>(optimizer.get());
    std::string eager;
    if (!rule_optimizer) eager = "eager: LibTorch's optimizers compute their step on the host";
    else try {
        rule_optimizer->set_step_in_memory(true);
      } catch (const std::invalid_argument& e) {
        eager = std::string("eager: ") + e.what();
      }
    result.graph = eager;
    if (eager.empty()) {
      side_stream.emplace(device);
      batch_index = torch::empty({config.batch_size}, torch::TensorOptions(device).dtype(torch::kLong));
      graph = std::make_unique<StepGraph>([&] { return step_on(batch_index); }, *rule_optimizer, device);
    }
  }

  DivergenceGuard guard(config.divergence_factor);
  const int check_every = effective_check_every(config.check_every, device.is_cuda());
  LossReader losses(guard, check_every);
  auto stop = [&](Status status, std::string message) {
    result.status = status;
    result.message = std::move(message);
  };
  for (int epoch = 1; epoch <= config.epochs && result.status == Status::Ok; ++epoch) {
    auto epoch_start = Clock::now();
    std::vector<std::int64_t> order = seeded_permutation(n, epoch_seed(config.seed, epoch));
    torch::Tensor permutation = torch::from_blob(order.data(), {n}, torch::kLong).to(device);
    std::int64_t batches = 0;
    std::size_t first_loss = result.batch_losses.size();  // this epoch's losses start here
    // Reads the waiting losses; a broken one ends the run as a per-step check would have: the
    // steps counted are those before it (the updates after it, at most k - 1, are not counted).
    auto read_losses = [&] {
      std::optional<LossReader::Divergence> diverged = losses.read(result.batch_losses);
      if (!diverged) return true;
      batches -= result.steps - (diverged->step - 1);
      result.steps = diverged->step - 1;
      stop(Status::Diverged, diverged->message);
      return false;
    };
    for (std::int64_t begin = 0; begin < n; begin += config.batch_size) {
      torch::Tensor index = permutation.slice(0, begin, std::min(n, begin + config.batch_size));
      bool full = false;
      if (graph) {
        torch::Tensor loss;
        if (index.size(0) == config.batch_size) {
          batch_index.copy_(index);
          loss = graph->run();
        } else {
          loss = step_on(index);
        }
        full = losses.add(result.steps + 1, loss);  // read after the update: it is in the graph
      } else {
        optimizer->zero_grad();
        torch::Tensor loss = model->loss(train_set.x.index_select(0, index), train_set.y.index_select(0, index));
        full = losses.add(result.steps + 1, loss);
        // k = 1: checked before the step, so the update never runs on a broken loss.
        if (check_every == 1 && !read_losses()) break;
        loss.backward();
        optimizer->step();
      }
      ++result.steps, ++batches;
      if (full && (graph || check_every > 1) && !read_losses()) break;
      if (config.time_budget > 0 && seconds_since(start) > config.time_budget) {
        if (!read_losses()) break;
        stop(Status::TimeBudget,
             fmt::format("the time budget of {:g} s ran out after {} steps", config.time_budget, result.steps));
        break;
      }
    }
    if (result.status != Status::Diverged) read_losses();
    double loss_sum = 0;
    for (std::size_t i = first_loss; i < result.batch_losses.size(); ++i) loss_sum += result.batch_losses[i];
    result.train_seconds += seconds_since(epoch_start);
    auto validation_start = Clock::now();
    Evaluation eval = evaluate(*model, val_set);
    result.validation_seconds += seconds_since(validation_start);
    if (result.status != Status::Diverged)
      if (std::optional<std::string> diverged = guard.check(eval.loss, result.steps))
        stop(Status::Diverged, "validation " + *diverged);
    EpochRecord record;
    record.epoch = epoch;
    record.train_loss = batches ? loss_sum / static_cast<double>(batches) : std::nan("");
    record.val_loss = eval.loss;
    record.val_acc = eval.metric;
    record.seconds = seconds_since(epoch_start);
    record.complete = batches == steps_per_epoch;
    result.history.push_back(record);
    if (on_epoch) on_epoch(record);
  }
  if (graph) result.graph = graph->mode().empty() ? "eager: the run ended before the capture" : graph->mode();
  summarize(result, config.last_k);
  result.seconds = seconds_since(start);
  return result;
}

}  // namespace nos::runtime
