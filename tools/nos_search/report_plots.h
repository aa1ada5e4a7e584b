// The report's plots: one gnuplot script per figure, its data inline, and running gnuplot on it to
// draw a PNG. The scripts are kept beside the PNGs (DIR/NAME.gp), so a plot can be redrawn or
// restyled by hand: cd DIR && gnuplot NAME.gp
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tools/nos_search/report_data.h"

namespace nos::search::cli {

struct Figure {
  std::string name;     // file stem: NAME.gp draws NAME.png
  std::string title;    // the page's heading for it
  std::string caption;  // what it shows, under the plot
  std::string script;   // the gnuplot script; empty when there is nothing to draw
  std::string absent;   // why there is no plot (the page says it instead), when `script` is empty
  bool about_top_rules = false;  // placed after the top-k table (it refers to its ranks)
  bool about_replicas = false;   // placed after the controller replicas' table
};

// Every figure of the report, in page order: reward per batch, best so far against results and
// against wall time, the policy's entropy, statuses per batch, cache and fingerprint hit rates,
// the top rules' training curves beside the baselines'; and for a search with controller replicas,
// the parameter version over time by replica (no such figure without replicas).
std::vector<Figure> report_figures(const ReportData& data);

// The gnuplot executable on PATH; nullopt when there is none.
std::optional<std::filesystem::path> find_gnuplot();

// Writes DIR/NAME.gp and runs gnuplot on it in DIR, which draws DIR/NAME.png. Throws
// std::invalid_argument (exit 1) naming the file when the script cannot be written, or with
// gnuplot's own message when it fails or draws nothing.
std::filesystem::path draw(const std::filesystem::path& gnuplot, const std::filesystem::path& dir, const Figure& figure);

}  // namespace nos::search::cli
