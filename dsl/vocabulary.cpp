#include "dsl/vocabulary.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <type_traits>
#include <vector>

#include "dsl/semantics.h"

namespace nos::dsl {
namespace {

// The C function's arity says how the interpreter calls it: f(a), f(a, b) or f(a, b, extra).
template <auto F>
float eval_of(float a, float b, float extra) {
  if constexpr (std::is_invocable_v<decltype(F), float>) return F(a);
  else if constexpr (std::is_invocable_v<decltype(F), float, float>) return F(a, b);
  else return F(a, b, extra);
}

constexpr FunctionInfo kFunctions[] = {
#define NOS_FUNCTION(id, name, arity, infix, precedence, commutative, c_function, extra, cost, tokens, aten, pytorch, meaning) \
  {Fn::id, name, arity, infix, precedence, commutative, #c_function, Extra::extra, Cost::cost, tokens,               \
   eval_of<c_function>, meaning},
#include "dsl/functions.def"
};
static_assert(std::size(kFunctions) == kNumFunctions);

// Derived operands are written in the language itself, over the primitives and the settings.
constexpr OperandInfo kOperands[] = {
    {"g", Primitive::G, "", true, "gradient"},
    {"g2", std::nullopt, "g * g", true, "g^2"},
    {"g3", std::nullopt, "g * g * g", true, "g^3"},
    {"m", Primitive::M, "", true, "moving average of g (beta1), bias-corrected"},
    {"v", Primitive::V, "", true, "moving average of g^2 (beta2), bias-corrected"},
    {"y", Primitive::Y, "", true, "moving average of g^3 (beta3), bias-corrected"},
    {"sign_g", std::nullopt, "sign(g)", true, "sign(g)"},
    {"sign_m", std::nullopt, "sign(m)", true, "sign(m)"},
    {"1", std::nullopt, "1", true, "the constant 1"},
    {"2", std::nullopt, "2", true, "the constant 2"},
    {"eps", Primitive::Eps, "", true, "noise N(0, eps_sigma^2), fresh per element and step"},
    {"w4", std::nullopt, "0.0001 * w", true, "1e-4 * w"},
    {"w3", std::nullopt, "0.001 * w", true, "1e-3 * w"},
    {"w2", std::nullopt, "0.01 * w", true, "1e-2 * w"},
    {"w1", std::nullopt, "0.1 * w", true, "1e-1 * w"},
    {"adam", std::nullopt, "div(m, sqrt(v), adam_eps)", true, "m / (sqrt(v) + adam_eps)"},
    {"rmsprop", std::nullopt, "div(g, sqrt(v), adam_eps)", true, "g / (sqrt(v) + adam_eps)"},
    {"ld", Primitive::LD, "", true, "linear decay 1 - t/T"},
    {"cd", Primitive::CD, "", true, "cyclical decay 0.5 (1 + cos(2 pi cd_n t / T))"},
    {"rd", Primitive::RD, "", true, "restart decay 0.5 (1 + cos(pi ((t rd_n) mod T) / T))"},
    {"noise", Primitive::Noise, "", true, "annealed noise N(0, 1 / (1 + t)^0.55)"},
    {"w", Primitive::W, "", false, "the parameter itself (text form only)"},
};

// The token form's per-slot lists: operands in table order, then each function's spellings in row
// order. A spelling `name:P` is a unary token for f(x, P).
struct TokenTables {
  std::vector<TokenInfo> slot[3];
  TokenTables() {
    for (const OperandInfo& o : kOperands)
      if (o.in_token_form) slot[0].push_back({o.name, Slot::Operand, &o, Fn::Id, std::nullopt});
    for (const FunctionInfo& f : kFunctions) {
      std::string_view rest = f.token_spellings;
      while (!rest.empty()) {
        std::size_t end = std::min(rest.find(' '), rest.size());
        std::string_view word = rest.substr(0, end);
        rest.remove_prefix(std::min(end + 1, rest.size()));
        if (word.empty()) continue;
        std::size_t colon = word.find(':');
        std::optional<float> param;
        if (colon != std::string_view::npos) param = std::stof(std::string(word.substr(colon + 1)));
        Slot s = (f.arity == 1 || param) ? Slot::Unary : Slot::Binary;
        slot[static_cast<int>(s)].push_back({word.substr(0, colon), s, nullptr, f.fn, param});
      }
    }
  }
};

const TokenTables& token_tables() {
  static const TokenTables tables;
  return tables;
}

constexpr SettingInfo kSettings[] = {
    {"beta1", &Settings::beta1, 0, 0.99999994f, false, "decay of m, the moving average of g"},
    {"beta2", &Settings::beta2, 0, 0.99999994f, false, "decay of v, the moving average of g^2"},
    {"beta3", &Settings::beta3, 0, 0.99999994f, false, "decay of y, the moving average of g^3"},
    {"bias_correction", &Settings::bias_correction, 0, 1, true, "divide m, v, y by (1 - beta^t)"},
    {"delta", &Settings::delta, 0, 1, false, "x / y means x / (y + delta)"},
    {"adam_eps", &Settings::adam_eps, 0, 1, false, "epsilon of the adam and rmsprop operands"},
    {"eps_sigma", &Settings::eps_sigma, 0, 1e6f, false, "standard deviation of eps"},
    {"cd_n", &Settings::cd_n, 0, 1e6f, false, "cycles of the cyclical decay cd"},
    {"rd_n", &Settings::rd_n, 0, 1e6f, false, "restarts of the restart decay rd"},
};

// Optimal-string-alignment distance: a swap of neighbours ("adma") costs 1, as typos do.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i)
    for (std::size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1])});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

}  // namespace

std::span<const FunctionInfo> functions() { return kFunctions; }
const FunctionInfo& info(Fn fn) { return kFunctions[static_cast<int>(fn)]; }

const FunctionInfo* find_function(std::string_view name) {
  for (const FunctionInfo& f : kFunctions)
    if (f.name == name) return &f;
  return nullptr;
}

const FunctionInfo* find_infix(std::string_view op) {
  for (const FunctionInfo& f : kFunctions)
    if (!f.infix.empty() && f.infix == op) return &f;
  return nullptr;
}

std::span<const OperandInfo> operands() { return kOperands; }

const OperandInfo* find_operand(std::string_view name) {
  for (const OperandInfo& o : kOperands)
    if (o.name == name) return &o;
  return nullptr;
}

std::span<const TokenInfo> tokens(Slot slot) {
  return token_tables().slot[static_cast<int>(slot)];
}

const TokenInfo* find_token(Slot slot, std::string_view spelling) {
  for (const TokenInfo& t : tokens(slot))
    if (t.spelling == spelling) return &t;
  return nullptr;
}

std::span<const SettingInfo> settings() { return kSettings; }

const SettingInfo* find_setting(std::string_view name) {
  for (const SettingInfo& s : kSettings)
    if (s.name == name) return &s;
  return nullptr;
}

std::optional<std::string_view> nearest_name(std::string_view unknown) {
  std::optional<std::string_view> best;
  std::size_t best_distance = std::max<std::size_t>(2, unknown.size() / 3) + 1;
  auto consider = [&](std::string_view name) {
    if (name.empty() || !(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_')) return;
    // The distance is at least the difference in length: a name of 1 MB is not compared letter
    // by letter with every name (8 s), only with those it could be near.
    std::size_t gap = unknown.size() > name.size() ? unknown.size() - name.size() : name.size() - unknown.size();
    if (gap >= best_distance) return;
    std::size_t d = edit_distance(unknown, name);
    if (d < best_distance) best_distance = d, best = name;
  };
  for (const FunctionInfo& f : kFunctions) consider(f.name);
  for (const OperandInfo& o : kOperands) consider(o.name);
  for (const SettingInfo& s : kSettings) consider(s.name);
  for (Slot slot : {Slot::Unary}) for (const TokenInfo& t : tokens(slot)) consider(t.spelling);
  return best;
}

}  // namespace nos::dsl
