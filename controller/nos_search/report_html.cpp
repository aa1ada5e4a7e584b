#include "controller/nos_search/report_html.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <ctime>
#include <nlohmann/json.hpp>

namespace nos::search::cli {
namespace {

constexpr const char* kStyle = R"(
body { font-family: 'DejaVu Sans', Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1000px; color: #222; }
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
)";

std::string utc(double unix_seconds) {
  return fmt::format("{:%Y-%m-%d %H:%M:%S} UTC", fmt::gmtime(static_cast<std::time_t>(unix_seconds)));
}

std::string number(const std::optional<double>& value) { return value ? fmt::format("{:.6g}", *value) : "-"; }

std::string summary(const ReportData& data) {
  const TaskCounts& t = data.tasks;
  std::string out = "<dl class=\"summary\">\n";
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
    const auto& [candidate, e] = data.top.front();
    item("best", fmt::format("reward {}, metric {}, lr {}, {} at stage {}: <code>{}</code>", number(e.reward),
                             number(e.metric), number(e.lr), html_escape(e.status), e.stage,
                             html_escape(candidate.rule)));
  }
  out += "</dl>\n";
  nlohmann::json config = nlohmann::json::parse(data.search.config_json, nullptr, /*allow_exceptions=*/false);
  std::string config_text = config.is_discarded() ? data.search.config_json : config.dump(2);
  out += fmt::format("<details><summary>configuration</summary><pre>{}</pre></details>\n", html_escape(config_text));
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
  out += "<p class=\"caption\">One line per distinct rule (canonical hash), ranked by the highest funnel stage it "
         "reached, then reward (<code>nos-search top</code>'s order).</p>\n";
  out += "<table>\n<tr><th class=\"num\">rank</th><th>rule</th><th class=\"num\">reward</th>"
         "<th class=\"num\">metric</th><th class=\"num\">lr</th><th>status</th><th>source</th>"
         "<th class=\"num\">stage</th></tr>\n";
  for (std::size_t i = 0; i < data.top.size(); ++i) {
    const auto& [candidate, e] = data.top[i];
    out += fmt::format(
        "<tr><td class=\"num\">{}</td><td class=\"rule\"><code>{}</code></td><td class=\"num\">{}</td>"
        "<td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td></tr>\n",
        i + 1, html_escape(candidate.rule), number(e.reward), number(e.metric), number(e.lr), html_escape(e.status),
        html_escape(e.source), e.stage);
  }
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
  out += summary(data);
  if (data.batches.empty()) out += "<p class=\"absent\">This search has no batches yet: nothing has been proposed.</p>\n";

  for (std::size_t i = 0; i < figures.size(); ++i)
    if (!figures[i].about_top_rules) out += figure_html(figures[i], pngs[i]);
  out += top_table(data);
  for (std::size_t i = 0; i < figures.size(); ++i)
    if (figures[i].about_top_rules) out += figure_html(figures[i], pngs[i]);
  out += baselines(data);

  if (!data.notes.empty()) {
    out += "<h2 id=\"notes\">Notes</h2>\n<ul>\n";
    for (const std::string& note : data.notes) out += "<li>" + html_escape(note) + "</li>\n";
    out += "</ul>\n";
  }
  return out + "</body>\n</html>\n";
}

}  // namespace nos::search::cli
