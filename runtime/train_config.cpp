#include "runtime/train_config.h"

#include <sstream>

namespace nos::runtime {

std::string OptimizerSpec::describe() const {
  if (rule) return rule->display();
  std::ostringstream text;
  text << "torch " << torch_optimizer;
  if (torch_optimizer == "sgd" && momentum != 0) text << " (momentum " << momentum << ")";
  return text.str();
}

}  // namespace nos::runtime
