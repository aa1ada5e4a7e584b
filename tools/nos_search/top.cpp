// nos-search top: the best rules of a search, as an aligned table or a JSON array. In a per-seed
// funnel each rule also shows its standing over the seeds and its paired difference with each
// baseline (controller/search/standing.h).
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "controller/search/standing.h"
#include "tools/nos_search/commands.h"
#include "tools/nos_search/metric_label.h"
#include "tools/nos_search/open_search.h"
#include "tools/nos_search/standing_cells.h"
#include "tools/nos_search/table.h"
#include "runtime/json_text.h"
#include "support/json_number.h"

namespace nos::search::cli {
namespace {

// Table widths: a screen-wide line for the usual rule; --json has the full texts.
constexpr std::size_t kRuleWidth = 56;
constexpr std::size_t kTokensWidth = 32;

nlohmann::json to_json(int rank, const RankedResult& r) {
  const Evaluation& e = r.evaluation;
  return {{"rank", rank},
          {"rule", r.candidate.rule},
          {"tokens", r.candidate.tokens},
          {"hash", r.candidate.hash},
          {"reward", support::number_or_null(e.reward)},
          {"metric", support::number_or_null(e.metric)},
          {"lr", support::number_or_null(e.lr)},
          {"status", name(e.status)},
          {"stage", e.stage},
          {"source", name(e.source)},
          {"detail", e.detail},
          {"candidate", r.candidate.index},
          {"batch", r.candidate.batch},
          {"fingerprint", r.candidate.fingerprint}};
}

nlohmann::json versus_json(const VersusBaseline& v) {
  const PairedTest& t = v.test;
  return {{"pairs", t.pairs},
          {"mean_difference", t.pairs ? support::number_or_null(t.mean_difference) : nlohmann::json(nullptr)},
          {"ci_low", support::number_or_null(t.ci_low)},
          {"ci_high", support::number_or_null(t.ci_high)},
          {"p", support::number_or_null(t.p)},
          {"verdict", v.verdict}};
}

// The standing and the baselines of a per-seed funnel's rule, added to its JSON object.
void add_standing(nlohmann::json& out, const RankedResult& r, const std::vector<Evaluation>& baselines) {
  Standing s = standing_of(r);
  out["seeds"] = s.n;
  out["mean"] = support::number_or_null(s.mean);
  out["se"] = support::number_or_null(s.se);
  out["lcb"] = support::number_or_null(s.lcb);
  nlohmann::json per_seed = nlohmann::json::array();
  for (const Evaluation& e : r.seeds)
    per_seed.push_back({{"seed", e.seed}, {"reward", support::number_or_null(e.reward)},
                        {"metric", support::number_or_null(e.metric)}, {"candidate", e.candidate}});
  out["per_seed"] = per_seed;
  nlohmann::json vs = nlohmann::json::object();
  for (const VersusBaseline& v : versus_baselines(r, baselines)) vs[v.baseline] = versus_json(v);
  out["vs"] = vs;
}

}  // namespace

int top(const TopOptions& options) {
  auto storage = open_read_only(options.db);
  SearchInfo search = choose_search(*storage, options.db);
  const bool per_seed = per_seed_search(search);
  RankBy by = options.rank_by.empty() ? default_rank_by(per_seed) : *parse_rank_by(options.rank_by);
  std::vector<RankedResult> ranked = ranked_rules(*storage, search.id, options.k, by);
  std::vector<Evaluation> baselines = per_seed ? storage->baseline_results(search.id) : std::vector<Evaluation>{};
  const runtime::Objective objective = stored_objective(search);
  if (options.json) {
    nlohmann::json out = nlohmann::json::array();
    for (std::size_t i = 0; i < ranked.size(); ++i) {
      out.push_back(to_json(static_cast<int>(i) + 1, ranked[i]));
      if (!runtime::metric_is_accuracy(objective)) out.back()["metric_name"] = runtime::metric_label(objective);
      if (per_seed) add_standing(out.back(), ranked[i], baselines);
    }
    std::cout << json_text(out, 2) << '\n';
    return 0;
  }
  if (ranked.empty()) {
    std::cout << fmt::format("search '{}': no result yet\n", search.name);
    return 0;
  }
  if (std::string note = metric_note(objective); !note.empty()) std::cout << note << '\n';
  std::vector<std::string> names;  // the baselines with results, in name order
  for (const Evaluation& b : baselines)
    if (names.empty() || names.back() != b.baseline) names.push_back(b.baseline);
  std::vector<std::vector<std::string>> rows;
  for (std::size_t i = 0; i < ranked.size(); ++i) {
    const auto& [candidate, e, seeds] = ranked[i];
    std::vector<std::string> row{std::to_string(i + 1), number_cell(e.reward), number_cell(e.metric), number_cell(e.lr),
                                 name(e.status), std::to_string(e.stage)};
    if (per_seed) {
      Standing s = standing_of(ranked[i]);
      row.push_back(std::to_string(s.n));
      row.push_back(mean_cell(s));
      std::vector<VersusBaseline> vs = versus_baselines(ranked[i], baselines);
      for (const std::string& n : names) {
        std::string cell = "-";
        for (const VersusBaseline& v : vs)
          if (v.baseline == n) cell = versus_cell(v);
        row.push_back(cell);
      }
    }
    for (std::string cell : {candidate.hash, truncate(candidate.rule, kRuleWidth), truncate(candidate.tokens, kTokensWidth)})
      row.push_back(cell);
    rows.push_back(std::move(row));
  }
  std::vector<Column> columns{{"rank", true}, {"reward", true}, {"metric", true}, {"lr", true}, {"status"}, {"stage", true}};
  if (per_seed) {
    columns.push_back({"seeds", true});
    columns.push_back({"mean +- se", true});
    for (const std::string& n : names) columns.push_back({"vs " + n});
  }
  for (const char* c : {"hash", "rule", "tokens"}) columns.push_back({c});
  std::cout << render_table(columns, rows);
  return 0;
}

}  // namespace nos::search::cli
