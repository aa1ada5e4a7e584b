#include "tools/nos_search/report_html.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <ctime>
#include <nlohmann/json.hpp>

#include "tools/nos_search/final_verdict.h"
#include "runtime/json_text.h"

namespace nos::search::cli {
namespace {

constexpr const char* kStyle = R"(
body { font-family: 'DejaVu Sans', Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1200px; padding: 0 1em; color: #222; }
h3 { font-size: 1em; margin: 1.2em 0 0.4em; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
h2 { font-size: 1.15em; margin-top: 1.8em; border-bottom: 1px solid #ccc; padding-bottom: 0.2em; }
p.sub { color: #555; margin-top: 0; }
img { max-width: 100%; height: auto; display: block; }
p.caption { color: #444; font-size: 0.9em; margin-top: 0.3em; }
p.absent { color: #8a5a00; background: #fff6e0; padding: 0.6em 0.8em; border-left: 4px solid #e6ab02; }
table { border-collapse: collapse; font-size: 0.88em; width: 100%; }
th, td { border-bottom: 1px solid #e2e2e2; padding: 0.3em 0.5em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
table.narrow { width: auto; min-width: 40%; }
th.num { text-align: right; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.rule code { white-space: pre-wrap; word-break: break-all; }
dl.summary { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1em; }
dl.summary dt { color: #555; }
dl.summary dd { margin: 0; }
pre { background: #f7f7f7; padding: 0.6em; overflow-x: auto; font-size: 0.85em; }
div.cards { display: flex; flex-wrap: wrap; gap: 0.6em; margin: 1em 0; }
div.card { border: 1px solid #ddd; border-radius: 4px; padding: 0.5em 0.8em; min-width: 9em; background: #fafafa; }
div.card .label { color: #666; font-size: 0.8em; }
div.card .value { font-size: 1.25em; font-weight: bold; }
div.card .more { color: #555; font-size: 0.8em; }
div.meta { color: #666; font-size: 0.85em; margin-top: 0.2em; }
div.meta code { word-break: break-all; }
p.verdict { padding: 0.6em 0.8em; border-left: 4px solid #999; background: #f3f3f3; }
p.verdict.rule_better { border-color: #1b9e77; background: #e8f6f1; }
p.verdict.baseline_better { border-color: #d95f02; background: #fbeee4; }
td.verdict.rule_better { color: #1b9e77; font-weight: bold; }
td.verdict.baseline_better { color: #d95f02; font-weight: bold; }
td.better { color: #1b7a5c; }
td.worse { color: #b34a00; }
)";

std::string utc(double unix_seconds) {
  return fmt::format("{:%Y-%m-%d %H:%M:%S} UTC", fmt::gmtime(static_cast<std::time_t>(unix_seconds)));
}

std::string number(const std::optional<double>& value) { return value ? fmt::format("{:.6g}", *value) : "-"; }

std::string duration_text(double seconds) {
  auto total = static_cast<std::int64_t>(seconds + 0.5);
  if (total < 60) return fmt::format("{} s", total);
  if (total < 3600) return fmt::format("{} min {} s", total / 60, total % 60);
  return fmt::format("{} h {} min", total / 3600, total % 3600 / 60);
}

std::string signed_difference(double d) { return fmt::format("{:+.4f}", d); }

// A word for the shell: as is when it is plain, else single-quoted.
std::string shell_word(const std::string& text) {
  bool plain = !text.empty() && text.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                                       "_-./:=@+,%") == std::string::npos;
  if (plain) return text;
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string card(std::string_view label, const std::string& value, const std::string& more = "") {
  return fmt::format("<div class=\"card\"><div class=\"label\">{}</div><div class=\"value\">{}</div>{}</div>\n", label,
                     value, more.empty() ? "" : "<div class=\"more\">" + more + "</div>");
}

// The search at a glance: how long, how many, how each got its result, how fast, the best against Adam.
std::string header_cards(const ReportData& data) {
  const Tally& t = data.tally;
  std::int64_t trained = t.of(Source::Trained);
  std::int64_t cache = t.of(Source::CacheHit), fingerprint = t.of(Source::FingerprintHit);
  std::int64_t screened = t.of(Source::Screened);
  std::string out = "<div class=\"cards\" id=\"at-a-glance\">\n";
  out += card("duration", duration_text(data.duration), "creation to last result");
  out += card("candidates", std::to_string(data.candidates),
              fmt::format("{} batch{}, {} with a result", data.batches.size(), data.batches.size() == 1 ? "" : "es",
                          data.results));
  out += card("trained", std::to_string(trained),
              fmt::format("ok {}, diverged {}, crashed {}", t.of(Source::Trained, Status::Ok),
                          t.of(Source::Trained, Status::Diverged), t.of(Source::Trained, Status::Crashed)));
  out += card("hits", std::to_string(cache + fingerprint), fmt::format("cache {}, fingerprint {}", cache, fingerprint));
  out += card("screened", std::to_string(screened),
              fmt::format("rejected {}, invalid {}", t.of(Source::Screened, Status::Rejected),
                          t.of(Source::Screened, Status::Invalid)));
  double minutes = data.duration / 60;
  out += card("throughput", minutes > 0 ? fmt::format("{:.1f}/min", data.results / minutes) : "-",
              minutes > 0 ? fmt::format("candidates; {:.1f} trainings/min", trained / minutes) : "");
  if (data.replicas.any())
    out += card("replicas", std::to_string(data.replicas.replicas.size()),
                fmt::format("version {}; {} applied, {} refused", data.replicas.versions.back().version,
                            data.replicas.applied, data.replicas.refused));
  const Baseline* adam = data.adam();
  if (!data.top.empty() && data.top.front().evaluation.metric) {
    double best = *data.top.front().evaluation.metric;
    std::string more = adam && adam->metric
                           ? fmt::format("Adam {:.4f}: {} (one seed each)", *adam->metric, signed_difference(best - *adam->metric))
                           : std::string("no Adam baseline stored");
    out += card("best metric", fmt::format("{:.4f}", best), more);
  }
  out += "</div>\n";
  if (!data.metric_note.empty()) out += "<p>" + html_escape(data.metric_note) + "</p>\n";
  return out;
}

std::string summary(const ReportData& data) {
  const TaskCounts& t = data.tasks;
  std::string out = "<details><summary>database, tasks, configuration</summary>\n<dl class=\"summary\">\n";
  auto item = [&](std::string_view name, const std::string& value) {
    out += fmt::format("<dt>{}</dt><dd>{}</dd>\n", name, value);
  };
  item("database", html_escape(data.location));
  item("created", utc(data.search.created_at));
  item("candidates", fmt::format("{} in {} batch{}", data.candidates, data.batches.size(),
                                 data.batches.size() == 1 ? "" : "es"));
  item("stage-1 results", std::to_string(data.results));
  item("tasks", fmt::format("queued {}, running {}, finished {}, crashed {}", t.queued, t.running, t.finished, t.crashed));
  if (!data.top.empty()) {
    const auto& [candidate, e, seeds] = data.top.front();
    item("best", fmt::format("reward {}, metric {}, lr {}, {} at stage {}: <code>{}</code>", number(e.reward),
                             number(e.metric), number(e.lr), name(e.status), e.stage,
                             html_escape(candidate.rule)));
  }
  out += "</dl>\n";
  nlohmann::json config = nlohmann::json::parse(data.search.config_json, nullptr, /*allow_exceptions=*/false);
  std::string config_text =
      config.is_discarded() ? data.search.config_json : json_text(config, 2);
  out += fmt::format("<pre>{}</pre>\n</details>\n", html_escape(config_text));
  return out;
}

std::string mean_std(const std::optional<double>& mean, const std::optional<double>& std) {
  return mean ? fmt::format("{:.4f} ± {:.4f}", *mean, std.value_or(0)) : "-";
}

std::string signed_number(const std::optional<double>& x) { return x ? fmt::format("{:+.4f}", *x) : "-"; }

// Every found rule against every baseline, paired by seed.
std::string pairs_html(const FinalTaskResult& t) {
  if (t.pairs.empty()) return "";
  std::string out = fmt::format("<table>\n<caption>Paired by seed: {} of each found rule minus the baseline's, a "
                                "two-sided paired t-test at 5 %{}</caption>\n<tr><th>found rule</th><th>vs baseline</th>"
                                "<th class=\"num\">paired seeds</th><th class=\"num\">difference</th>"
                                "<th class=\"num\">95 % CI</th><th class=\"num\">p</th><th>verdict</th>"
                                "<th class=\"num\">seeds to tell</th></tr>\n",
                                html_escape(t.metric),
                                t.pairs_recomputed ? " (decided here from the stored per-seed metrics)" : "");
  for (const FinalPair& p : t.pairs) {
    std::string seeds = std::to_string(p.pairs) + (p.excluded ? fmt::format(" ({} left out)", p.excluded) : "");
    std::string ci = p.ci_low && p.ci_high ? fmt::format("[{}, {}]", signed_number(p.ci_low), signed_number(p.ci_high))
                                           : "-";
    out += fmt::format("<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
                       "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"verdict {}\">{}</td>"
                       "<td class=\"num\">{}</td></tr>\n",
                       html_escape(p.rule), html_escape(p.baseline), seeds, signed_number(p.difference), ci,
                       p.p ? fmt::format("{:.2g}", *p.p) : "-", html_escape(p.decision), html_escape(p.verdict),
                       html_escape(p.seeds_to_tell.empty() ? "-" : p.seeds_to_tell));
  }
  return out + "</table>\n";
}

std::string final_task_html(const FinalTaskResult& t) {
  std::string out = fmt::format("<h3>{}</h3>\n", html_escape(t.heading));
  if (!t.error.empty()) return out + fmt::format("<p class=\"absent\">It could not run: {}</p>\n", html_escape(t.error));
  out += fmt::format("<table>\n<tr><th class=\"num\">place</th><th>optimizer</th><th>kind</th>"
                     "<th class=\"num\">{} (mean ± std)</th><th class=\"num\">per seed</th><th class=\"num\">ok</th>"
                     "<th class=\"num\">lr (per seed)</th><th>hash</th><th>rule</th></tr>\n",
                     html_escape(t.metric));
  for (std::size_t i = 0; i < t.rows.size(); ++i) {
    const FinalRow& r = t.rows[i];
    std::string seeds;
    for (const auto& m : r.metrics) seeds += (seeds.empty() ? "" : " ") + (m ? fmt::format("{:.4f}", *m) : "-");
    out += fmt::format("<tr><td class=\"num\">{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td>"
                       "<td class=\"num\">{}</td><td class=\"num\">{}/{}</td><td class=\"num\">{}</td><td>{}</td>"
                       "<td class=\"rule\">{}</td></tr>\n",
                       i + 1, html_escape(r.optimizer), html_escape(r.kind), mean_std(r.mean, r.std), seeds, r.ok,
                       r.metrics.size(), html_escape(lr_summary(r.lrs)), r.hash.empty() ? "-" : html_escape(r.hash),
                       r.rule.empty() ? "-" : "<code>" + html_escape(r.rule) + "</code>");
  }
  out += "</table>\n";
  out += pairs_html(t);
  out += fmt::format("<p class=\"verdict {}\"><b>Verdict:</b> {}{}</p>\n", html_escape(t.decision), html_escape(t.verdict),
                     t.recomputed ? " <i>(decided here from the stored per-seed metrics: this final predates the paired "
                                    "test)</i>"
                                  : "");
  return out;
}

std::string final_when(const FinalRun& run) {
  std::string when = run.finished_at ? utc(*run.finished_at) : std::string("time not stored");
  if (run.seconds) when += ", took " + duration_text(*run.seconds);
  return when;
}

// The latest `final` in full, the earlier ones listed: the answer to "is it better than Adam?".
std::string finals(const ReportData& data) {
  std::string out = "<h2 id=\"final\">Retrained over seeds (<code>nos-search final</code>)</h2>\n";
  const FinalRun* latest = data.latest_final();
  if (!latest) {
    std::string command = fmt::format("nos-search final {}{} --top 3 --seeds 5", shell_word(data.location),
                                      data.several_searches ? " --search " + shell_word(data.search.name) : "");
    return out + fmt::format("<p class=\"absent\">No <code>final</code> yet. The ranking below is one training per rule "
                             "on one seed; before trusting a rule, retrain the best ones beside Adam over seeds: "
                             "<code>{}</code></p>\n",
                             html_escape(command));
  }
  out += fmt::format("<p class=\"caption\">The latest of {} stored final{}: <code>{}</code>, {}{}.</p>\n",
                     data.finals.size(), data.finals.size() == 1 ? "" : "s", html_escape(latest->key),
                     html_escape(final_when(*latest)), latest->settings.empty() ? "" : "; " + html_escape(latest->settings));
  if (latest->search) out += final_task_html(*latest->search);
  if (latest->transfer) out += final_task_html(*latest->transfer);
  if (data.finals.size() > 1) {
    out += "<h3>Earlier finals (kept)</h3>\n<table>\n<tr><th>artifact</th><th>finished</th><th>settings</th>"
           "<th>verdict on the search task</th></tr>\n";
    for (std::size_t i = data.finals.size() - 1; i-- > 0;) {
      const FinalRun& run = data.finals[i];
      out += fmt::format("<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>\n", html_escape(run.key),
                         html_escape(final_when(run)), html_escape(run.settings.empty() ? "-" : run.settings),
                         run.search ? html_escape(run.search->verdict) : "-");
    }
    out += "</table>\n";
  }
  return out;
}

std::string figure_html(const Figure& figure, const std::string& png) {
  std::string out = fmt::format("<h2 id=\"{}\">{}</h2>\n", figure.name, html_escape(figure.title));
  if (png.empty()) return out + fmt::format("<p class=\"absent\">{}</p>\n", html_escape(figure.absent));
  out += fmt::format("<img src=\"data:image/png;base64,{}\" alt=\"{}\">\n", base64(png), html_escape(figure.title));
  return out + fmt::format("<p class=\"caption\">{} (<code>{}.png</code>, drawn by <code>{}.gp</code>)</p>\n",
                           html_escape(figure.caption), figure.name, figure.name);
}

std::string top_table(const ReportData& data) {
  std::string out = "<h2 id=\"top\">Top rules</h2>\n";
  if (data.top.empty()) return out + "<p class=\"absent\">No ranked rule yet.</p>\n";
  const Baseline* adam = data.adam();
  std::optional<double> adam_metric = adam ? adam->metric : std::nullopt;
  out += "<p class=\"caption\">One line per distinct rule (canonical hash), ranked by the highest funnel stage it "
         "reached, then reward (<code>nos-search top</code>'s order). ";
  out += adam_metric ? fmt::format("vs Adam: the metric minus Adam's ({:.4f}, the <code>baseline:adam</code> trained "
                                   "on the same child), one seed each.",
                                   *adam_metric)
                     : std::string("No Adam baseline stored: no vs Adam column.");
  out += "</p>\n<table>\n<tr><th class=\"num\">rank</th><th>rule</th><th class=\"num\">metric</th>";
  if (adam_metric) out += "<th class=\"num\">vs Adam</th>";
  out += "<th class=\"num\">reward</th><th class=\"num\">lr</th><th>status</th><th>source</th>"
         "<th class=\"num\">stage</th></tr>\n";
  std::string search = data.several_searches ? " --search " + shell_word(data.search.name) : "";
  for (std::size_t i = 0; i < data.top.size(); ++i) {
    const auto& [candidate, e, seeds] = data.top[i];
    std::string vs;
    if (adam_metric) {
      if (e.metric) {
        double d = *e.metric - *adam_metric;
        vs = fmt::format("<td class=\"num {}\">{}</td>", d > 0 ? "better" : d < 0 ? "worse" : "", signed_difference(d));
      } else {
        vs = "<td class=\"num\">-</td>";
      }
    }
    std::string export_command = fmt::format("nos-search export {}{} --rank {} --target pytorch -o rank{}.py",
                                             shell_word(data.location), search, i + 1, i + 1);
    std::string meta = fmt::format("<div class=\"meta\">hash {} · tokens <code>{}</code></div>"
                                   "<div class=\"meta\">export: <code>{}</code></div>",
                                   html_escape(candidate.hash.empty() ? "-" : candidate.hash),
                                   html_escape(candidate.tokens.empty() ? "-" : candidate.tokens),
                                   html_escape(export_command));
    if (i < data.top_standing.size())  // a per-seed funnel: the standing and the paired baselines
      for (const std::string& line : data.top_standing[i]) meta += fmt::format("<div class=\"meta\">{}</div>", html_escape(line));
    out += fmt::format(
        "<tr><td class=\"num\">{}</td><td class=\"rule\"><code>{}</code>{}</td><td class=\"num\">{}</td>{}"
        "<td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td></tr>\n",
        i + 1, html_escape(candidate.rule), meta, number(e.metric), vs, number(e.reward), number(e.lr),
        name(e.status), name(e.source), e.stage);
  }
  return out + "</table>\n";
}

// Controller replicas (docs/distributed.md): per replica its batches, its updates and their
// staleness; then the figures about them. Nothing for a search without replicas.
std::string replicas(const ReportData& data, const std::vector<Figure>& figures, const std::vector<std::string>& pngs) {
  const ReplicaOverview& r = data.replicas;
  if (!r.any()) return "";
  std::string out = "<h2 id=\"replicas\">Controller replicas</h2>\n";
  out += fmt::format("<p class=\"caption\">{} replica{} sharing the controller's parameters through the search "
                     "database, now at version {} ({} update{} applied, {} refused). An update's staleness is the "
                     "number of versions between the one its batch was sampled with and the one it was computed "
                     "against; open: batches whose update is not in yet.</p>\n",
                     r.replicas.size(), r.replicas.size() == 1 ? "" : "s", r.versions.back().version, r.applied,
                     r.applied == 1 ? "" : "s", r.refused);
  out += "<table class=\"narrow\">\n<tr><th>replica</th><th class=\"num\">batches</th><th class=\"num\">applied</th>"
         "<th class=\"num\">refused</th><th class=\"num\">open</th><th class=\"num\">staleness mean</th>"
         "<th class=\"num\">staleness max</th></tr>\n";
  for (const ReplicaSummary& s : r.replicas) {
    std::optional<double> mean = s.staleness_mean();
    out += fmt::format("<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
                       "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
                       html_escape(s.name), s.batches, s.applied, s.refused, s.open,
                       mean ? fmt::format("{:.2f}", *mean) : "-", mean ? std::to_string(s.staleness_max) : "-");
  }
  out += "</table>\n";
  for (std::size_t i = 0; i < figures.size(); ++i)
    if (figures[i].about_replicas) out += figure_html(figures[i], pngs[i]);
  return out;
}

std::string screening(const ReportData& data) {
  std::string out = "<h2 id=\"screening\">Screening reasons</h2>\n";
  if (data.screening.empty())
    return out + "<p class=\"absent\">No candidate was screened out (rejected by the probes or invalid).</p>\n";
  std::int64_t total = 0;
  for (const ScreeningReason& r : data.screening) total += r.count;
  out += fmt::format("<p class=\"caption\">The {} stage-1 results screened out before training, by why: rejected by "
                     "the probes (their verdict) or invalid; with the first one's message and rule.</p>\n",
                     total);
  out += "<table>\n<tr><th>status</th><th>reason</th><th class=\"num\">count</th><th class=\"num\">share</th>"
         "<th>example</th></tr>\n";
  for (const ScreeningReason& r : data.screening)
    out += fmt::format("<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{:.0f} %</td>"
                       "<td>{}<div class=\"meta\"><code>{}</code></div></td></tr>\n",
                       name(r.status), html_escape(r.reason), r.count,
                       100.0 * static_cast<double>(r.count) / static_cast<double>(total), html_escape(r.example),
                       html_escape(r.example_rule));
  return out + "</table>\n";
}

std::string baselines(const ReportData& data) {
  std::string out = "<h2 id=\"baselines\">Baselines</h2>\n";
  if (!data.adam()) out += "<p class=\"absent\">No Adam baseline stored.</p>\n";
  if (data.baselines.empty()) return out;
  out += "<table class=\"narrow\">\n<tr><th>optimizer</th><th>status</th><th class=\"num\">lr</th>"
         "<th class=\"num\">metric</th></tr>\n";
  for (const Baseline& b : data.baselines)
    out += fmt::format("<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
                       html_escape(b.name), html_escape(b.status.empty() ? "-" : b.status), number(b.lr),
                       number(b.metric));
  return out + "</table>\n";
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string base64(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16 | static_cast<unsigned char>(bytes[i + 1]) << 8 |
                 static_cast<unsigned char>(bytes[i + 2]);
    for (int shift = 18; shift >= 0; shift -= 6) out += kAlphabet[(v >> shift) & 63];
  }
  if (std::size_t rest = bytes.size() - i) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    if (rest == 2) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string report_html(const ReportData& data, const std::vector<Figure>& figures,
                        const std::vector<std::string>& pngs) {
  std::string name = html_escape(data.search.name);
  std::string out = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>NOS search report: {}</title>\n"
      "<style>{}</style>\n</head>\n<body>\n<h1>NOS search report: {}</h1>\n"
      "<p class=\"sub\">Written by <code>nos-search report</code>; the plots are also beside this file as PNGs.</p>\n",
      name, kStyle, name);
  // What was found first (the glance, the retraining's verdict, the ranking), then how the search went.
  out += header_cards(data);
  out += summary(data);
  if (data.batches.empty()) out += "<p class=\"absent\">This search has no batches yet: nothing has been proposed.</p>\n";
  out += finals(data);
  out += top_table(data);
  for (std::size_t i = 0; i < figures.size(); ++i)
    if (figures[i].about_top_rules) out += figure_html(figures[i], pngs[i]);
  for (std::size_t i = 0; i < figures.size(); ++i)
    if (!figures[i].about_top_rules && !figures[i].about_replicas) out += figure_html(figures[i], pngs[i]);
  out += replicas(data, figures, pngs);
  out += screening(data);
  out += baselines(data);

  if (!data.notes.empty()) {
    out += "<h2 id=\"notes\">Notes</h2>\n<ul>\n";
    for (const std::string& note : data.notes) out += "<li>" + html_escape(note) + "</li>\n";
    out += "</ul>\n";
  }
  return out + "</body>\n</html>\n";
}

}  // namespace nos::search::cli
