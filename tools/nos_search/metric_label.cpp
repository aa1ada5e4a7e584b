#include "tools/nos_search/metric_label.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace nos::search::cli {

runtime::Objective stored_objective(const SearchInfo& search) {
  nlohmann::json config = nlohmann::json::parse(search.config_json, nullptr, false);
  if (!config.is_object() || !config.contains("child") || !config["child"].is_object()) return runtime::Objective::Classification;
  const nlohmann::json& child = config["child"];
  if (!child.contains("objective") || !child["objective"].is_string()) return runtime::Objective::Classification;
  return runtime::parse_objective(child["objective"].get<std::string>()).value_or(runtime::Objective::Classification);
}

std::string metric_note(runtime::Objective objective) {
  if (runtime::metric_is_accuracy(objective)) return "";
  const char* what = objective == runtime::Objective::Regression ? "minus the mean squared error"
                                                                  : "minus the bits per token of next-token prediction";
  return fmt::format("metric: {} ({} on the validation split), higher is better; reward: 1 / (1 - metric), then the "
                     "reward transform",
                     runtime::metric_label(objective), what);
}

}  // namespace nos::search::cli
