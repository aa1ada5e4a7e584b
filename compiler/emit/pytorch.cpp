// The PyTorch target: the rule's IR as a torch.optim.Optimizer subclass, one Python statement per
// instruction, in the reference interpreter's order of operations and in float32 throughout
// (every value is a float32 tensor, step-typed ones 0-dimensional), so that its updates match
// NOS's up to the last bits of exp, log and pow (torch's, not dsl/semantics.h's). A function's
// spelling is its row's `pytorch` column in dsl/functions.def, checked here when NOS builds.
#include <fmt/format.h>

#include <cctype>
#include <cmath>
#include <map>
#include <stdexcept>
#include <string_view>

#include "compiler/emit/emitters.h"
#include "compiler/emit/step_inputs.h"
#include "compiler/passes.h"
#include "compiler/printer.h"

namespace nos::compiler::emit_detail {
namespace {

using ir::Instr;
using ir::Op;

// A float32 value as a Python expression that rounds back to exactly it: 17 digits, the exact double
// of the float (double-based expressions such as beta ** t need that double, not the short decimal).
std::string float_literal(float x) {
  if (std::isnan(x)) return "math.nan";
  if (std::isinf(x)) return x > 0 ? "math.inf" : "-math.inf";
  return double_literal(static_cast<double>(x));
}

// Python identifiers of the state slots: m, v, y, and m_2 ... when one power appears twice.
std::vector<std::string> state_names(const ir::Function& f) {
  std::vector<std::string> names;
  std::map<int, int> seen;
  for (const ir::StateSlot& s : f.states) {
    int n = ++seen[s.power];
    names.push_back(std::string(ir::state_name(s.power)) + (n > 1 ? "_" + std::to_string(n) : ""));
  }
  return names;
}

std::string var(ir::Value v) { return "x" + std::to_string(v); }

// The helpers every export defines: NOS's semantics (dsl/semantics.h) on float32 tensors.
constexpr const char* kHelpers = R"PY(
def _sign(x):
    # sign(0) = 0; NaN stays NaN (torch.sign maps NaN to 0).
    return torch.where(torch.isnan(x), x, torch.sign(x))


def _clip(x, l):
    # Clamp to [-l, l] with comparisons, so NaN propagates as in NOS.
    return torch.where(x < -l, -l, torch.where(x > l, l, x))


def _pow(x, y):
    # sign(x) * |x|^y, so negative bases are defined.
    return _sign(x) * torch.pow(torch.abs(x), y)


def _drop(x, p, u):
    # 0 with probability p (u uniform in [0, 1)), no rescaling.
    return torch.where(u < p, torch.zeros_like(x), x)


def _lookup(x, negative, zero, positive, nan):
    return torch.where(x < 0, negative, torch.where(x == 0, zero, torch.where(x > 0, positive, nan)))
)PY";

// Whether a `pytorch` spelling names only what its row has: {x}, {y} when binary, {d} with a Delta
// immediate, {u} with a uniform draw, and {x} at least once.
constexpr bool spelling_fits(std::string_view s, int arity, dsl::Extra extra) {
  bool has_x = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '}') return false;
    if (s[i] != '{') continue;
    if (i + 2 >= s.size() || s[i + 2] != '}') return false;
    const char c = s[i + 1];
    if (c == 'x') has_x = true;
    else if (!((c == 'y' && arity == 2) || (c == 'd' && extra == dsl::Extra::Delta) || (c == 'u' && extra == dsl::Extra::Uniform)))
      return false;
    i += 2;
  }
  return has_x;
}

#define NOS_FUNCTION(id, name, arity, infix, precedence, commutative, c_function, extra, cost, tokens, aten, pytorch, meaning) \
  static_assert(spelling_fits(pytorch, arity, dsl::Extra::extra),                                                          \
                "dsl/functions.def: the row " #id " needs a pytorch spelling over {x}, {y}, {d}, {u} that its arity and extra have");
#include "dsl/functions.def"

constexpr const char* kSpellings[] = {
#define NOS_FUNCTION(id, name, arity, infix, precedence, commutative, c_function, extra, cost, tokens, aten, pytorch, meaning) pytorch,
#include "dsl/functions.def"
};
static_assert(std::size(kSpellings) == dsl::kNumFunctions);

// The right-hand side of one instruction: a function through its spelling, a leaf by its kind.
std::string expression(const ir::Function& f, ir::Value k, const std::vector<std::string>& states,
                       const std::vector<int>& step_input_of) {
  const Instr& in = f.body[k];
  auto a = [&](int i) { return var(in.args[i]); };
  if (ir::is_function(in.op)) {
    const int arity = ir::arity(in.op);
    return fmt::format(fmt::runtime(kSpellings[static_cast<int>(ir::fn_of(in.op))]), fmt::arg("x", a(0)),
                       fmt::arg("y", arity > 1 ? a(1) : std::string()),
                       fmt::arg("d", fmt::format("_f32({}, dev)", float_literal(in.imm))),
                       fmt::arg("u", fmt::format("draw[{}]", in.index)));
  }
  switch (in.op) {
    case Op::Const: return fmt::format("_f32({}, dev)", float_literal(in.imm));
    case Op::Grad: return "g";
    case Op::Weight: return "w";
    case Op::Mavg: return fmt::format("{} * bias[{}]", states.at(in.index), in.index);
    case Op::Step: return fmt::format("step_inputs[{}]  # {}", step_input_of[k], ir::name(static_cast<ir::StepScalar>(in.index)));
    case Op::Normal: return fmt::format("draw[{}]  # {}", in.index, in.index == ir::kEpsStream ? "eps" : "noise");
    case Op::Lookup: {
      const ir::LookupTable& t = f.lookups.at(in.index);
      return fmt::format("_lookup({}, _f32({}, dev), _f32({}, dev), _f32({}, dev), _f32({}, dev))", a(0), float_literal(t.negative),
                         float_literal(t.zero), float_literal(t.positive), float_literal(t.nan));
    }
#define NOS_FUNCTION(id, ...) case Op::id:
#include "dsl/functions.def"
      break;  // above
  }
  return {};
}

bool is_identifier(const std::string& s) {
  bool ok = !s.empty() && !std::isdigit(static_cast<unsigned char>(s[0]));
  for (char c : s) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
  return ok;
}

}  // namespace

std::string pytorch(const Source& source) {
  const ir::Function& f = source.f;
  ir::verify(f);
  const std::string hash = ir::hash_hex(ir::canonical_hash(f));
  const std::string class_name = source.name.empty() ? "NosRule_" + hash : source.name;
  if (!is_identifier(class_name))
    throw std::invalid_argument("PyTorch export: '" + class_name + "' is not a Python class name");
  const std::string rule_text = source.rule_text.empty() ? ir::to_text(f) : source.rule_text;
  const bool needs_t = ir::needs_total_steps(f);
  const std::vector<std::string> states = state_names(f);
  const std::vector<std::string> step_inputs = step_input_expressions(f, Language::Python);

  // Which instructions reach the result, and each Step's index in the step inputs.
  std::vector<bool> live(f.body.size(), false);
  live[f.result] = true;
  for (std::size_t k = f.body.size(); k-- > 0;)
    if (live[k])
      for (int a = 0; a < ir::arity(f.body[k].op); ++a) live[f.body[k].args[a]] = true;
  std::vector<int> step_input_of(f.body.size(), -1);
  int steps = 0;
  for (std::size_t k = 0; k < f.body.size(); ++k)
    if (f.body[k].op == Op::Step) step_input_of[k] = steps++;
  std::map<std::uint32_t, bool> draws;  // stream -> normal (true) or uniform (false)
  for (std::size_t k = 0; k < f.body.size(); ++k)
    if (live[k] && (f.body[k].op == Op::Normal || f.body[k].op == Op::Drop)) draws[f.body[k].index] = f.body[k].op == Op::Normal;

  std::string state_doc;
  for (std::size_t s = 0; s < f.states.size(); ++s)
    state_doc += fmt::format("        {}: moving average of g^{}, beta {}{}\n", states[s], f.states[s].power,
                             f.states[s].beta, f.states[s].bias_correction ? ", bias-corrected" : "");
  if (state_doc.empty()) state_doc = "        (none)\n";

  std::string py;
  py += fmt::format(
      "# Generated by NOS (--target pytorch). Standalone: needs only torch.\n"
      "#   rule: {}\n"
      "#   canonical hash: {}\n"
      "import math\n\nimport torch\n\n\n"
      "def _f32(x, device=None):\n"
      "    return torch.tensor(x, dtype=torch.float32, device=device)\n",
      rule_text, hash);
  py += kHelpers;
  py += fmt::format(
      "\n\nclass {0}(torch.optim.Optimizer):\n"
      "    \"\"\"The NOS rule  {1}\n\n"
      "    w <- w - lr * delta, elementwise, at step t (1-based) of total_steps. delta is computed in\n"
      "    float32 in NOS's order of operations; state (float32, zero before step 1, updated before delta\n"
      "    reads it, as Adam does):\n{2}"
      "    total_steps: {3}\n"
      "    Random draws (eps, noise, drop) come from torch's generator (`generator`, else the global one):\n"
      "    the same distributions as NOS (normal N(0, 1); uniform [0, 1)), not the same numbers as NOS's\n"
      "    counter-based generator, so a run with them is not bit-identical to NOS's. exp, log and pow\n"
      "    are torch's and may differ from NOS's in the last bit.\n"
      "    \"\"\"\n\n"
      "    def __init__(self, params, lr=1e-3, total_steps=None, generator=None):\n"
      "        if not lr >= 0.0:\n"
      "            raise ValueError(f\"invalid learning rate: {{lr}}\")\n",
      class_name, rule_text, state_doc,
      needs_t ? "required (the rule reads T through ld, cd or rd)" : "not read by this rule (optional)");
  if (needs_t)
    py += "        if total_steps is None or total_steps < 1:\n"
          "            raise ValueError(\"this rule reads T (ld, cd or rd): pass total_steps >= 1\")\n";
  py += "        self._generator = generator\n"
        "        super().__init__(params, dict(lr=lr, total_steps=total_steps))\n\n"
        "    @torch.no_grad()\n"
        "    def step(self, closure=None):\n"
        "        loss = None\n"
        "        if closure is not None:\n"
        "            with torch.enable_grad():\n"
        "                loss = closure()\n"
        "        for group in self.param_groups:\n"
        "            lr = group[\"lr\"]\n"
        "            T = float(group[\"total_steps\"] or 1)\n"
        "            for p in group[\"params\"]:\n"
        "                if p.grad is None:\n"
        "                    continue\n"
        "                if p.grad.is_sparse:\n"
        "                    raise RuntimeError(\"" + class_name + " does not support sparse gradients\")\n"
        "                dev = p.device\n"
        "                g = p.grad.float()\n"
        "                w = p.float()\n"
        "                state = self.state[p]\n"
        "                if len(state) == 0:\n"
        "                    state[\"step\"] = 0\n";
  for (const std::string& s : states)
    py += fmt::format("                    state[\"{}\"] = torch.zeros_like(w, memory_format=torch.preserve_format)\n", s);
  py += "                state[\"step\"] += 1\n"
        "                t = state[\"step\"]\n";
  // Per-step scalars, then the bias corrections, each rounded to float32 once.
  py += fmt::format("                step_inputs = [{}]\n", [&] {
    std::string list;
    for (int i = 0; i < steps; ++i) list += (i ? ", " : "") + fmt::format("_f32({}, dev)", step_inputs[i]);
    return list;
  }());
  py += fmt::format("                bias = [{}]\n", [&] {
    std::string list;
    for (std::size_t s = 0; s < f.states.size(); ++s)
      list += (s ? ", " : "") + fmt::format("_f32({}, dev)", step_inputs[steps + s]);
    return list;
  }());
  if (!draws.empty()) {
    py += "                draw = {}\n";
    for (auto [stream, normal] : draws)
      py += fmt::format("                draw[{}] = torch.{}(w.shape, generator=self._generator, dtype=torch.float32, device=dev)\n",
                        stream, normal ? "randn" : "rand");
  }
  // The state slots: a <- beta a + (1 - beta) g^p, products rounded apart (no fused multiply-add).
  for (std::size_t s = 0; s < f.states.size(); ++s) {
    const ir::StateSlot& slot = f.states[s];
    std::string power = "g";
    for (int i = 1; i < slot.power; ++i) power = "(" + power + ") * g";
    float one_minus = 1.0f - slot.beta;
    py += fmt::format("                {0} = state[\"{0}\"]\n", states[s]);
    py += fmt::format("                {0}.copy_({0} * _f32({1}, dev) + ({2}) * _f32({3}, dev))\n", states[s],
                      float_literal(slot.beta), power, float_literal(one_minus));
  }
  // Every instruction that reaches the result.
  for (std::size_t k = 0; k < f.body.size(); ++k)
    if (live[k])
      py += fmt::format("                {} = {}\n", var(static_cast<ir::Value>(k)),
                        expression(f, static_cast<ir::Value>(k), states, step_input_of));
  py += fmt::format("                p.copy_(w - _f32(lr, dev) * {})\n", var(f.result));
  py += "        return loss\n";
  return py;
}

}  // namespace nos::compiler::emit_detail
