// nos-search top: the best rules of a search, as an aligned table or a JSON array.
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "tools/nos_search/commands.h"
#include "tools/nos_search/metric_label.h"
#include "tools/nos_search/open_search.h"
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

}  // namespace

int top(const TopOptions& options) {
  auto storage = open_read_only(options.db);
  SearchInfo search = choose_search(*storage, options.db);
  std::vector<RankedResult> ranked = storage->top(search.id, options.k);
  const runtime::Objective objective = stored_objective(search);
  if (options.json) {
    nlohmann::json out = nlohmann::json::array();
    for (std::size_t i = 0; i < ranked.size(); ++i) {
      out.push_back(to_json(static_cast<int>(i) + 1, ranked[i]));
      if (!runtime::metric_is_accuracy(objective)) out.back()["metric_name"] = runtime::metric_label(objective);
    }
    std::cout << json_text(out, 2) << '\n';
    return 0;
  }
  if (ranked.empty()) {
    std::cout << fmt::format("search '{}': no result yet\n", search.name);
    return 0;
  }
  if (std::string note = metric_note(objective); !note.empty()) std::cout << note << '\n';
  std::vector<std::vector<std::string>> rows;
  for (std::size_t i = 0; i < ranked.size(); ++i) {
    const auto& [candidate, e] = ranked[i];
    rows.push_back({std::to_string(i + 1), number_cell(e.reward), number_cell(e.metric), number_cell(e.lr), name(e.status),
                    std::to_string(e.stage), candidate.hash, truncate(candidate.rule, kRuleWidth),
                    truncate(candidate.tokens, kTokensWidth)});
  }
  std::cout << render_table({{"rank", true},
                             {"reward", true},
                             {"metric", true},
                             {"lr", true},
                             {"status"},
                             {"stage", true},
                             {"hash"},
                             {"rule"},
                             {"tokens"}},
                            rows);
  return 0;
}

}  // namespace nos::search::cli
