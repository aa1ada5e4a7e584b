#include "runtime/preflight.h"

#include <new>
#include <stdexcept>

#include <c10/util/Exception.h>
#include <fmt/format.h>
#include <torch/nn/modules/container/sequential.h>

#include "runtime/models.h"

namespace nos::runtime {

ChildPreflight preflight_child(const EvaluateSpec& spec) {
  if (std::string problem = spec_problem(spec); !problem.empty()) throw std::invalid_argument(problem);
  ChildPreflight out;
  out.data = load_dataset(spec.data);
  out.split = split_dataset(out.data, split_options(spec));
  out.warnings = split_warnings(out.split);
  // Built once, as train() builds it: make_model refuses what is too large before allocating, and
  // an allocation that fails anyway is the spec's problem, not a bug.
  try {
    torch::nn::Sequential model = make_model(spec.model, out.split.train.shape, out.split.train.num_classes);
  } catch (const std::bad_alloc&) {
    throw std::invalid_argument(fmt::format("model {}: cannot be allocated on this machine", spec.model.name));
  } catch (const c10::Error& e) {
    throw std::invalid_argument(fmt::format("model {}: cannot be built: {}", spec.model.name, e.what_without_backtrace()));
  }
  return out;
}

}  // namespace nos::runtime
