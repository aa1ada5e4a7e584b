#include "dsl/vocabulary.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "dsl/semantics.h"

namespace nos::dsl {
namespace {

constexpr FunctionInfo kFunctions[] = {
    // fn        name    arity infix prec comm  c_function  extra           eval
    {Fn::Id,   "id",   1, "",  0, false, "nos_id",   Extra::None, [](float a, float, float) { return nos_id(a); }, "x"},
    {Fn::Neg,  "neg",  1, "",  0, false, "nos_neg",  Extra::None, [](float a, float, float) { return nos_neg(a); }, "-x"},
    {Fn::Exp,  "exp",  1, "",  0, false, "nos_exp",  Extra::None, [](float a, float, float) { return nos_exp(a); }, "e^x"},
    {Fn::Log,  "log",  1, "",  0, false, "nos_log",  Extra::None, [](float a, float, float) { return nos_log(a); }, "log|x|"},
    {Fn::Sqrt, "sqrt", 1, "",  0, false, "nos_sqrt", Extra::None, [](float a, float, float) { return nos_sqrt(a); }, "sqrt|x|"},
    {Fn::Sign, "sign", 1, "",  0, false, "nos_sign", Extra::None, [](float a, float, float) { return nos_sign(a); }, "sign(x), sign(0) = 0"},
    {Fn::Clip, "clip", 2, "",  0, false, "nos_clip", Extra::None, [](float a, float b, float) { return nos_clip(a, b); }, "x clamped to [-l, l]"},
    {Fn::Drop, "drop", 2, "",  0, false, "nos_drop", Extra::Uniform, [](float a, float b, float u) { return nos_drop(a, b, u); }, "0 with probability p, else x (no rescaling)"},
    {Fn::Add,  "add",  2, "+", 1, true,  "nos_add",  Extra::None, [](float a, float b, float) { return nos_add(a, b); }, "x + y"},
    {Fn::Sub,  "sub",  2, "-", 1, false, "nos_sub",  Extra::None, [](float a, float b, float) { return nos_sub(a, b); }, "x - y"},
    {Fn::Mul,  "mul",  2, "*", 2, true,  "nos_mul",  Extra::None, [](float a, float b, float) { return nos_mul(a, b); }, "x * y"},
    {Fn::Div,  "div",  2, "/", 2, false, "nos_div",  Extra::Delta, [](float a, float b, float d) { return nos_div(a, b, d); }, "x / (y + delta)"},
    {Fn::Pow,  "pow",  2, "^", 4, false, "nos_pow",  Extra::None, [](float a, float b, float) { return nos_pow(a, b); }, "sign(x) * |x|^y"},
    {Fn::Keep, "keep", 2, "",  0, false, "nos_keep", Extra::None, [](float a, float b, float) { return nos_keep(a, b); }, "x (keeps the left input)"},
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

struct TokenTables {
  std::vector<TokenInfo> slot[3];
  TokenTables() {
    for (const OperandInfo& o : kOperands)
      if (o.in_token_form) slot[0].push_back({o.name, Slot::Operand, &o, Fn::Id, std::nullopt});
    for (Fn fn : {Fn::Id, Fn::Neg, Fn::Exp, Fn::Log, Fn::Sqrt})
      slot[1].push_back({info(fn).name, Slot::Unary, nullptr, fn, std::nullopt});
    slot[1].push_back({"clip5", Slot::Unary, nullptr, Fn::Clip, 1e-5f});
    slot[1].push_back({"clip4", Slot::Unary, nullptr, Fn::Clip, 1e-4f});
    slot[1].push_back({"clip3", Slot::Unary, nullptr, Fn::Clip, 1e-3f});
    slot[1].push_back({"drop1", Slot::Unary, nullptr, Fn::Drop, 0.1f});
    slot[1].push_back({"drop3", Slot::Unary, nullptr, Fn::Drop, 0.3f});
    slot[1].push_back({"drop5", Slot::Unary, nullptr, Fn::Drop, 0.5f});
    slot[1].push_back({"sign", Slot::Unary, nullptr, Fn::Sign, std::nullopt});
    for (Fn fn : {Fn::Add, Fn::Sub, Fn::Mul, Fn::Div, Fn::Pow, Fn::Keep})
      slot[2].push_back({info(fn).name, Slot::Binary, nullptr, fn, std::nullopt});
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
