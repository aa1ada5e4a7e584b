// eliminate_dead_state: removes what the result does not need, state slots included.
//
// Why: a state slot costs 8 bytes per parameter per step (read and write) and optimizer steps are
// memory-bound, so a rule like keep(g, v) must not keep v's buffer alive once keep is gone.
// Unreachable instructions would also cost registers and step inputs in every backend.
#include "compiler/passes.h"
#include "compiler/passes/graph.h"

namespace nos::ir {
namespace {

// Rebuilds the live instructions in their order, reading slot s as slot_of[s].
Function rebuild_live(const Function& f, const std::vector<bool>& live, const std::vector<std::uint32_t>& slot_of) {
  Function out;
  out.name = f.name;
  out.lookups = f.lookups;
  Builder builder(out);
  std::vector<Value> moved(f.body.size());
  for (std::size_t i = 0; i < f.body.size(); ++i) {
    if (!live[i]) continue;
    Instr in = f.body[i];
    for (int a = 0; a < arity(in.op); ++a) in.args[a] = moved[in.args[a]];
    if (in.op == Op::Mavg) in.index = slot_of[in.index];
    moved[i] = builder.push(in);
  }
  out.result = moved[f.result];
  return out;
}

}  // namespace

std::vector<bool> live_instructions(const Function& f) {
  std::vector<bool> live(f.body.size(), false);
  live[f.result] = true;
  // Arguments precede their users, so one backward sweep marks everything reachable.
  for (std::size_t i = f.body.size(); i-- > 0;) {
    if (!live[i]) continue;
    for (int a = 0; a < arity(f.body[i].op); ++a) live[f.body[i].args[a]] = true;
  }
  return live;
}

Function remove_dead_instructions(const Function& f) {
  std::vector<std::uint32_t> same_slot(f.states.size());
  for (std::uint32_t s = 0; s < same_slot.size(); ++s) same_slot[s] = s;
  Function out = rebuild_live(f, live_instructions(f), same_slot);
  out.states = f.states;
  return out;
}

Function eliminate_dead_state(const Function& f) {
  std::vector<bool> live = live_instructions(f);
  std::vector<bool> read(f.states.size(), false);
  for (std::size_t i = 0; i < f.body.size(); ++i)
    if (live[i] && f.body[i].op == Op::Mavg) read[f.body[i].index] = true;
  std::vector<std::uint32_t> slot_of(f.states.size(), 0);
  std::vector<StateSlot> states;
  for (std::size_t s = 0; s < f.states.size(); ++s) {
    if (!read[s]) continue;
    slot_of[s] = static_cast<std::uint32_t>(states.size());
    states.push_back(f.states[s]);
  }
  Function out = rebuild_live(f, live, slot_of);
  out.states = std::move(states);
  return out;
}

}  // namespace nos::ir
