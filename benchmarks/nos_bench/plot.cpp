#include "benchmarks/nos_bench/plot.h"

#include <fmt/format.h>

#include "support/atomic_file.h"
#include "support/gnuplot.h"

namespace nos::bench {

using support::gnuplot_quoted;

bool gnuplot_available(std::string* why) {
  if (support::find_gnuplot()) return true;
  if (why) *why = fmt::format("{}; the data and script were written", support::kNoGnuplot);
  return false;
}

PlotFiles plot_curves(const Plot& plot, const std::filesystem::path& dir, const std::string& stem) {
  PlotFiles files{dir / (stem + ".dat"), dir / (stem + ".gp"), {}, {}};
  std::string data;
  for (const Series& s : plot.series) {
    data += fmt::format("# {}\n# x mean std\n", s.title);
    for (std::size_t i = 0; i < s.x.size(); ++i) data += fmt::format("{:g} {:g} {:g}\n", s.x[i], s.mean[i], s.std[i]);
    data += "\n\n";  // two blank lines end a gnuplot data block (an `index`)
  }
  support::write_file_atomically(files.data, data);

  std::filesystem::path image = dir / (stem + ".png");
  std::string script = fmt::format(
      "# gnuplot {}: draws {} from {}\n"
      "set terminal pngcairo size 1000,650 enhanced font 'DejaVu Sans,11'\n"
      // Names relative to the script's directory (gnuplot runs there), so the three files can be
      // moved together and redrawn by hand: cd DIR && gnuplot STEM.gp
      "set output {}\n"
      "set title {}\n"
      "set xlabel {}\nset ylabel {}\n"
      "set key bottom right\nset grid\nset xtics 1\n"
      // Room at both ends, so the first and last error bars do not sit on the frame.
      "set offsets graph 0.04, graph 0.04, graph 0.05, graph 0.02\nset autoscale xfix\n",
      files.script.filename().string(), image.filename().string(), files.data.filename().string(),
      gnuplot_quoted(image.filename().string()), gnuplot_quoted(plot.title), gnuplot_quoted(plot.xlabel), gnuplot_quoted(plot.ylabel));
  // Dark, distinguishable colors (ColorBrewer Dark2); gnuplot's default yellow is unreadable.
  static const char* kColors[] = {"#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#a6761d", "#e6ab02", "#666666"};
  script += "plot ";
  const std::size_t n = plot.series.size();
  for (std::size_t k = 0; k < n; ++k) {
    if (k) script += ", \\\n     ";
    // Each series is nudged sideways a little so that error bars at the same x stay apart.
    double nudge = n > 1 ? 0.12 * (static_cast<double>(k) / static_cast<double>(n - 1) - 0.5) : 0.0;
    script += fmt::format("{} index {} using ($1+({:g})):2:3 with yerrorlines lw 2 pt 7 ps 0.8 lc rgb '{}' title {}",
                          gnuplot_quoted(files.data.filename().string()), k, nudge, kColors[k % 8], gnuplot_quoted(plot.series[k].title));
  }
  script += "\n";
  support::write_file_atomically(files.script, script);

  std::optional<std::filesystem::path> gnuplot = support::find_gnuplot();
  if (!gnuplot) {
    gnuplot_available(&files.problem);
    return files;
  }
  if (std::optional<std::string> failure =
          support::run_gnuplot(*gnuplot, dir, files.script.filename().string(), image.filename().string())) {
    files.problem = fmt::format("{}: {}", files.script.string(), *failure);
    return files;
  }
  files.image = image;
  return files;
}

}  // namespace nos::bench
