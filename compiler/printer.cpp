// The two printers: the dump is for people and golden tests; to_text is for the DSL round trip.
#include "compiler/printer.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "dsl/printer.h"

namespace nos::ir {
namespace {

// The DSL's own number format, so dumps and text agree: "1e-8", "0.9".
std::string shortest(float value) { return dsl::format_number(value); }

// ---- dump ------------------------------------------------------------------------------------

constexpr std::size_t kTypeColumn = 28;  // instruction text is padded to this width, then the type

std::string value_name(Value v) { return "%" + std::to_string(v); }

std::string instr_text(const Instr& in) {
  std::string text = name(in.op);
  switch (in.op) {
    case Op::Const: return text + " " + shortest(in.imm);
    case Op::Grad:
    case Op::Weight: return text;
    case Op::Mavg: return text + " s" + std::to_string(in.index);
    case Op::Normal: return text + " stream=" + std::to_string(in.index);
    case Op::Step: {
      auto kind = static_cast<StepScalar>(in.index);
      text += std::string(" ") + name(kind);
      if (kind == StepScalar::CyclicalDecay || kind == StepScalar::RestartDecay) text += " n=" + shortest(in.imm);
      return text;
    }
    default: break;
  }
  for (int a = 0; a < arity(in.op); ++a) text += (a == 0 ? " " : ", ") + value_name(in.args[a]);
  if (in.op == Op::Div) text += " delta=" + shortest(in.imm);
  if (is_function(in.op) && draws_random(in.op)) text += " stream=" + std::to_string(in.index);
  if (in.op == Op::Lookup) text += " t" + std::to_string(in.index);
  return text;
}

std::string slot_text(const StateSlot& s) {
  return std::string(state_name(s.power)) + ": mavg(g^" + std::to_string(s.power) + ", beta=" + shortest(s.beta) +
         ", bias_correction=" + (s.bias_correction ? "on" : "off") + ")";
}

// ---- to_text ---------------------------------------------------------------------------------

constexpr float kDefaultDelta = 1e-8f;

[[noreturn]] void not_expressible(const Function& f, Value v, const std::string& why) {
  throw std::logic_error("rule '" + f.name + "' is not expressible as DSL text at " + value_name(v) + ": " + why);
}

// Prints one rule. Settings are recovered from the IR (slot betas, decay periods, eps's sigma)
// and checked for consistency first, because text has one value per setting.
class TextPrinter {
 public:
  explicit TextPrinter(const Function& f) : f_(f) {}

  std::string run() {
    analyze();
    dsl::Rule rule;
    rule.name = f_.name;
    rule.body = print(f_.result);
    rule.settings = settings_;
    return dsl::print(rule);
  }

 private:
  void analyze() {
    std::vector<int> uses(f_.body.size(), 0), eps_mul_uses(f_.body.size(), 0);
    std::vector<bool> live(f_.body.size(), false);
    live[f_.result] = true;
    uses[f_.result] = 1;
    for (Value v = static_cast<Value>(f_.body.size()); v-- > 0;) {
      if (!live[v]) continue;
      const Instr& in = f_.body[v];
      for (int a = 0; a < arity(in.op); ++a) live[in.args[a]] = true, ++uses[in.args[a]];
      if (std::optional<Eps> eps = eps_product(in)) ++eps_mul_uses[eps->normal];
    }
    std::vector<float> sigmas;
    bool bare_eps = false;
    for (Value v = 0; v < f_.body.size(); ++v) {
      if (!live[v]) continue;
      const Instr& in = f_.body[v];
      if (in.op == Op::Normal && in.index == kEpsStream && uses[v] > eps_mul_uses[v]) bare_eps = true;
      if (std::optional<Eps> eps = eps_product(in)) sigmas.push_back(eps->sigma);
      if (in.op == Op::Mavg) read_slot(v, f_.states.at(in.index));
      if (in.op == Op::Step && static_cast<StepScalar>(in.index) == StepScalar::CyclicalDecay) set(v, "cd_n", in.imm);
      if (in.op == Op::Step && static_cast<StepScalar>(in.index) == StepScalar::RestartDecay) set(v, "rd_n", in.imm);
    }
    // eps is sigma * normal: when every eps reads one valid sigma, print `eps` with that sigma;
    // otherwise set sigma to 1 (which simplification turns back into the bare normal) and print
    // the constants as factors.
    eps_is_product_ = !bare_eps && !sigmas.empty();
    for (float s : sigmas)
      eps_is_product_ = eps_is_product_ && std::bit_cast<std::uint32_t>(s) == std::bit_cast<std::uint32_t>(sigmas[0]) &&
                        in_range("eps_sigma", s);
    if (eps_is_product_) settings_.eps_sigma = sigmas[0];
    else if (!sigmas.empty() || bare_eps) settings_.eps_sigma = 1;
  }

  // `const sigma * normal(eps stream)`, the IR of `eps`.
  struct Eps {
    Value normal;
    float sigma;
  };
  std::optional<Eps> eps_product(const Instr& in) const {
    if (in.op != Op::Mul) return std::nullopt;
    for (int a = 0; a < 2; ++a) {
      const Instr& normal = f_.body[in.args[a]];
      const Instr& sigma = f_.body[in.args[1 - a]];
      if (normal.op == Op::Normal && normal.index == kEpsStream && sigma.op == Op::Const)
        return Eps{in.args[a], sigma.imm};
    }
    return std::nullopt;
  }

  // `step noise_std * normal(noise stream)`, the IR of `noise`.
  bool is_noise(const Instr& in) const {
    if (in.op != Op::Mul) return false;
    for (int a = 0; a < 2; ++a) {
      const Instr& normal = f_.body[in.args[a]];
      const Instr& std_dev = f_.body[in.args[1 - a]];
      if (normal.op == Op::Normal && normal.index == kNoiseStream && std_dev.op == Op::Step &&
          std_dev.index == static_cast<std::uint32_t>(StepScalar::NoiseStd))
        return true;
    }
    return false;
  }

  void read_slot(Value v, const StateSlot& slot) {
    static const char* const kBetas[] = {"beta1", "beta2", "beta3"};
    if (slot.power < 1 || slot.power > 3) not_expressible(f_, v, "no operand averages g^" + std::to_string(slot.power));
    set(v, kBetas[slot.power - 1], slot.beta);
    set(v, "bias_correction", slot.bias_correction ? 1.0f : 0.0f);
  }

  bool in_range(const char* setting, float value) const {
    const dsl::SettingInfo* s = dsl::find_setting(setting);
    return value >= s->min && value <= s->max;
  }

  // Records a setting the IR implies; a second, different value cannot be written in text.
  void set(Value v, const char* setting, float value) {
    const dsl::SettingInfo* s = dsl::find_setting(setting);
    if (!in_range(setting, value))
      not_expressible(f_, v, std::string(setting) + " = " + shortest(value) + " is out of range");
    char& seen = seen_[s - dsl::settings().data()];
    float& field = settings_.*(s->field);
    if (seen && std::bit_cast<std::uint32_t>(field) != std::bit_cast<std::uint32_t>(value))
      not_expressible(f_, v, std::string(setting) + " takes both " + shortest(field) + " and " + shortest(value));
    seen = true;
    field = value;
  }

  // The text itself is the DSL printer's job: build the syntax tree and let dsl::print place the
  // parentheses, so both printers agree on precedence by construction. A value used twice becomes
  // one shared node (which dsl::print names), so the tree and the text stay linear in the body.
  dsl::ExprPtr print(Value v) {
    if (printed_[v]) return printed_[v];
    return printed_[v] = print_node(v);
  }

  dsl::ExprPtr print_node(Value v) {
    using dsl::Expr;
    const Instr& in = f_.body[v];
    switch (in.op) {
      case Op::Const: return number(in.imm);
      case Op::Grad: return operand("g");
      case Op::Weight: return operand("w");
      case Op::Mavg: return operand(state_name(f_.states[in.index].power));
      case Op::Step:
        if (in.index == static_cast<std::uint32_t>(StepScalar::NoiseStd))
          not_expressible(f_, v, "noise_std outside noise");
        return operand(name(static_cast<StepScalar>(in.index)));
      case Op::Lookup: not_expressible(f_, v, "a sign lookup (made by code generation)");
      case Op::Normal:
        if (in.index != kEpsStream) not_expressible(f_, v, "a normal draw outside eps and noise");
        return operand("eps");
      default: break;
    }
    if (is_noise(in)) return operand("noise");
    if (eps_is_product_ && eps_product(in)) return operand("eps");
    std::vector<dsl::ExprPtr> args;
    for (int a = 0; a < arity(in.op); ++a) args.push_back(print(in.args[a]));
    if (in.op == Op::Div && in.imm != kDefaultDelta) args.push_back(number(in.imm));
    return Expr::make_call(fn_of(in.op), std::move(args));
  }

  static dsl::ExprPtr operand(std::string_view name) { return dsl::Expr::make_operand(dsl::find_operand(name)); }

  // Text has no literal for negatives, infinities or NaN: write expressions that fold back to them,
  // never higher (as dsl/parser.cpp counts heights) than the least that folds to them, which
  // kMaxHeight relies on: -x and log(0) = -inf are 2 high, as is exp(100) = inf (float32 overflows
  // past e^88.8); NaN needs 3 from any source (no call of literals gives it): log(0) - log(0).
  static dsl::ExprPtr number(float value) {
    using dsl::Expr;
    auto log_zero = [] { return Expr::make_call(Fn::Log, {Expr::make_number(0)}); };
    if (std::isnan(value)) return Expr::make_call(Fn::Sub, {log_zero(), log_zero()});
    if (std::isinf(value)) return value < 0 ? log_zero() : Expr::make_call(Fn::Exp, {Expr::make_number(100)});
    if (std::signbit(value)) return Expr::make_call(Fn::Neg, {Expr::make_number(-value)});
    return Expr::make_number(value);
  }

  const Function& f_;
  std::vector<dsl::ExprPtr> printed_ = std::vector<dsl::ExprPtr>(f_.body.size());  // per value, once
  dsl::Settings settings_;
  std::vector<char> seen_ = std::vector<char>(dsl::settings().size(), 0);  // per setting: set yet?
  bool eps_is_product_ = false;
};

}  // namespace

std::string dump(const Function& f) {
  std::string out = "rule " + (f.name.empty() ? std::string("<anonymous>") : f.name) + "\n";
  for (std::size_t s = 0; s < f.states.size(); ++s)
    out += "  s" + std::to_string(s) + " = " + slot_text(f.states[s]) + "\n";
  for (std::size_t t = 0; t < f.lookups.size(); ++t) {
    const LookupTable& table = f.lookups[t];
    out += "  t" + std::to_string(t) + " = lookup(<0: " + shortest(table.negative) + ", 0: " + shortest(table.zero) +
           ", >0: " + shortest(table.positive) + ", nan: " + shortest(table.nan) + ")\n";
  }
  for (std::size_t i = 0; i < f.body.size(); ++i) {
    std::string line = value_name(static_cast<Value>(i)) + " = " + instr_text(f.body[i]);
    line.append(line.size() < kTypeColumn ? kTypeColumn - line.size() : 0, ' ');
    out += "  " + line + "  " + (f.body[i].type == Type::Step ? "step" : "elem") + "\n";
  }
  return out + "  result " + value_name(f.result) + "\n";
}

std::string to_text(const Function& f) { return TextPrinter(f).run(); }

}  // namespace nos::ir
