// An optional number in a JSON document: the number, or null when there is none or it is not
// finite (JSON has no NaN or infinity). Every tool's --json output writes a missing value so.
#pragma once

#include <optional>

#include <nlohmann/json.hpp>

namespace nos::support {

nlohmann::json number_or_null(std::optional<double> value);

}  // namespace nos::support
