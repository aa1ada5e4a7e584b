// nos-search report: a search's progress and results as PNG plots (gnuplot) and one
// self-contained index.html in a directory.
#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <stdexcept>
#include <system_error>

#include "tools/nos_search/commands.h"
#include "tools/nos_search/open_search.h"
#include "tools/nos_search/report_data.h"
#include "tools/nos_search/report_html.h"
#include "tools/nos_search/report_plots.h"
#include "support/atomic_file.h"
#include "support/gnuplot.h"

namespace nos::search::cli {
namespace {

namespace fs = std::filesystem;

void make_directory(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (!ec && !fs::is_directory(dir, ec)) ec = std::make_error_code(std::errc::not_a_directory);
  if (ec) throw std::invalid_argument(fmt::format("{}: cannot create the report directory: {}", dir.string(), ec.message()));
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes{std::istreambuf_iterator<char>(in), {}};
  if (!in.eof() && in.fail()) throw std::invalid_argument(fmt::format("{}: cannot read the plot back", path.string()));
  return bytes;
}

void write_file(const fs::path& path, const std::string& text) {
  try {
    support::write_file_atomically(path, text);
  } catch (const support::FileError& e) {
    throw support::FileError(e.code().value(), fmt::format("{}: cannot write", path.string()));
  }
}

}  // namespace

int report(const ReportOptions& options) {
  auto storage = open_read_only(options.db);
  SearchInfo search = choose_search(*storage, options.db);
  std::optional<fs::path> gnuplot = find_gnuplot();
  if (!gnuplot)
    throw std::invalid_argument(fmt::format("{}: the report draws its plots with it", support::kNoGnuplot));
  ReportData data = read_report(*storage, search, options.k);

  fs::path dir = options.output;
  make_directory(dir);
  std::vector<Figure> figures = report_figures(data);
  std::vector<std::string> pngs;
  int drawn = 0;
  for (const Figure& figure : figures) {
    if (figure.script.empty()) {
      // Nothing to draw: a plot of an earlier report in DIR must not pass for this one.
      std::error_code ignored;
      fs::remove(dir / (figure.name + ".png"), ignored);
      fs::remove(dir / (figure.name + ".gp"), ignored);
      pngs.emplace_back();
      continue;
    }
    pngs.push_back(read_bytes(draw(*gnuplot, dir, figure)));
    ++drawn;
  }
  fs::path page = dir / "index.html";
  write_file(page, report_html(data, figures, pngs));
  if (!options.quiet)
    std::cout << fmt::format("search '{}': {} plot{} and {} written ({} candidates, {} results)\n", search.name, drawn,
                             drawn == 1 ? "" : "s", page.string(), data.candidates, data.results);
  return 0;
}

}  // namespace nos::search::cli
