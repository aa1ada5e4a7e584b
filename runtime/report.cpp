#include "runtime/report.h"

#include <cmath>

namespace nos::runtime {
namespace {

nlohmann::json number(double value) { return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr); }

}  // namespace

std::vector<double> downsample(const std::vector<double>& values, std::size_t points, std::size_t* every) {
  std::size_t chunk = points == 0 ? 1 : std::max<std::size_t>(1, (values.size() + points - 1) / points);
  std::vector<double> out;
  for (std::size_t begin = 0; begin < values.size(); begin += chunk) {
    std::size_t end = std::min(values.size(), begin + chunk);
    double sum = 0;
    for (std::size_t i = begin; i < end; ++i) sum += values[i];
    out.push_back(sum / static_cast<double>(end - begin));
  }
  if (every) *every = chunk;
  return out;
}

nlohmann::json to_json(const EpochRecord& epoch) {
  return {{"epoch", epoch.epoch},         {"train_loss", number(epoch.train_loss)},
          {"val_loss", number(epoch.val_loss)}, {"val_acc", number(epoch.val_acc)},
          {"seconds", epoch.seconds},     {"complete", epoch.complete}};
}

nlohmann::json to_json(const RunResult& run) {
  nlohmann::json history = nlohmann::json::array();
  for (const EpochRecord& epoch : run.history) history.push_back(to_json(epoch));
  std::size_t every = 1;
  nlohmann::json curve = nlohmann::json::array();
  for (double v : downsample(run.batch_losses, kLossCurvePoints, &every)) curve.push_back(number(v));
  return {{"status", run.status},
          {"stop_reason", run.stop_reason},
          {"message", run.message},
          {"lr", run.lr},
          {"val_acc", number(run.val_acc)},
          {"val_acc_mean_last_k", number(run.val_acc_mean_last_k)},
          {"val_acc_max_last_k", number(run.val_acc_max_last_k)},
          {"last_k", run.last_k},
          {"steps", run.steps},
          {"seconds", run.seconds},
          {"backend", run.backend},
          {"history", history},
          {"loss_curve", {{"every", every}, {"values", curve}}}};
}

nlohmann::json to_json(const OptimizerSpec& optimizer) {
  if (optimizer.rule)
    return {{"rule", {{"name", optimizer.rule->name}, {"text", optimizer.rule->text}, {"hash", optimizer.rule->hash_hex()}}}};
  nlohmann::json j = {{"torch", optimizer.torch_optimizer}};
  if (optimizer.torch_optimizer == "sgd") j["momentum"] = optimizer.momentum;
  return j;
}

}  // namespace nos::runtime
