// The number of groups a strategy samples, fixed or raised over the search: `3`, or
// `1:100,2:300,3` = one group for the first 100 batches, two until batch 300, then three (the
// method's schedule that lengthens the sequences as training progresses).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace nos::controller {

class GroupSchedule {
 public:
  GroupSchedule() = default;
  explicit GroupSchedule(int groups);
  // Throws OptionError naming `option` for a malformed schedule.
  static GroupSchedule parse(std::string_view text, std::string_view option = "groups");

  int groups_at(std::int64_t batch) const;  // batch: 0-based
  int max_groups() const;
  std::string text() const;  // the canonical spelling, e.g. "1:100,2:300,3"

 private:
  struct Step {
    int groups;
    std::int64_t until;  // exclusive batch bound; the last step has none (-1)
  };
  std::vector<Step> steps_{{1, -1}};
};

// Groups are capped so that operand ids (21 tokens + earlier groups) stay small and a typo such as
// groups=300 is caught.
inline constexpr int kMaxGroups = 32;

}  // namespace nos::controller
