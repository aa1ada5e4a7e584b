// nos-search export: one ranked rule of a search, compiled by the compile API and emitted as
// standalone source by the compiler's source targets (compiler/emit/emit.h, the same entry point as
// `nosc compile --target pytorch|cpp|cuda-standalone`), written to a file or to standard output.
#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <system_error>

#include "compiler/compile.h"
#include "compiler/emit/emit.h"
#include "controller/search/standing.h"
#include "tools/nos_search/commands.h"
#include "tools/nos_search/open_search.h"
#include "support/atomic_file.h"

namespace nos::search::cli {
namespace {

void write_file(const std::string& path, const std::string& text) {
  try {
    support::write_file_atomically(path, text);
  } catch (const support::FileError& e) {
    throw support::FileError(e.code().value(), fmt::format("{}: cannot write the export", path));
  }
}

}  // namespace

int export_rule(const ExportOptions& options) {
  std::optional<compiler::EmitTarget> target = compiler::parse_emit_target(options.target);
  if (!target)
    throw std::invalid_argument(fmt::format("unknown --target '{}' ({})", options.target, compiler::kEmitTargetNames));
  auto storage = open_read_only(options.db);
  SearchInfo search = choose_search(*storage, options.db);
  const bool per_seed = per_seed_search(search);
  std::vector<RankedResult> ranked = ranked_rules(*storage, search.id, options.rank, default_rank_by(per_seed));
  if (static_cast<int>(ranked.size()) < options.rank)
    throw std::invalid_argument(fmt::format("{}: --rank {}: search '{}' has {} ranked rule{}", storage->location(),
                                            options.rank, search.name, ranked.size(), ranked.size() == 1 ? "" : "s"));
  const Candidate& candidate = ranked[options.rank - 1].candidate;
  const Evaluation& evaluation = ranked[options.rank - 1].evaluation;
  // The stored text is canonical DSL: compiling it again gives the rule's IR.
  compiler::CompiledRule rule = compiler::compile_text(candidate.rule);
  std::string source = compiler::emit(rule, *target);
  if (options.output == "-") {
    std::cout << source;
  } else {
    write_file(options.output, source);
    std::cerr << fmt::format("nos-search: rank {} (candidate {}, hash {}, reward {}) written to {}\n", options.rank,
                             candidate.index, candidate.hash,
                             evaluation.reward ? fmt::format("{:.6g}", *evaluation.reward) : "-", options.output);
  }
  if (evaluation.status != Status::Ok)
    std::cerr << fmt::format("nos-search: note: rank {}'s result is '{}', not 'ok'\n", options.rank, name(evaluation.status));
  return 0;
}

}  // namespace nos::search::cli
