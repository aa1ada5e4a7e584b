// The syntax tree of a rule file, as written: what the parser produces and the printer prints.
// The compiler lowers it to IR (compiler/lower.h); nothing here knows about kernels.
//
// A rule's body is a DAG, not only a tree: a named sub-expression (`x1 = g * m; x1 * x1`) and a
// token-form group result used twice (`o1 o1 id id mul`) are one shared node. Every stage walks
// it once per node (never once per path), so sizes stay linear in the text or the group count.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "dsl/diagnostic.h"
#include "dsl/vocabulary.h"

namespace nos::dsl {

// The one size limit of the language. Every stage after the parser recurses over a rule's tree, so
// the parser caps its height (parser.h); the cap is the height of the deepest rule the token form
// can write with kMaxGroups groups, each group adding a unary and a binary call (2 levels) over
// leaves that print back from the IR at most 3 levels high (adam is m / sqrt(v)). So every token
// rule the token reader accepts also prints as text that reads back, even after lowering.
inline constexpr int kMaxGroups = 256;
inline constexpr int kMaxHeight = 2 * kMaxGroups + 3;

struct Expr;
using ExprPtr = std::shared_ptr<const Expr>;

struct Expr {
  enum class Kind { Number, Operand, Constant, Call };
  Kind kind;
  SourceRange range;
  float number = 0;                     // Number: the literal's float32 value
  const OperandInfo* operand = nullptr;  // Operand
  std::string name;                     // Constant: a named constant bound by the rule's `with`
                                        // clause, or a setting's name (its value: Rule::settings)
  Fn fn = Fn::Id;                       // Call: also every infix operator and unary minus
  std::vector<ExprPtr> args;            // Call: value arguments; div may carry a third (its delta)

  static ExprPtr make_number(float value, SourceRange range = {});
  static ExprPtr make_operand(const OperandInfo* operand, SourceRange range = {});
  static ExprPtr make_constant(std::string name, SourceRange range = {});
  static ExprPtr make_call(Fn fn, std::vector<ExprPtr> args, SourceRange range = {});
};

// A `with` binding: a known setting (beta2 = 0.99, bias_correction = off) or a named constant
// (alpha = 2) that the rule's expression may use.
struct Binding {
  std::string name;
  float value;
  SourceRange range;
};

struct Rule {
  std::string name;          // empty for an anonymous rule
  ExprPtr body;
  std::vector<Binding> bindings;
  Settings settings;         // defaults overridden by the bindings that name settings
  SourceRange range;
};

struct Module {
  std::shared_ptr<const Source> source;
  std::vector<Rule> rules;
};

// Structural equality (ignores source ranges). Numbers compare bitwise (so -0 != 0), NaN == NaN.
bool equal(const Expr& a, const Expr& b);
// Same name, body and settings, and the same named constants in the same order. Bindings that
// name settings are compared through Rule::settings, since the printer drops those at defaults.
bool equal(const Rule& a, const Rule& b);
bool equal(const Module& a, const Module& b);  // rule by rule
bool same_float(float a, float b);             // the number comparison of equal()

}  // namespace nos::dsl
