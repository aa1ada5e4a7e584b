// Curves to a data file and a PNG through gnuplot (run as a subprocess on a generated script), so
// the numbers stay machine-readable when gnuplot is missing. Torch-free.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace nos::bench {

struct Series {
  std::string title;                  // legend entry
  std::vector<double> x, mean, std;   // one point per x; std is drawn as an error bar
};

struct Plot {
  std::string title, xlabel, ylabel;
  std::vector<Series> series;
};

struct PlotFiles {
  std::filesystem::path data, script, image;  // image is empty when gnuplot did not draw it
  std::string problem;                        // why there is no image; empty on success
};

// Writes DIR/STEM.dat (one gnuplot data block per series: x, mean, std), DIR/STEM.gp (the script,
// runnable by hand) and, when gnuplot is installed, DIR/STEM.png. Throws support::FileError (exit 1)
// only when the data file or the script cannot be written; a missing or failing gnuplot is reported
// in `problem`.
PlotFiles plot_curves(const Plot& plot, const std::filesystem::path& dir, const std::string& stem);

// Whether gnuplot can be run; `why` says what is missing.
bool gnuplot_available(std::string* why = nullptr);

}  // namespace nos::bench
