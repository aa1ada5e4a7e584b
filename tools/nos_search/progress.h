// The live progress of `nos-search run`: one line per batch, and on a terminal a status line that
// updates in place while the batch is evaluated.
#pragma once

#include <cstdio>
#include <string>

#include "controller/search/search_loop.h"

namespace nos::search::cli {

std::string duration_text(double seconds);  // "42 s", "3 min 10 s", "1 h 05 min"

class ProgressPrinter {
 public:
  explicit ProgressPrinter(bool terminal) : terminal_(terminal) {}
  void batch(const SearchProgress& p);  // a batch was learned from
  void wait(const SearchProgress& p);   // while waiting (terminal only)
  void note(const std::string& line);
  void clear();                         // the status line, before other output

 private:
  bool terminal_;
  bool status_shown_ = false;
};

}  // namespace nos::search::cli
