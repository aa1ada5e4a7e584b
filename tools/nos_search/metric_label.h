// The name and direction of a search's metric, for the commands that show it (top, status, report,
// final): nothing for accuracy, so a classification search's output stays as it always was; a line
// naming the metric for the other objectives (runtime/objective.h).
#pragma once

#include <string>

#include "controller/search/storage.h"
#include "runtime/task.h"

namespace nos::search::cli {

// The child's objective in the search's stored configuration (child.objective; absent or
// unreadable: classification, as a search stored before objectives existed).
runtime::Objective stored_objective(const SearchInfo& search);

// "" for an accuracy; else e.g. "metric: neg_mse (-mean squared error on the validation split),
// higher is better; reward = transform(1 / (1 - metric))".
std::string metric_note(runtime::Objective objective);

}  // namespace nos::search::cli
