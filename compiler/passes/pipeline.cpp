// optimize: the standard pass pipeline, written out so that `nosc explain` (which prints the
// trace) shows exactly what ran.
//
// Folding exposes literals to the rewrite table (x * (2 - 1) becomes x * 1), and rewriting exposes
// new constant expressions (keep(2, g) * 3 becomes 2 * 3), so fold, simplify and CSE run until the
// function stops changing. Then dead instructions and state go, and the result is put in
// canonical form for hashing.
#include "compiler/passes.h"

namespace nos::ir {
namespace {

// Every rewrite removes work or moves a negation outward, so two rounds normally suffice.
constexpr int kMaxRounds = 16;

class Pipeline {
 public:
  Pipeline(const Function& f, std::vector<PassRecord>* trace) : current_(f), trace_(trace) {}

  // Runs one pass; verify() is cheap next to any use of the result, so it always runs.
  void run(const char* name, Function (*pass)(const Function&)) {
    current_ = pass(current_);
    verify(current_);
    if (trace_) trace_->push_back({name, current_});
  }

  const Function& current() const { return current_; }

 private:
  Function current_;
  std::vector<PassRecord>* trace_;
};

}  // namespace

Function optimize(const Function& f, std::vector<PassRecord>* trace) {
  verify(f);
  Pipeline p(f, trace);
  p.run("fold_constants", fold_constants);
  for (int round = 0; round < kMaxRounds; ++round) {
    Function before = p.current();
    p.run("simplify", simplify);
    p.run("fold_constants", fold_constants);
    p.run("eliminate_common_subexpressions", eliminate_common_subexpressions);
    if (p.current() == before) break;
  }
  p.run("eliminate_dead_state", eliminate_dead_state);
  p.run("canonicalize", canonicalize);
  return p.current();
}

}  // namespace nos::ir
