#include "compiler/emit/step_inputs.h"

#include <fmt/format.h>

#include <cmath>

namespace nos::compiler::emit_detail {

std::string double_literal(double x) {
  std::string s = fmt::format("{:.17g}", x);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

std::vector<std::string> step_input_expressions(const ir::Function& f, Language language) {
  const bool py = language == Language::Python;
  const char* cos = py ? "math.cos" : "std::cos";
  const char* fmod = py ? "math.fmod" : "std::fmod";
  const char* pi = py ? "math.pi" : "3.14159265358979323846";
  auto pow = [&](const std::string& a, const std::string& b) {
    return py ? fmt::format("({}) ** ({})", a, b) : fmt::format("std::pow({}, {})", a, b);
  };
  const char* t = py ? "float(t)" : "(double)t";
  // The same operations in the same order as ir::step_scalar and ir::step_inputs (ir.cpp).
  std::vector<std::string> out;
  for (const ir::Instr& in : f.body) {
    if (in.op != ir::Op::Step) continue;
    std::string param = double_literal(static_cast<double>(in.imm));
    switch (static_cast<ir::StepScalar>(in.index)) {
      case ir::StepScalar::LinearDecay: out.push_back(fmt::format("1.0 - {} / T", t)); break;
      case ir::StepScalar::CyclicalDecay:
        out.push_back(fmt::format("0.5 * (1.0 + {}(2.0 * {} * {} * {} / T))", cos, pi, param, t));
        break;
      case ir::StepScalar::RestartDecay:
        out.push_back(fmt::format("0.5 * (1.0 + {}({} * {}({} * {}, T) / T))", cos, pi, fmod, t, param));
        break;
      case ir::StepScalar::NoiseStd: out.push_back(pow(fmt::format("1.0 + {}", t), "-0.275")); break;
    }
  }
  for (const ir::StateSlot& s : f.states)
    out.push_back(s.bias_correction
                      ? fmt::format("1.0 / (1.0 - {})", pow(double_literal(static_cast<double>(s.beta)), t))
                      : std::string("1.0"));
  return out;
}

}  // namespace nos::compiler::emit_detail
