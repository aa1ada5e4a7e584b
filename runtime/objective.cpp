#include "runtime/objective.h"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>


namespace nos::runtime {
namespace {

[[noreturn]] void refuse(const Dataset& data, Objective objective, const std::string& why) {
  throw std::invalid_argument(fmt::format("{}: objective {} {}", data.source, name(objective), why));
}

Objective infer(const Dataset& data) {
  if (data.has_labels()) return data.is_sequence() ? Objective::SequenceClassification : Objective::Classification;
  if (data.has_targets()) return Objective::Regression;
  if (data.is_sequence()) return Objective::LanguageModel;
  throw std::invalid_argument(fmt::format("{}: the data has neither labels nor targets", data.source));
}

}  // namespace

Objective resolve_objective(Objective requested, const Dataset& data, const std::string& model) {
  const Objective objective = requested == Objective::Auto ? infer(data) : requested;
  switch (objective) {
    case Objective::Classification:
    case Objective::SequenceClassification:
      if (!data.has_labels())
        refuse(data, objective,
               data.has_targets() ? "needs class labels y: " + data.label_problem
                                  : std::string("needs class labels y; the data has none (token sequences without y "
                                                "are for objective lm)"));
      if (objective == Objective::SequenceClassification && !data.is_sequence())
        refuse(data, objective, "needs token sequences (an integer x of shape (N, length)); use classification");
      break;
    case Objective::Regression:
      if (!data.has_targets() || !data.float_targets)
        refuse(data, objective,
               data.has_targets() ? "needs float targets y; this y holds integers, read as class labels (give "
                                    "y.astype(np.float32) for regression)"
                                  : "needs targets y (float, shape (N,) or (N, K)); the data has none");
      break;
    case Objective::LanguageModel:
      if (!data.is_sequence())
        refuse(data, objective, "needs token sequences (an integer x of shape (N, length)) to predict each next token");
      if (!data.shape.empty() && data.shape[0] < 2)
        refuse(data, objective, "needs sequences of at least 2 tokens (each position predicts the next)");
      if (model == "textcnn")
        throw std::invalid_argument("model textcnn cannot train objective lm: its convolutions see the tokens after a "
                                    "position, so predicting the next one would be reading it; use textrnn");
      break;
    case Objective::Auto: break;
  }
  return objective;
}

std::int64_t objective_outputs(Objective objective, const Dataset& data) {
  if (objective == Objective::Regression) return data.target_width;
  if (objective == Objective::LanguageModel) return data.vocabulary;
  return data.num_classes;
}

std::string metric_text(Objective objective, double value) {
  if (metric_is_accuracy(objective)) return fmt::format("{:.2f}%", 100 * value);
  return fmt::format("{:.5g}", value);
}

double reward_base(Objective objective, double metric) {
  if (metric_is_accuracy(objective)) return metric;
  return 1 / (1 - std::min(metric, 0.0));
}

std::string metric_caption(Objective objective) {
  if (metric_is_accuracy(objective)) return "val acc";
  return fmt::format("val {}", metric_label(objective));
}

}  // namespace nos::runtime
