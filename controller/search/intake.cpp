#include "controller/search/intake.h"

#include <map>

#include <fmt/format.h>

#include "compiler/compile.h"
#include "controller/search/probes.h"
#include "dsl/diagnostic.h"

namespace nos::search {
namespace {

EvaluationResult known(const SearchConfig& config, std::string status, std::string source, std::string detail) {
  EvaluationResult r;
  r.status = std::move(status);
  r.source = std::move(source);
  r.detail = std::move(detail);
  r.reward = config.failure_reward;
  return r;
}

// The first line of a diagnostic: where and what, without the source excerpt.
std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

}  // namespace

EvaluationResult reused(const Evaluation& from, std::string source) {
  EvaluationResult r = from;  // the result part
  r.source = std::move(source);
  r.reused_from = from.reused_from.value_or(from.candidate);  // the one that trained
  return r;
}

Intake take_in(const std::vector<controller::Proposal>& proposals, const SearchConfig& config, Storage& storage,
               SearchId search) {
  Intake out;
  // Hashes and fingerprints of this batch's candidates still to be evaluated.
  std::map<std::string, bool> pending_hashes, pending_fingerprints;
  for (const controller::Proposal& p : proposals) {
    NewCandidate c;
    c.tokens = dsl::print_tokens(p.tokens);
    c.strategy_data = p.data;
    compiler::CompiledRule rule;
    try {
      rule = compiler::compile_one(compiler::RuleSource::tokens(c.tokens));
    } catch (const dsl::Error& e) {
      c.rule = c.tokens;
      c.resolved = known(config, "invalid", "screened", first_line(e.diagnostic().render()));
      ++out.invalid;
      out.candidates.push_back(std::move(c));
      continue;
    }
    c.rule = rule.canonical_text;
    c.hash = rule.hash_hex();
    if (rule.non_finite) {
      c.resolved = known(config, "invalid", "screened", "only produces NaN/inf: " + *rule.non_finite);
      ++out.invalid;
    } else if (std::optional<Evaluation> hit = storage.lookup_by_hash(search, c.hash)) {
      c.resolved = reused(*hit, "cache_hit");
      ++out.cache_hits;
    } else if (pending_hashes.count(c.hash)) {
      c.deferred = true;
      ++out.deferred;
    }
    if (!c.resolved && !c.deferred) {
      ProbeResult probed = probe(rule.optimized, config.probes);
      c.fingerprint = probed.fingerprint;
      if (std::optional<Evaluation> hit = storage.lookup_by_fingerprint(search, c.fingerprint)) {
        c.resolved = reused(*hit, "fingerprint_hit");
        ++out.fingerprint_hits;
      } else if (pending_fingerprints.count(c.fingerprint)) {
        c.deferred = true;
        ++out.deferred;
      } else if (config.screen && !probed.passed()) {
        c.resolved = known(config, "rejected", "screened", fmt::format("{}: {}", name(probed.verdict), probed.reason));
        ++out.rejected;
      } else {
        pending_hashes[c.hash] = true;
        pending_fingerprints[c.fingerprint] = true;
        ++out.queued;
      }
    }
    out.candidates.push_back(std::move(c));
  }
  return out;
}

int resolve_copies(Storage& storage, SearchId search, std::int64_t batch) {
  std::vector<Candidate> candidates = storage.candidates(search, batch);
  std::map<std::int64_t, Evaluation> results;  // accepted stage-1 results of the batch, by index
  for (const Candidate& c : candidates)
    for (const Evaluation& e : storage.evaluations(search, c.index))
      if (e.accepted && e.stage == 1) results.emplace(c.index, e);
  int stored = 0;
  for (const Candidate& c : candidates) {
    if (results.count(c.index)) continue;
    const Candidate* of = nullptr;
    std::string source;
    for (const Candidate& earlier : candidates) {
      if (earlier.index >= c.index || !results.count(earlier.index)) continue;
      if (!c.hash.empty() && earlier.hash == c.hash) {
        of = &earlier, source = "cache_hit";
        break;
      }
    }
    if (!of)
      for (const Candidate& earlier : candidates)
        if (earlier.index < c.index && results.count(earlier.index) && !c.fingerprint.empty() &&
            earlier.fingerprint == c.fingerprint) {
          of = &earlier, source = "fingerprint_hit";
          break;
        }
    if (!of)
      throw std::logic_error(fmt::format("candidate {} of batch {} has no result and copies no candidate", c.index, batch));
    EvaluationResult copy = reused(results.at(of->index), source);
    storage.store_result(search, c.index, copy);
    Evaluation stored_copy;
    static_cast<EvaluationResult&>(stored_copy) = copy;
    stored_copy.candidate = c.index;
    results.emplace(c.index, stored_copy);
    ++stored;
  }
  return stored;
}

}  // namespace nos::search
