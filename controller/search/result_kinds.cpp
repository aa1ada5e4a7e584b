#include "controller/search/result_kinds.h"

#include <utility>

namespace nos::search {
namespace {

// The one name table of each enum: the strings the database's CHECK constraints and the JSON hold.
constexpr std::pair<Status, const char*> kStatusNames[] = {
    {Status::Ok, "ok"},           {Status::Invalid, "invalid"},         {Status::Rejected, "rejected"},
    {Status::Diverged, "diverged"}, {Status::TimeBudget, "time_budget"}, {Status::Crashed, "crashed"}};
constexpr std::pair<Source, const char*> kSourceNames[] = {{Source::Trained, "trained"},
                                                           {Source::CacheHit, "cache_hit"},
                                                           {Source::FingerprintHit, "fingerprint_hit"},
                                                           {Source::Screened, "screened"}};

template <typename Enum, std::size_t N>
const char* name_in(const std::pair<Enum, const char*> (&table)[N], Enum value) {
  for (auto [e, text] : table)
    if (e == value) return text;
  return "?";
}

template <typename Enum, std::size_t N>
std::optional<Enum> parse_in(const std::pair<Enum, const char*> (&table)[N], std::string_view text) {
  for (auto [e, name] : table)
    if (text == name) return e;
  return std::nullopt;
}

}  // namespace

const char* name(Status status) { return name_in(kStatusNames, status); }
const char* name(Source source) { return name_in(kSourceNames, source); }
std::optional<Status> parse_status(std::string_view text) { return parse_in(kStatusNames, text); }
std::optional<Source> parse_source(std::string_view text) { return parse_in(kSourceNames, text); }

bool usable(Status status) { return status == Status::Ok || status == Status::TimeBudget; }
bool is_hit(Source source) { return source == Source::CacheHit || source == Source::FingerprintHit; }

}  // namespace nos::search
