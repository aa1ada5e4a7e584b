// support/gnuplot.h (the quoting and the run both the report and nos-bench use) with a stand-in
// gnuplot, so the messages are checked without gnuplot installed; support/json_number.h.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include "support/gnuplot.h"
#include "support/json_number.h"

namespace {

namespace fs = std::filesystem;
using namespace nos::support;

struct ScratchDir {
  fs::path path = fs::temp_directory_path() / ("nos-gnuplot-" + std::to_string(::getpid()));
  ScratchDir() {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~ScratchDir() { fs::remove_all(path); }
};

// A `gnuplot` that runs `body` (sh) with the script's name as $1, in the directory it is run in.
fs::path fake_gnuplot(const fs::path& dir, const std::string& body) {
  fs::path program = dir / "fake-gnuplot";
  { std::ofstream(program) << "#!/bin/sh\n" << body << "\n"; }
  fs::permissions(program, fs::perms::owner_all);
  return program;
}

}  // namespace

TEST_CASE("gnuplot_quoted: single quotes, a quote inside doubled") {
  CHECK(gnuplot_quoted("plain") == "'plain'");
  CHECK(gnuplot_quoted("it's") == "'it''s'");
  CHECK(gnuplot_quoted("") == "''");
}

TEST_CASE("run_gnuplot: runs in the directory, and a failure or no image says why with gnuplot's messages") {
  ScratchDir dir;
  fs::path out = dir.path / "out";
  fs::create_directories(out);
  { std::ofstream(out / "a.png") << "stale"; }
  fs::path draws = fake_gnuplot(dir.path, "test -f \"$1\" && printf png > a.png");
  { std::ofstream(out / "a.gp") << "plot 1\n"; }
  CHECK_FALSE(run_gnuplot(draws, out, "a.gp", "a.png").has_value());

  fs::path fails = fake_gnuplot(dir.path, "echo 'line 3: unknown terminal' >&2; exit 1");
  CHECK(run_gnuplot(fails, out, "a.gp", "a.png") == "gnuplot failed (exit status 1):\nline 3: unknown terminal");
  CHECK_FALSE(fs::exists(out / "a.png"));  // the earlier PNG is not passed off as this one

  fs::path silent = fake_gnuplot(dir.path, "exit 0");
  CHECK(run_gnuplot(silent, out, "a.gp", "a.png") == "gnuplot failed (drew no a.png)");
}

TEST_CASE("number_or_null: a number, or null when missing or not finite") {
  CHECK(number_or_null(1.5) == nlohmann::json(1.5));
  CHECK(number_or_null(std::nullopt).is_null());
  CHECK(number_or_null(std::numeric_limits<double>::quiet_NaN()).is_null());
  CHECK(number_or_null(std::numeric_limits<double>::infinity()).is_null());
}
