#include "compiler/lower.h"

#include <bit>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "compiler/structural_hash.h"
#include "dsl/parser.h"

namespace nos::ir {
namespace {

using dsl::Expr;
using dsl::Primitive;

// Derived operands are defined in DSL text by the vocabulary; parse each definition once.
const Expr& definition_of(const dsl::OperandInfo& operand) {
  static std::mutex mutex;
  static std::map<std::string_view, dsl::ExprPtr> cache;
  std::lock_guard lock(mutex);
  auto it = cache.find(operand.name);
  if (it == cache.end()) {
    std::string source = "<definition of " + std::string(operand.name) + ">";
    it = cache.emplace(operand.name, dsl::parse_rule(operand.definition, source).body).first;
  }
  return *it->second;
}

class Lowering {
 public:
  explicit Lowering(const dsl::Rule& rule) : rule_(rule), builder_(f_) {
    f_.name = rule.name;
    for (const dsl::Binding& b : rule.bindings) bound_.emplace(b.name, b.value);  // the first of a name
  }

  Function run() {
    f_.result = lower(*rule_.body);
    verify(f_);
    return std::move(f_);
  }

 private:
  // A node the tree shares (a definition, a token-form result) is lowered once: the body stays
  // linear in the nodes of the DAG, not in its paths.
  Value lower(const Expr& e) {
    if (auto done = lowered_.find(&e); done != lowered_.end()) return done->second;
    Value v = lower_node(e);
    lowered_.emplace(&e, v);
    return v;
  }

  Value lower_node(const Expr& e) {
    switch (e.kind) {
      case Expr::Kind::Number: return builder_.constant(e.number);
      case Expr::Kind::Constant: return builder_.constant(constant_named(e));
      case Expr::Kind::Operand: return lower_operand(*e.operand);
      case Expr::Kind::Call: return lower_call(e);
    }
    throw std::logic_error("unknown expression kind");
  }

  Value lower_call(const Expr& e) {
    if (e.fn == Fn::Id) return lower(*e.args.at(0));
    Value a = lower(*e.args.at(0));
    Value b = e.args.size() > 1 ? lower(*e.args[1]) : 0;
    switch (dsl::info(e.fn).extra) {
      case dsl::Extra::Delta: {
        float delta = e.args.size() > 2 ? constant_value(*e.args[2]) : rule_.settings.delta;
        return builder_.apply(e.fn, a, b, delta);
      }
      case dsl::Extra::Uniform: return builder_.apply(e.fn, a, b, 0, random_stream(constant_value(*e.args.back())));
      case dsl::Extra::None: break;
    }
    return builder_.apply(e.fn, a, b);
  }

  Value lower_operand(const dsl::OperandInfo& operand) {
    if (!operand.primitive) return lower(definition_of(operand));
    const dsl::Settings& s = rule_.settings;
    switch (*operand.primitive) {
      case Primitive::G: return builder_.leaf(Op::Grad);
      case Primitive::W: return builder_.leaf(Op::Weight);
      case Primitive::M: return builder_.leaf(Op::Mavg, slot(1, s.beta1));
      case Primitive::V: return builder_.leaf(Op::Mavg, slot(2, s.beta2));
      case Primitive::Y: return builder_.leaf(Op::Mavg, slot(3, s.beta3));
      case Primitive::LD: return step(StepScalar::LinearDecay, 0);
      case Primitive::CD: return step(StepScalar::CyclicalDecay, s.cd_n);
      case Primitive::RD: return step(StepScalar::RestartDecay, s.rd_n);
      case Primitive::Eps:
        return builder_.apply(Fn::Mul, builder_.constant(s.eps_sigma), builder_.leaf(Op::Normal, kEpsStream));
      case Primitive::Noise:
        return builder_.apply(Fn::Mul, step(StepScalar::NoiseStd, 0), builder_.leaf(Op::Normal, kNoiseStream));
    }
    throw std::logic_error("unknown primitive operand");
  }

  Value step(StepScalar kind, float param) {
    return builder_.leaf(Op::Step, static_cast<std::uint32_t>(kind), param);
  }

  // One slot per moving average; the rule's settings fix its beta and bias correction.
  std::uint32_t slot(int power, float beta) {
    for (std::size_t i = 0; i < f_.states.size(); ++i)
      if (f_.states[i].power == power) return static_cast<std::uint32_t>(i);
    f_.states.push_back({power, beta, rule_.settings.bias_correction != 0});
    return static_cast<std::uint32_t>(f_.states.size() - 1);
  }

  // A name from the rule's `with` clause, or a setting read by a vocabulary definition.
  float constant_named(const Expr& e) {
    if (auto b = bound_.find(e.name); b != bound_.end()) return b->second;
    if (const dsl::SettingInfo* s = dsl::find_setting(e.name)) return rule_.settings.*(s->field);
    throw std::logic_error("unbound constant '" + e.name + "' reached the lowering");
  }

  // div's explicit delta and drop's probability: the parser only admits constant expressions there.
  float constant_value(const Expr& e) {
    switch (e.kind) {
      case Expr::Kind::Number: return e.number;
      case Expr::Kind::Constant: return constant_named(e);
      case Expr::Kind::Call: {
        float a = constant_value(*e.args.at(0));
        float b = e.args.size() > 1 ? constant_value(*e.args[1]) : 0.0f;
        const dsl::FunctionInfo& fn = dsl::info(e.fn);
        float c = e.args.size() > 2 ? constant_value(*e.args[2]) : (fn.extra == dsl::Extra::Delta ? rule_.settings.delta : 0.0f);
        if (fn.draws_random()) break;
        return dsl::info(e.fn).eval(a, b, c);
      }
      case Expr::Kind::Operand: break;
    }
    throw dsl::Error({dsl::Severity::Error, nullptr, e.range, "the delta of div and the probability of drop must be constants"});
  }

  // A random function's stream (drop's mask) is keyed by its probability alone: drop(., P) draws
  // one uniform per element and step for each distinct P, as `eps` is one draw per rule. So the
  // same drop written twice is one draw, and neither the operand's form, the order of the rule nor
  // any optimization pass can change which mask a drop gets: the stream is stable by construction.
  static std::uint32_t random_stream(float probability) {
    Fnv1a h;
    h.add("drop-stream");
    h.add(static_cast<std::uint64_t>(std::bit_cast<std::uint32_t>(probability)));
    return kFirstDropStream + static_cast<std::uint32_t>(h.value() % (0xFFFFFFFFull - kFirstDropStream));
  }

  const dsl::Rule& rule_;
  Function f_;
  Builder builder_;
  std::unordered_map<const Expr*, Value> lowered_;
  std::unordered_map<std::string_view, float> bound_;  // `with` names: one lookup per use, not a scan
};

}  // namespace

Function lower(const dsl::Rule& rule) { return Lowering(rule).run(); }

}  // namespace nos::ir
