// Drawing with gnuplot: the search report's figures and nos-bench's curves are gnuplot scripts run
// in their output directory (so that script, data and PNG can be moved together and redrawn by
// hand: cd DIR && gnuplot NAME.gp). One quoting, one way to run it, one way to say it failed.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace nos::support {

// A gnuplot string literal: single-quoted, a quote inside doubled.
std::string gnuplot_quoted(std::string_view text);

// gnuplot on PATH, if any.
std::optional<std::filesystem::path> find_gnuplot();
inline constexpr std::string_view kNoGnuplot = "gnuplot is not installed (Debian: apt-get install gnuplot-nox)";

// Runs `gnuplot` on DIR/SCRIPT in DIR, after removing DIR/IMAGE (a PNG left by an earlier run must
// not pass for this one). Returns nothing when it drew a non-empty DIR/IMAGE, else why not:
// "gnuplot failed (exit status 1):\nITS MESSAGES" or "gnuplot failed (drew no IMAGE)".
std::optional<std::string> run_gnuplot(const std::filesystem::path& gnuplot, const std::filesystem::path& dir,
                                       const std::string& script, const std::string& image);

}  // namespace nos::support
