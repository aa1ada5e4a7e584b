#include "support/gnuplot.h"

#include <system_error>

#include <fmt/format.h>

#include "support/process.h"

namespace nos::support {

namespace fs = std::filesystem;

std::string gnuplot_quoted(std::string_view text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

std::optional<fs::path> find_gnuplot() { return find_on_path("gnuplot"); }

std::optional<std::string> run_gnuplot(const fs::path& gnuplot, const fs::path& dir, const std::string& script,
                                       const std::string& image) {
  std::error_code ignored;
  fs::path drawn = dir / image;
  fs::remove(drawn, ignored);
  Finished run = run_reading_stderr({.argv = {gnuplot.string(), script}, .cwd = dir});
  bool ok = exited_ok(run.status);
  if (ok && fs::is_regular_file(drawn, ignored) && fs::file_size(drawn, ignored) > 0) return std::nullopt;
  while (!run.err.empty() && run.err.back() == '\n') run.err.pop_back();
  std::string how = ok ? "drew no " + image : describe_exit(run.status);
  return fmt::format("gnuplot failed ({}){}{}", how, run.err.empty() ? "" : ":\n", run.err);
}

}  // namespace nos::support
