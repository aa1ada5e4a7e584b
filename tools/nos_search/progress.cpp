#include "tools/nos_search/progress.h"

#include <cmath>
#include <iostream>

#include <fmt/format.h>

#include "tools/nos_search/table.h"

namespace nos::search::cli {

std::string duration_text(double seconds) {
  long s = std::lround(std::max(0.0, seconds));
  if (s < 60) return fmt::format("{} s", s);
  if (s < 3600) return fmt::format("{} min {:02} s", s / 60, s % 60);
  return fmt::format("{} h {:02} min", s / 3600, (s % 3600) / 60);
}

namespace {

std::string counts(const SearchProgress& p) {
  const Tally& t = p.results;
  return fmt::format("trained {}, hits {} cache + {} fingerprint, rejected {}, invalid {}, diverged {}{}",
                     t.of(Source::Trained), t.of(Source::CacheHit), t.of(Source::FingerprintHit),
                     t.fresh(Status::Rejected), t.fresh(Status::Invalid), t.fresh(Status::Diverged),
                     t.fresh(Status::Crashed) ? fmt::format(", crashed {}", t.fresh(Status::Crashed)) : "");
}

std::string rate(const SearchProgress& p) {
  return fmt::format("{:.0f}/min, ETA {}", p.per_minute, p.eta ? duration_text(*p.eta) : "?");
}

}  // namespace

void ProgressPrinter::clear() {
  if (terminal_ && status_shown_) std::cerr << "\r\x1b[K" << std::flush;
  status_shown_ = false;
}

void ProgressPrinter::batch(const SearchProgress& p) {
  clear();
  std::cerr << fmt::format("batch {:>3}/{} | {}/{} evaluated | {} | mean {:.4f} | best {} {} | {} | {}\n", p.batch + 1,
                           p.batches, p.evaluated, p.budget, counts(p), p.batch_mean_reward,
                           p.best_reward ? fmt::format("{:.4f}", *p.best_reward) : "-", truncate(p.best_rule, 48), rate(p),
                           duration_text(p.elapsed))
            << std::flush;
}

void ProgressPrinter::wait(const SearchProgress& p) {
  if (!terminal_) return;
  std::cerr << "\r\x1b[K"
            << fmt::format("batch {}/{}: {} queued, {} running | {}/{} evaluated | best {} | {} | {}", p.batch + 1, p.batches,
                           p.queued, p.running, p.evaluated, p.budget,
                           p.best_reward ? fmt::format("{:.4f}", *p.best_reward) : "-", rate(p), duration_text(p.elapsed))
            << std::flush;
  status_shown_ = true;
}

void ProgressPrinter::note(const std::string& line) {
  clear();
  std::cerr << line << '\n' << std::flush;
}

}  // namespace nos::search::cli
