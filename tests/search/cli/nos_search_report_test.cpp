// nos-search report end to end: the built binary on a synthetic search (tests/search/report_search.h)
// draws every plot with gnuplot into PNG files and writes one index.html that embeds them; its
// errors (no gnuplot, a directory it cannot make, gnuplot failing) exit 1 naming the cause. Where
// gnuplot is not installed the drawing test reports [SKIP] (CI installs it: cmake/setup-debian.sh);
// where chromium is installed the page is also rendered headless.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tools/nos_search/report_html.h"
#include "controller/search/storage.h"
#include "tests/search/report_search.h"
#include "tests/search/temp_dir.h"
#include "tests/tools/run_tool.h"

namespace nos::search {
namespace {

namespace fs = std::filesystem;
using nos::testing::run_tool;
using nos::testing::ToolResult;
using testing::TempDir;

const std::vector<std::string> kPlots = {"rewards", "best_results", "best_time", "entropy", "statuses", "hits", "curves"};

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

bool have(const char* program) { return std::system(("command -v " + std::string(program) + " >/dev/null 2>&1").c_str()) == 0; }

bool is_png(const std::string& bytes) { return bytes.size() > 1000 && bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0; }

std::size_t count(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

// A directory holding only a `gnuplot` that runs `body` (a shell script), for PATH.
std::string fake_gnuplot(const TempDir& dir, const std::string& body) {
  fs::create_directories(dir.path() / "bin");
  fs::path script = dir.path() / "bin" / "gnuplot";
  std::ofstream(script) << "#!/bin/sh\n" << body << "\n";
  ::chmod(script.c_str(), 0755);
  return "PATH=" + (dir.path() / "bin").string();
}

struct ReportFixture {
  TempDir dir;
  std::string db = dir.file("search.db");
  ReportFixture() {
    auto storage = open_storage(db, OpenMode::Create);
    testing::make_report_search(*storage);
    storage->create_search("empty", "{}", {});
  }
};

TEST_CASE("nos-search report: every plot as a PNG, and one index.html that embeds them") {
  if (!have("gnuplot")) {
    MESSAGE("[SKIP] gnuplot is not installed (Debian: gnuplot-nox, cmake/setup-debian.sh)");
    return;
  }
  ReportFixture f;
  std::string before = read(f.db);
  fs::path out = f.dir.path() / "report" / "nested";  // created with its parents
  ToolResult r = run_tool("nos-search", {"report", f.db, "--search", "fmnist", "-o", out.string()});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.out == "search 'fmnist': 7 plots and " + (out / "index.html").string() +
                     " written (11 candidates, 10 results)\n");
  CHECK(read(f.db) == before);  // read-only

  std::string page = read(out / "index.html");
  for (const std::string& name : kPlots) {
    std::string png = read(out / (name + ".png"));
    CHECK_MESSAGE(is_png(png), name);
    CHECK_MESSAGE(fs::exists(out / (name + ".gp")), name);
    // The very bytes of the file, embedded: the page works alone.
    CHECK_MESSAGE(page.find("src=\"data:image/png;base64," + cli::base64(png) + "\"") != std::string::npos, name);
  }
  CHECK(count(page, "<img ") == kPlots.size());
  CHECK(count(page, "src=\"") == count(page, "src=\"data:image/png;base64,"));  // nothing outside the file
  CHECK(page.find("<code>" + cli::html_escape(testing::kTopRule) + "</code>") != std::string::npos);
  CHECK(page.find(testing::kTopRule) == std::string::npos);
  CHECK(page.find("rank 3 (ok, trained): no per-epoch validation accuracy stored") != std::string::npos);
  CHECK(page.find("No Adam baseline stored.") == std::string::npos);
  // The glance at the top, the vs Adam column, the finals' section (none yet: how to run one).
  CHECK(page.find("id=\"at-a-glance\"") < page.find("id=\"final\""));
  CHECK(page.find("<th class=\"num\">vs Adam</th>") != std::string::npos);
  CHECK(page.find("No <code>final</code> yet.") != std::string::npos);

  // The empty search into the same directory: no batch, no plot; the old PNGs are gone.
  ToolResult empty = run_tool("nos-search", {"report", f.db, "--search", "empty", "-o", out.string()});
  REQUIRE_MESSAGE(empty.exit_code == 0, empty.err);
  CHECK(empty.out.find("0 plots") != std::string::npos);
  for (const std::string& name : kPlots) CHECK_MESSAGE(!fs::exists(out / (name + ".png")), name);
  std::string empty_page = read(out / "index.html");
  CHECK(empty_page.find("This search has no batches yet") != std::string::npos);
  CHECK(empty_page.find("No Adam baseline stored.") != std::string::npos);
  CHECK(empty_page.find("<img") == std::string::npos);
}

// A by-hand check made repeatable where a browser is installed (not in CI: chromium is not one of
// the project's packages): the page loads and renders in Chromium.
TEST_CASE("nos-search report: the page renders in headless Chromium") {
  if (!have("gnuplot") || !have("chromium")) {
    MESSAGE("[SKIP] needs gnuplot and chromium (apt-get install --no-install-recommends chromium)");
    return;
  }
  ReportFixture f;
  fs::path out = f.dir.path() / "report";
  ToolResult r = run_tool("nos-search", {"report", f.db, "--search", "fmnist", "-o", out.string()});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  fs::path shot = f.dir.path() / "page.png";
  std::string command = "timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --screenshot='" +
                        shot.string() + "' --window-size=1280,2400 'file://" + (out / "index.html").string() +
                        "' >/dev/null 2>&1";
  CHECK(std::system(command.c_str()) == 0);
  CHECK(is_png(read(shot)));
}

TEST_CASE("nos-search report: no gnuplot, a directory it cannot make, gnuplot failing: exit 1 naming it") {
  ReportFixture f;
  std::string out = f.dir.file("report");
  auto expect_error = [](const ToolResult& r, const std::string& message) {
    CHECK_MESSAGE(r.exit_code == 1, r.err);
    CHECK_MESSAGE(r.err.find("nos-search: error: " + message) != std::string::npos, r.err);
  };
  // No gnuplot on PATH: nothing is created.
  expect_error(run_tool("nos-search", {"report", f.db, "--search", "fmnist", "-o", out}, "",
                        {"PATH=" + f.dir.file("nowhere")}),
               "gnuplot is not installed (Debian: apt-get install gnuplot-nox)");
  CHECK_FALSE(fs::exists(out));

  // A gnuplot that fails, and one that exits 0 but draws nothing.
  std::string failing = fake_gnuplot(f.dir, "echo \"line 3: unknown terminal\" >&2; exit 1");
  expect_error(run_tool("nos-search", {"report", f.db, "--search", "fmnist", "-o", out}, "", {failing}),
               (fs::path(out) / "rewards.gp").string() + ": gnuplot failed (exit status 1):\nline 3: unknown terminal");
  std::string silent = fake_gnuplot(f.dir, "exit 0");
  expect_error(run_tool("nos-search", {"report", f.db, "--search", "fmnist", "-o", out}, "", {silent}),
               (fs::path(out) / "rewards.gp").string() + ": gnuplot failed (drew no rewards.png)");

  // -o below a regular file.
  std::string below_file = f.db + "/report";
  expect_error(run_tool("nos-search", {"report", f.db, "--search", "fmnist", "-o", below_file}, "", {silent}),
               below_file + ": cannot create the report directory");

  // A database that is not one, a search that is not there.
  std::string missing = f.dir.file("missing.db");
  expect_error(run_tool("nos-search", {"report", missing, "-o", out}), missing + ": no such search database");
  expect_error(run_tool("nos-search", {"report", f.db, "-o", out}),
               f.db + ": holds 2 searches (fmnist, empty): choose one with --search");
  CHECK(run_tool("nos-search", {"report", f.db, "--search", "fmnist", "-o", out, "-k", "0"}).exit_code == 2);
}

}  // namespace
}  // namespace nos::search
