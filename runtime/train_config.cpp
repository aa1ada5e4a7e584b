#include "runtime/train_config.h"

#include <fmt/format.h>

namespace nos::runtime {
namespace {

constexpr std::pair<Status, const char*> kStatusNames[] = {
    {Status::Ok, "ok"}, {Status::Diverged, "diverged"}, {Status::TimeBudget, "time_budget"},
    {Status::CompileFailed, "compile_failed"}};

}  // namespace

const char* name(Status status) {
  for (auto [s, text] : kStatusNames)
    if (s == status) return text;
  return "?";
}

std::optional<Status> parse_status(std::string_view text) {
  for (auto [s, name] : kStatusNames)
    if (text == name) return s;
  return std::nullopt;
}

bool usable(Status status) { return status == Status::Ok || status == Status::TimeBudget; }

std::string OptimizerSpec::describe() const {
  if (rule) return rule->display();
  if (torch_optimizer == "sgd" && momentum != 0) return fmt::format("torch sgd (momentum {})", momentum);
  return "torch " + torch_optimizer;
}

}  // namespace nos::runtime
