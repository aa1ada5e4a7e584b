// A rule's standing over seeds and its paired difference with a baseline as table cells: one
// spelling for `top` and the end of `run`.
#pragma once

#include <string>

#include "controller/search/standing.h"

namespace nos::search::cli {

// "0.8414 +- 0.0121" (one seed: the mean alone; none: "-").
std::string mean_cell(const Standing& s);

// "+0.0123 [-0.0040, +0.0286] p=0.12" (no test: the difference and the number of pairs).
std::string versus_cell(const VersusBaseline& v);

}  // namespace nos::search::cli
