// JSON as text, never throwing. nlohmann's dump() throws on a string that is not valid UTF-8 (a
// search name, a file name typed by a user), which once turned a finished `final` into exit 3 with
// nothing stored. Every document NOS writes goes through here: such bytes become U+FFFD instead.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace nos {

inline std::string json_text(const nlohmann::json& j, int indent = -1) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace nos
