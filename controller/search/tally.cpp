#include "controller/search/tally.h"

namespace nos::search {

void Tally::add(const EvaluationResult& result) {
  ++total;
  ++cells[static_cast<std::size_t>(result.source)][static_cast<std::size_t>(result.status)];
}

std::int64_t Tally::of(Source source, Status status) const {
  return cells[static_cast<std::size_t>(source)][static_cast<std::size_t>(status)];
}

std::int64_t Tally::of(Status status) const {
  std::int64_t n = 0;
  for (Source source : kSources) n += of(source, status);
  return n;
}

std::int64_t Tally::of(Source source) const {
  std::int64_t n = 0;
  for (Status status : kStatuses) n += of(source, status);
  return n;
}

std::int64_t Tally::fresh(Status status) const { return of(Source::Trained, status) + of(Source::Screened, status); }

double Tally::share(Source source) const {
  return total == 0 ? 0 : static_cast<double>(of(source)) / static_cast<double>(total);
}

Tally tally(const std::vector<Evaluation>& evaluations, int stage) {
  Tally t;
  for (const Evaluation& e : evaluations)
    if (e.accepted && e.stage == stage) t.add(e);
  return t;
}

}  // namespace nos::search
