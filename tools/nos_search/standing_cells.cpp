#include "tools/nos_search/standing_cells.h"

#include <fmt/format.h>

namespace nos::search::cli {

std::string mean_cell(const Standing& s) {
  if (!s.mean) return "-";
  return s.se ? fmt::format("{:.4f} +- {:.4f}", *s.mean, *s.se) : fmt::format("{:.4f}", *s.mean);
}

std::string versus_cell(const VersusBaseline& v) {
  const PairedTest& t = v.test;
  if (t.pairs == 0) return "-";
  if (!t.p) return fmt::format("{:+.4f} ({} seed)", t.mean_difference, t.pairs);
  return fmt::format("{:+.4f} [{:+.4f}, {:+.4f}] p={:.2g}", t.mean_difference, *t.ci_low, *t.ci_high, *t.p);
}

}  // namespace nos::search::cli
