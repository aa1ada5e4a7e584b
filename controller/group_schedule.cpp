#include "controller/group_schedule.h"

#include <algorithm>
#include <charconv>

#include "controller/options.h"

namespace nos::controller {
namespace {

std::int64_t parse_number(std::string_view text, std::string_view option, std::string_view whole) {
  std::int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size())
    throw OptionError("option '" + std::string(option) + "': '" + std::string(whole) +
                      "' is not a group schedule (expected e.g. 3 or 1:100,2:300,3)");
  return value;
}

}  // namespace

GroupSchedule::GroupSchedule(int groups) : steps_{{groups, -1}} {
  if (groups < 1 || groups > kMaxGroups)
    throw OptionError("groups must be in [1, " + std::to_string(kMaxGroups) + "], got " + std::to_string(groups));
}

GroupSchedule GroupSchedule::parse(std::string_view text, std::string_view option) {
  GroupSchedule schedule;
  schedule.steps_.clear();
  std::string opt(option), whole(text);
  std::size_t start = 0;
  while (true) {
    std::size_t comma = text.find(',', start);
    std::string_view item = text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    std::size_t colon = item.find(':');
    Step step{static_cast<int>(parse_number(item.substr(0, colon), option, text)), -1};
    if (step.groups < 1 || step.groups > kMaxGroups)
      throw OptionError("option '" + opt + "': " + std::to_string(step.groups) + " groups in '" + whole +
                        "' is outside [1, " + std::to_string(kMaxGroups) + "]");
    bool last = comma == std::string_view::npos;
    if (colon != std::string_view::npos) {
      if (last)
        throw OptionError("option '" + opt + "': the last step of '" + whole +
                          "' must have no bound (e.g. 1:100,2 = two groups from batch 100 on)");
      step.until = parse_number(item.substr(colon + 1), option, text);
      std::int64_t previous = schedule.steps_.empty() ? 0 : schedule.steps_.back().until;
      if (step.until <= previous)
        throw OptionError("option '" + opt + "': the batch bounds of '" + whole + "' must increase");
    } else if (!last) {
      throw OptionError("option '" + opt + "': step '" + std::string(item) + "' of '" + whole +
                        "' needs a bound GROUPS:UNTIL_BATCH (only the last step has none)");
    }
    schedule.steps_.push_back(step);
    if (last) break;
    start = comma + 1;
  }
  return schedule;
}

int GroupSchedule::groups_at(std::int64_t batch) const {
  for (const Step& step : steps_)
    if (step.until < 0 || batch < step.until) return step.groups;
  return steps_.back().groups;
}

int GroupSchedule::max_groups() const {
  int most = 0;
  for (const Step& step : steps_) most = std::max(most, step.groups);
  return most;
}

std::string GroupSchedule::text() const {
  std::string out;
  for (const Step& step : steps_) {
    if (!out.empty()) out += ',';
    out += std::to_string(step.groups);
    if (step.until >= 0) out += ':' + std::to_string(step.until);
  }
  return out;
}

}  // namespace nos::controller
