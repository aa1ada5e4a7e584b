#include "controller/search/intake.h"

#include <map>
#include <set>

#include <fmt/format.h>

#include "compiler/compile.h"
#include "controller/search/probes.h"
#include "dsl/diagnostic.h"

namespace nos::search {
namespace {

EvaluationResult known(const SearchConfig& config, Status status, Source source, std::string detail) {
  EvaluationResult r;
  r.status = status;
  r.source = source;
  r.detail = std::move(detail);
  r.reward = config.failure_reward;
  return r;
}

// The first line of a diagnostic: where and what, without the source excerpt.
std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

}  // namespace

EvaluationResult reused(const Evaluation& from, Source source) {
  EvaluationResult r = from;  // the result part
  r.source = source;
  r.reused_from = from.reused_from.value_or(from.candidate);  // the one that trained
  return r;
}

InFlight InFlight::of(Storage& storage, SearchId search, const std::vector<std::int64_t>& batches) {
  InFlight out;
  for (std::int64_t batch : batches)
    for (const Candidate& c : storage.candidates(search, batch)) {
      if (out.first_index < 0 || c.index < out.first_index) out.first_index = c.index;
      if (!c.hash.empty()) out.hashes.insert(c.hash);
      if (!c.fingerprint.empty()) out.fingerprints.insert(c.fingerprint);
    }
  return out;
}

Intake take_in(const std::vector<controller::Proposal>& proposals, const SearchConfig& config, Storage& storage,
               SearchId search, const InFlight& in_flight) {
  Intake out;
  // Hashes and fingerprints of this batch's candidates still to be evaluated, and of the batches in
  // flight; a stored result of a batch in flight is not final for this purpose (see InFlight).
  std::set<std::string> pending_hashes = in_flight.hashes, pending_fingerprints = in_flight.fingerprints;
  auto settled = [&](const std::optional<Evaluation>& hit) {
    return hit && (in_flight.first_index < 0 || hit->candidate < in_flight.first_index);
  };
  for (const controller::Proposal& p : proposals) {
    NewCandidate c;
    c.tokens = dsl::print_tokens(p.tokens);
    c.strategy_data = p.data;
    compiler::CompiledRule rule;
    try {
      rule = compiler::compile_one(compiler::RuleSource::tokens(c.tokens));
    } catch (const dsl::Error& e) {
      c.rule = c.tokens;
      c.resolved = known(config, Status::Invalid, Source::Screened, first_line(e.diagnostic().render()));
      ++out.invalid;
      out.candidates.push_back(std::move(c));
      continue;
    }
    c.rule = rule.canonical_text;
    c.hash = rule.hash_hex();
    if (rule.non_finite) {
      c.resolved = known(config, Status::Invalid, Source::Screened, "only produces NaN/inf: " + *rule.non_finite);
      ++out.invalid;
    } else if (std::optional<Evaluation> hit = storage.lookup_by_hash(search, c.hash); settled(hit)) {
      c.resolved = reused(*hit, Source::CacheHit);
      ++out.cache_hits;
    } else if (hit || pending_hashes.count(c.hash)) {
      c.deferred = true;
      ++out.deferred;
    }
    if (!c.resolved && !c.deferred) {
      ProbeResult probed = probe(rule.optimized, config.probes);
      c.fingerprint = probed.fingerprint;
      if (std::optional<Evaluation> hit = storage.lookup_by_fingerprint(search, c.fingerprint); settled(hit)) {
        c.resolved = reused(*hit, Source::FingerprintHit);
        ++out.fingerprint_hits;
      } else if (hit || pending_fingerprints.count(c.fingerprint)) {
        c.deferred = true;
        ++out.deferred;
      } else if (config.screen && !probed.passed()) {
        c.resolved = known(config, Status::Rejected, Source::Screened, fmt::format("{}: {}", name(probed.verdict), probed.reason));
        ++out.rejected;
      } else {
        pending_hashes.insert(c.hash);
        pending_fingerprints.insert(c.fingerprint);
        ++out.queued;
      }
    }
    out.candidates.push_back(std::move(c));
  }
  return out;
}

int resolve_copies(Storage& storage, SearchId search, std::int64_t batch) {
  std::vector<Candidate> candidates = storage.candidates(search, batch);
  std::set<std::int64_t> has_result;  // the batch's candidates with a result: one query, not one each
  for (const Evaluation& e : storage.evaluations_of_batch(search, batch))
    if (e.accepted && e.stage == 1) has_result.insert(e.candidate);
  int stored = 0;
  for (const Candidate& c : candidates) {
    if (has_result.contains(c.index)) continue;
    // The earliest candidate with a result (the lookups skip crashed ones) ...
    std::optional<Evaluation> from;
    Source source = Source::CacheHit;
    if (!c.hash.empty()) from = storage.lookup_by_hash(search, c.hash);
    if (!from && !c.fingerprint.empty()) from = storage.lookup_by_fingerprint(search, c.fingerprint), source = Source::FingerprintHit;
    // ... or, when the one it copies crashed, that crash.
    if (!from)
      for (const Candidate& earlier : storage.candidates(search)) {
        if (earlier.index >= c.index) break;
        bool same_hash = !c.hash.empty() && earlier.hash == c.hash;
        if (!same_hash && (c.fingerprint.empty() || earlier.fingerprint != c.fingerprint)) continue;
        for (const Evaluation& e : storage.evaluations(search, earlier.index))
          if (e.accepted && e.stage == 1) from = e, source = same_hash ? Source::CacheHit : Source::FingerprintHit;
        if (from) break;
      }
    if (!from)
      throw std::logic_error(fmt::format("candidate {} of batch {} has no result and copies no candidate", c.index, batch));
    storage.store_result(search, c.index, reused(*from, source));
    ++stored;
  }
  return stored;
}

}  // namespace nos::search
