// The one vocabulary table of the update-rule language (../shared/reference/DSL.md).
//
// Every other part of NOS reads the language from here: the lexer and parser (names, arities,
// operators), the printers, the token form and its random generator (per-slot token lists), the
// IR lowering (operand definitions), the interpreter (reference semantics), both code generators
// (C function names from semantics.h) and the controller's output heads (slot sizes).
// Adding a function is one row in functions.def plus its function in semantics.h and its tests
// (docs/adding-a-function.md).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace nos::dsl {

// ---- Functions -------------------------------------------------------------------------------

// The version of the language's meaning. Canonical hashes carry it: bump it when the meaning of
// an existing spelling changes (a function's semantics, an operand's definition, a default
// setting), so that stored results of the old meaning are never taken for the new one.
inline constexpr int kLanguageVersion = 1;

// ---- Functions (rows in functions.def) -------------------------------------------------------

enum class Fn : std::uint8_t {
#define NOS_FUNCTION(id, ...) id,
#include "dsl/functions.def"
};
inline constexpr int kNumFunctions = 0
#define NOS_FUNCTION(...) +1
#include "dsl/functions.def"
    ;

// What a function needs besides its value arguments.
enum class Extra : std::uint8_t {
  None,
  Delta,    // div: the guard delta in x / (y + delta), an immediate
  Uniform,  // drop: one uniform random draw per element, from the function's own stream
};

// Whether a function is worth replacing by a table when its argument can only be a product of
// signs (transcendentals, division): the sign-lookup pass's cost model.
enum class Cost : std::uint8_t { Cheap, Costly };

struct FunctionInfo {
  Fn fn;
  std::string_view name;        // call spelling in the text form, e.g. exp(x), clip(x, L)
  int arity;                    // value arguments (text form and IR)
  std::string_view infix;       // "+", "-", "*", "/", "^", or empty when only a call
  int precedence;               // of the infix form: + - 1, * / 2, unary minus 3, ^ 4
  bool commutative;
  std::string_view c_function;  // its name in semantics.h, used by the C++/CUDA code generator
  Extra extra;
  Cost cost;
  std::string_view token_spellings;  // "clip5:1e-5 clip4:1e-4 ...": see functions.def
  float (*eval)(float a, float b, float extra);  // reference semantics (calls semantics.h)
  std::string_view meaning;

  bool draws_random() const { return extra == Extra::Uniform; }
};

std::span<const FunctionInfo> functions();
const FunctionInfo& info(Fn fn);
const FunctionInfo* find_function(std::string_view name);
const FunctionInfo* find_infix(std::string_view op);

inline constexpr int kUnaryMinusPrecedence = 3;

// ---- Operands --------------------------------------------------------------------------------

// Operands the compiler lowers itself; every other operand is defined in DSL text over these.
enum class Primitive : std::uint8_t { G, W, M, V, Y, LD, CD, RD, Eps, Noise };

struct OperandInfo {
  std::string_view name;        // text-form name, also its token spelling
  std::optional<Primitive> primitive;
  std::string_view definition;  // DSL text over primitives and settings, for derived operands
  bool in_token_form;           // `w` is text-only: the controller never samples it
  std::string_view meaning;
};

std::span<const OperandInfo> operands();
const OperandInfo* find_operand(std::string_view name);

// ---- Token form ------------------------------------------------------------------------------

// A group is 5 tokens `op1 op2 u1 u2 b`, read b(u1(op1), u2(op2)); each position has its own list.
enum class Slot : std::uint8_t { Operand, Unary, Binary };
inline constexpr Slot kGroupSlots[5] = {Slot::Operand, Slot::Operand, Slot::Unary, Slot::Unary,
                                        Slot::Binary};

struct TokenInfo {
  std::string_view spelling;  // e.g. "sign_m", "clip4", "div"
  Slot slot;
  const OperandInfo* operand;  // Slot::Operand: the operand (literals 1 and 2 included)
  Fn fn;                       // Slot::Unary / Slot::Binary: the function
  std::optional<float> param;  // clip4 -> clip(x, 1e-4), drop3 -> drop(x, 0.3)
};

// The tokens of one slot, in id order. Operand slots also accept the results of earlier groups,
// with ids tokens(Slot::Operand).size() + k for group k (0-based), spelled o1, o2, ...
std::span<const TokenInfo> tokens(Slot slot);
const TokenInfo* find_token(Slot slot, std::string_view spelling);

// ---- Settings (hyperparameters a rule can set in its text) -----------------------------------

struct Settings {
  float beta1 = 0.9f;          // m: moving average of g
  float beta2 = 0.999f;        // v: moving average of g^2
  float beta3 = 0.999f;        // y: moving average of g^3
  float bias_correction = 1;   // 1: m, v, y are bias-corrected; 0: raw averages
  float delta = 1e-8f;         // x / y means x / (y + delta)
  float adam_eps = 1e-8f;      // adam = m / (sqrt(v) + adam_eps), likewise rmsprop
  float eps_sigma = 0.01f;     // eps ~ N(0, eps_sigma^2)
  float cd_n = 0.5f;           // cycles of the cyclical decay cd over the run
  float rd_n = 1.0f;           // restarts of the restart decay rd over the run
};

struct SettingInfo {
  std::string_view name;
  float Settings::*field;
  float min, max;              // valid closed range
  bool is_switch;              // written on/off (also true/false/1/0)
  std::string_view meaning;
};

std::span<const SettingInfo> settings();
const SettingInfo* find_setting(std::string_view name);

// Every name the text form knows (functions, operands, settings): for "did you mean" hints.
std::optional<std::string_view> nearest_name(std::string_view unknown);

}  // namespace nos::dsl
