#include "support/json_number.h"

#include <cmath>

namespace nos::support {

nlohmann::json number_or_null(std::optional<double> value) {
  return value && std::isfinite(*value) ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

}  // namespace nos::support
