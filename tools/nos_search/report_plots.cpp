#include "tools/nos_search/report_plots.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "support/atomic_file.h"
#include "support/gnuplot.h"

namespace nos::search::cli {
namespace {

namespace fs = std::filesystem;

// Dark, distinguishable colors (ColorBrewer Dark2), as nos-bench's plots use.
constexpr const char* kColors[] = {"#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#a6761d", "#e6ab02"};

const char* status_color(Status status) {
  switch (status) {
    case Status::Ok: return "#1b9e77";
    case Status::Invalid: return "#999999";
    case Status::Rejected: return "#e6ab02";
    case Status::Diverged: return "#d95f02";
    case Status::TimeBudget: return "#7570b3";
    case Status::Crashed: break;
  }
  return "#222222";
}

std::string gp_string(std::string_view text) { return support::gnuplot_quoted(text); }

// A data cell; '-' is the missing value (`set datafile missing`).
std::string cell(const std::optional<double>& value) { return value ? fmt::format("{:.10g}", *value) : "-"; }

// The lines every script starts with: the PNG, its look, missing values.
std::string preamble(const Figure& figure, const std::string& xlabel, const std::string& ylabel, int height = 440) {
  // noenhanced: rule names and keys are shown as written (no _ subscripts, no ^ superscripts).
  return fmt::format(
      "# {}.gp: draws {}.png ({}). Redraw by hand: gnuplot {}.gp\n"
      "set terminal pngcairo size 960,{} noenhanced font 'DejaVu Sans,10'\n"
      "set output {}\n"
      "set datafile missing '-'\n"
      "set grid\nset key outside right top\n"
      "set xlabel {}\nset ylabel {}\n"
      "set autoscale xfix\nset offsets graph 0.03, graph 0.03, graph 0.05, graph 0.05\n",
      figure.name, figure.name, figure.title, figure.name, height, gp_string(figure.name + ".png"), gp_string(xlabel),
      gp_string(ylabel));
}

// Integer tics on a batch axis when there are few batches (gnuplot would label 0.5 steps).
std::string batch_axis(const ReportData& data) {
  return data.batches.size() <= 12 ? "set xtics 1\n" : "set format x '%.0f'\n";
}

// Batches are numbered from 1 on the plots, as on the console ("batch 3/20").
std::int64_t shown_batch(const BatchSummary& b) { return b.batch + 1; }

// A reward axis that fits the values with a margin and does not run below 0 when none is below it
// (gnuplot's offsets would extend a best reward of 0 down to -0.05).
std::string reward_range(const std::vector<double>& values) {
  if (values.empty()) return "";
  auto [low, high] = std::minmax_element(values.begin(), values.end());
  double margin = std::max(0.05 * (*high - *low), 0.01);
  double from = *low - margin, to = *high + margin;
  if (*low >= 0) from = std::max(0.0, from);
  return fmt::format("set yrange [{:.10g}:{:.10g}]\n", from, to);
}

std::string datablock(const std::string& name, const std::string& header, const std::string& rows) {
  return fmt::format("${} << EOD\n# {}\n{}EOD\n", name, header, rows);
}

// Seconds, minutes or hours for a time axis that spans `span` seconds: the divisor and its name.
std::pair<double, std::string> time_axis(double span) {
  if (span > 3 * 3600) return {3600, "hours"};
  if (span > 300) return {60, "minutes"};
  return {1, "seconds"};
}

bool any_results(const ReportData& data) { return data.results > 0; }

std::string no_results_reason(const ReportData& data) {
  return data.batches.empty() ? "No batch yet: the search has proposed no candidate." : "No stage-1 result yet.";
}

Figure rewards(const ReportData& data) {
  Figure f{"rewards", "Reward per batch", "", "", "", false};
  f.caption = "Mean and maximum stage-1 reward of each batch's candidates";
  bool any = false;
  std::string rows;
  std::vector<double> values;
  for (const BatchSummary& b : data.batches) {
    any = any || b.mean_reward.has_value();
    rows += fmt::format("{} {} {} {}\n", shown_batch(b), cell(b.mean_reward), cell(b.max_reward), cell(b.baseline));
    for (const std::optional<double>& v : {b.mean_reward, b.max_reward, b.baseline})
      if (v) values.push_back(*v);
  }
  if (!any) {
    f.absent = any_results(data) ? "No result carries a reward yet." : no_results_reason(data);
    return f;
  }
  f.caption += data.any_baseline() ? ", and the strategy's baseline after learning from the batch."
                                   : "; the strategy reports no baseline.";
  f.script = preamble(f, "batch", "reward") + batch_axis(data) + reward_range(values) +
             datablock("data", "batch mean max baseline", rows) +
             fmt::format("plot $data using 1:2 with linespoints lw 2 pt 7 ps 0.6 lc rgb '{}' title 'mean', \\\n"
                         "     $data using 1:3 with linespoints lw 2 pt 7 ps 0.6 lc rgb '{}' title 'max'",
                         kColors[0], kColors[1]);
  if (data.any_baseline())
    f.script += fmt::format(", \\\n     $data using 1:4 with lines lw 2 dt 2 lc rgb '{}' title 'baseline'", kColors[2]);
  f.script += "\n";
  return f;
}

// The best so far against the number of results (x = 0) or against wall time (x = 1).
Figure best_so_far(const ReportData& data, bool against_time) {
  Figure f{against_time ? "best_time" : "best_results",
           against_time ? "Best reward so far against wall time" : "Best reward so far against results",
           "", "", "", false};
  if (data.best.empty()) {
    f.absent = any_results(data) ? "No result carries a reward yet." : no_results_reason(data);
    return f;
  }
  auto [scale, unit] = time_axis(data.best.back().seconds);
  f.caption = against_time ? fmt::format("The highest stage-1 reward found so far, against the {} since the search "
                                         "was created (a stopped and resumed search includes the pause).",
                                         unit)
                           : "The highest stage-1 reward found so far, against the number of candidates with a "
                             "stage-1 result (trained, reused from the cache or a fingerprint, or screened out).";
  // Column 4 marks the improvements (a point each); the last row may only carry the best on.
  std::string rows;
  std::vector<double> values;
  for (std::size_t i = 0; i < data.best.size(); ++i) {
    const BestSoFar& p = data.best[i];
    bool improved = i == 0 || p.reward > data.best[i - 1].reward;
    rows += fmt::format("{} {:.10g} {:.10g} {}\n", p.evaluations, p.seconds / scale, p.reward, improved ? 1 : 0);
    values.push_back(p.reward);
  }
  if (data.adam_reward) {
    values.push_back(*data.adam_reward);
    f.caption += fmt::format(" Dashed: Adam's {} on the same child ({:.4g}; one training, as each candidate's).",
                             data.adam_reward == data.adam()->metric ? "metric" : "metric as a reward",
                             *data.adam_reward);
  } else {
    f.caption += " No Adam baseline stored to compare with.";
  }
  int x = against_time ? 2 : 1;
  f.script = preamble(f, against_time ? unit : "results", "best reward") + "set xrange [0:*]\n" +
             reward_range(values) + (data.adam_reward ? "set key inside right bottom\n" : "set key off\n") +
             datablock("data", "results time best improved", rows) +
             fmt::format("plot $data using {}:3 with steps lw 2 lc rgb '{}' title 'best found', \\\n"
                         "     $data using {}:($4 > 0 ? $3 : 1/0) with points pt 7 ps 0.7 lc rgb '{}' notitle",
                         x, kColors[0], x, kColors[0]);
  if (data.adam_reward)
    f.script += fmt::format(", \\\n     {:.10g} with lines lw 2 dt 2 lc rgb '#000000' title {}", *data.adam_reward,
                            gp_string(fmt::format("adam {:.4f}", *data.adam_reward)));
  f.script += "\n";
  return f;
}

Figure entropy(const ReportData& data) {
  Figure f{"entropy", "Policy entropy per batch", "", "", "", false};
  f.caption = "The entropy of the strategy's policy after learning from each batch (mean per decision, nats).";
  if (!data.any_entropy()) {
    bool recorded = std::any_of(data.batches.begin(), data.batches.end(), [](const BatchSummary& b) { return b.recorded; });
    f.absent = recorded ? "The strategy reports no entropy (a strategy without a policy, such as random or evolution)."
                        : "No batch statistics stored yet (the search saves them after each batch).";
    return f;
  }
  std::string rows;
  for (const BatchSummary& b : data.batches)
    if (b.entropy) rows += fmt::format("{} {:.10g}\n", shown_batch(b), *b.entropy);
  f.script = preamble(f, "batch", "entropy") + batch_axis(data) + "set key off\n" + datablock("data", "batch entropy", rows) +
             fmt::format("plot $data using 1:2 with linespoints lw 2 pt 7 ps 0.6 lc rgb '{}'\n", kColors[2]);
  return f;
}

// Stacked bars: each status's box reaches the running total, drawn from the top down.
Figure statuses(const ReportData& data) {
  Figure f{"statuses", "Statuses per batch", "", "", "", false};
  f.caption = "Each batch's stage-1 results by status, stacked.";
  if (!any_results(data)) {
    f.absent = no_results_reason(data);
    return f;
  }
  std::vector<Status> shown;  // the statuses that occur, in kStatuses order
  for (Status status : kStatuses)
    for (const BatchSummary& b : data.batches)
      if (b.tally.of(status)) {
        shown.push_back(status);
        break;
      }
  std::string rows;
  for (const BatchSummary& b : data.batches) {
    rows += std::to_string(shown_batch(b));
    std::int64_t total = 0;
    for (Status status : shown) {
      total += b.tally.of(status);
      rows += " " + std::to_string(total);
    }
    rows += "\n";
  }
  std::string header = "batch";
  for (Status status : shown) header += fmt::format(" {}(cumulative)", name(status));
  f.script = preamble(f, "batch", "results") + batch_axis(data) +
             "set style fill solid 0.9 noborder\nset boxwidth 0.8\nset yrange [0:*]\n" + datablock("data", header, rows) +
             "plot ";
  for (std::size_t k = shown.size(); k-- > 0;) {
    if (k + 1 != shown.size()) f.script += ", \\\n     ";
    f.script += fmt::format("$data using 1:{} with boxes lc rgb '{}' title {}", k + 2, status_color(shown[k]),
                            gp_string(name(shown[k])));
  }
  f.script += "\n";
  return f;
}

Figure hit_rates(const ReportData& data) {
  Figure f{"hits", "Cache and fingerprint hit rates per batch", "", "", "", false};
  f.caption = "Share of each batch's stage-1 results reused instead of trained: the same rule seen before (cache "
              "hit, by canonical hash) or the same behaviour on the probes (fingerprint hit); and the share "
              "screened out by the probes.";
  if (!any_results(data)) {
    f.absent = no_results_reason(data);
    return f;
  }
  std::string rows;
  for (const BatchSummary& b : data.batches)
    if (b.results > 0)
      rows += fmt::format("{} {:.6g} {:.6g} {:.6g}\n", shown_batch(b), 100 * b.tally.share(Source::CacheHit),
                          100 * b.tally.share(Source::FingerprintHit), 100 * b.tally.share(Source::Screened));
  f.script = preamble(f, "batch", "% of the batch's results") + batch_axis(data) + "set yrange [0:100]\n" +
             datablock("data", "batch cache_hit% fingerprint_hit% screened%", rows) +
             // The cache line is wide and drawn first, so that it shows where the other one covers it.
             fmt::format("plot $data using 1:2 with linespoints lw 4 pt 7 ps 0.8 lc rgb '{}' title 'cache hits', \\\n"
                         "     $data using 1:3 with linespoints lw 2 pt 5 ps 0.6 lc rgb '{}' title 'fingerprint hits', \\\n"
                         "     $data using 1:4 with linespoints lw 1.5 dt 2 pt 9 ps 0.6 lc rgb '#666666' title 'screened out'\n",
                         kColors[0], kColors[1]);
  return f;
}

Figure curves(const ReportData& data) {
  Figure f{"curves", "Training curves of the top rules beside the baselines", "", "", "", true};
  f.caption = fmt::format("Validation accuracy per epoch of the search's training of the top {} rules (ranks as in "
                          "the table above; the legend gives each rule, shortened, and the rate its sweep chose), "
                          "dashed: the baselines trained on the same task.",
                          kCurveRules);
  const Baseline* adam = data.adam();
  if (!adam) f.caption += " No Adam baseline stored.";
  else if (adam->curve.epochs.empty()) f.caption += " Adam's baseline holds no per-epoch curve.";
  std::vector<const Curve*> dashed;
  for (const Baseline& b : data.baselines)
    if (!b.curve.epochs.empty()) dashed.push_back(&b.curve);
  if (data.top_curves.empty() && dashed.empty()) {
    f.absent = data.top.empty() ? "No ranked rule yet." : "No per-epoch validation accuracy stored for the top rules.";
    if (!adam) f.absent += " No Adam baseline stored.";
    return f;
  }
  std::string blocks, plot = "plot ";
  std::size_t k = 0;
  auto add = [&](const Curve& c, bool baseline, const char* color) {
    std::string rows;
    for (std::size_t i = 0; i < c.epochs.size(); ++i) rows += fmt::format("{:.10g} {:.10g}\n", c.epochs[i], c.val_acc[i]);
    std::string name = fmt::format("curve{}", k);
    blocks += datablock(name, c.title + ": epoch val_acc", rows);
    if (k++) plot += ", \\\n     ";
    plot += fmt::format("${} using 1:2 with linespoints lw 2 {} pt 7 ps 0.5 lc rgb '{}' title {}", name,
                        baseline ? "dt 2" : "dt 1", color, gp_string(c.title));
  };
  for (std::size_t i = 0; i < data.top_curves.size(); ++i) add(data.top_curves[i], false, kColors[i % 7]);
  static constexpr const char* kBaselineColors[] = {"#000000", "#666666", "#aaaaaa"};
  for (std::size_t i = 0; i < dashed.size(); ++i) add(*dashed[i], true, kBaselineColors[i % 3]);
  // The legend names each rule and its rate: below the plot, one entry a line, so that long rules
  // do not squeeze it.
  std::size_t entries = data.top_curves.size() + dashed.size();
  f.script = preamble(f, "epoch", "validation accuracy", 380 + 18 * static_cast<int>(entries)) + "set xtics 1\n" +
             "set key below left Left reverse maxcols 1\n" + blocks + plot + "\n";
  return f;
}

// The shared parameters' version against wall time: a step line for the newest version and a point
// per applied update in the colour of the replica that made it, so that one sees how fast the
// replicas move the parameters and whose updates land.
Figure versions(const ReportData& data) {
  Figure f{"versions", "Parameter versions over time", "", "", "", false, true};
  const std::vector<ParameterVersion>& history = data.replicas.versions;
  if (history.size() < 2) {
    f.absent = "No update applied yet: the parameters are at version 0.";
    return f;
  }
  auto at = [&](const ParameterVersion& v) { return std::max(0.0, v.saved_at - data.search.created_at); };
  auto [scale, unit] = time_axis(at(history.back()));
  f.caption = fmt::format("The controller's parameter version (the number of updates applied) against the {} since "
                          "the search was created; each point is one update, coloured by the replica whose batch made "
                          "it. {} applied, {} refused (staler than --max-staleness allows).",
                          unit, data.replicas.applied, data.replicas.refused);
  std::string all;
  for (const ParameterVersion& v : history) all += fmt::format("{:.10g} {}\n", at(v) / scale, v.version);
  std::string blocks = datablock("all", "time version", all);
  std::string plot = "plot $all using 1:2 with steps lw 1.5 lc rgb '#888888' title 'newest version'";
  // Replicas by name (as the table lists them); a version's replica that made no batch record
  // (none should) still gets its points.
  std::vector<std::string> names;
  for (const ReplicaSummary& r : data.replicas.replicas) names.push_back(r.name);
  for (const ParameterVersion& v : history)
    if (v.version > 0 && std::find(names.begin(), names.end(), v.replica) == names.end()) names.push_back(v.replica);
  static constexpr int kPointTypes[] = {7, 5, 9, 11, 13, 15};
  for (std::size_t i = 0; i < names.size(); ++i) {
    std::string rows;
    for (const ParameterVersion& v : history)
      if (v.version > 0 && v.replica == names[i]) rows += fmt::format("{:.10g} {}\n", at(v) / scale, v.version);
    if (rows.empty()) continue;  // a replica whose updates were all refused or are still open
    std::string block = fmt::format("r{}", i);
    blocks += datablock(block, names[i] + ": time version", rows);
    plot += fmt::format(", \\\n     ${} using 1:2 with points pt {} ps 0.8 lc rgb '{}' title {}", block,
                        kPointTypes[i % 6], kColors[i % 7], gp_string(names[i]));
  }
  f.script = preamble(f, unit, "parameter version") + "set xrange [0:*]\nset yrange [0:*]\n" + blocks + plot + "\n";
  return f;
}

}  // namespace

std::vector<Figure> report_figures(const ReportData& data) {
  std::vector<Figure> figures = {rewards(data),  best_so_far(data, false), best_so_far(data, true), entropy(data),
                                 statuses(data), hit_rates(data),          curves(data)};
  if (data.replicas.any()) figures.push_back(versions(data));
  return figures;
}

std::optional<fs::path> find_gnuplot() { return support::find_gnuplot(); }

fs::path draw(const fs::path& gnuplot, const fs::path& dir, const Figure& figure) {
  fs::path script = dir / (figure.name + ".gp");
  fs::path image = dir / (figure.name + ".png");
  try {
    support::write_file_atomically(script, figure.script);
  } catch (const support::FileError& e) {
    throw support::FileError(e.code().value(), fmt::format("{}: cannot write", script.string()));
  }
  if (std::optional<std::string> failure = support::run_gnuplot(gnuplot, dir, script.filename().string(),
                                                                 image.filename().string()))
    throw std::invalid_argument(fmt::format("{}: {}", script.string(), *failure));
  return image;
}

}  // namespace nos::search::cli
