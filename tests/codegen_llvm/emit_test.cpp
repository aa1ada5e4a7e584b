// What the backend emits: vectorized, call-free optimized IR, host assembly, relocatable objects
// that link later, and the errors of rules that do not fit the kernel ABI.
#include <doctest/doctest.h>

#include <random>
#include <regex>
#include <stdexcept>
#include <string>

#include "compiler/codegen/llvm/cpu_backend.h"
#include "compiler/lower.h"
#include "compiler/passes.h"
#include "differential.h"
#include "dsl/tokens.h"

using namespace nos;
using namespace nos::codegen;
using namespace nos::codegen::cpu;
using testing::compile_rule;

namespace {

// Calls other than LLVM intrinsics (llvm.sqrt, llvm.fabs, ...) would mean the runtime was not
// inlined, and scalarized vector loops.
bool has_real_call(const std::string& ir) {
  static const std::regex call(R"((call|invoke) [^@\n]*@(?!llvm\.))");
  return std::regex_search(ir, call);
}

bool has_vector_float_op(const std::string& ir) {
  static const std::regex vector(R"(= f(add|sub|mul|div) <(4|8|16) x float>)");
  return std::regex_search(ir, vector);
}

}  // namespace

TEST_CASE("llvm: sgd, adam, powersign and pow kernels are vectorized and call-free") {
  for (std::string rule : {"g", "adam", "exp(sign(g) * sign(m)) * g", "drop(m, 0.3) * exp(w)", "pow(g, v) + log(m)"}) {
    CAPTURE(rule);
    std::string ir = emit_llvm_ir(compile_rule(rule), DType::F32);
    CHECK(ir.find("define void @nos_kernel(") != std::string::npos);
    CHECK(has_vector_float_op(ir));
    CHECK_FALSE(has_real_call(ir));
    // No contraction licensed by flags; an explicit fma only where semantics.h writes one
    // (pow's double-precision polynomials), which rounds the same in every backend.
    CHECK(ir.find("fmuladd") == std::string::npos);
    CHECK((ir.find("llvm.fma") == std::string::npos) == (rule.find("pow") == std::string::npos));
    CHECK(ir.find(" fast ") == std::string::npos);
    CHECK(ir.find(" contract ") == std::string::npos);
  }
}

TEST_CASE("llvm: the checker above recognizes calls and scalar code") {
  CHECK(has_real_call("  %3 = call float @nos_exp(float %2)"));
  CHECK_FALSE(has_real_call("  %3 = call <8 x float> @llvm.sqrt.v8f32(<8 x float> %2)"));
  CHECK_FALSE(has_vector_float_op("  %3 = fmul float %1, %2"));
  CHECK(has_vector_float_op("  %3 = fmul <8 x float> %1, %2"));
}

TEST_CASE("llvm: random rules are vectorized and call-free") {
  std::mt19937_64 rng(99);
  for (int r = 0; r < 200; ++r) {
    dsl::TokenSequence tokens = dsl::random_tokens(rng, 1 + static_cast<int>(rng() % 3));
    std::string rule = dsl::print_tokens(tokens);
    CAPTURE(rule);
    std::string ir = emit_llvm_ir(ir::optimize(ir::lower(dsl::to_rule(tokens))), DType::F32);
    CHECK(has_vector_float_op(ir));
    CHECK_FALSE(has_real_call(ir));
  }
}

TEST_CASE("llvm: bf16 and f16 kernels are vectorized too") {
  for (DType dtype : {DType::BF16, DType::F16}) {
    CAPTURE(name(dtype));
    std::string ir = emit_llvm_ir(compile_rule("adam"), dtype);
    CHECK(has_vector_float_op(ir));
    CHECK_FALSE(has_real_call(ir));
  }
}

TEST_CASE("llvm: host assembly and objects") {
  ir::Function adam = compile_rule("adam");
  std::string assembly = emit_asm(adam, DType::F32);
  CHECK(assembly.find("nos_kernel:") != std::string::npos);
  std::string object = emit_object(adam, DType::F32);
  REQUIRE(object.size() > 4);
  CHECK(object.compare(0, 4, "\x7f" "ELF") == 0);
  bool linked = CpuKernel::load_object(object)->entry() != nullptr;
  CHECK(linked);
}

TEST_CASE("llvm: load_object rejects bytes that are not an object file") {
  CHECK_THROWS_AS(CpuKernel::load_object("not an object file"), CodegenError);
}

TEST_CASE("llvm: cpu_target_id names the CPU, LLVM and the runtime") {
  std::string id = cpu_target_id();
  CHECK(id.find("llvm-16") != std::string::npos);
  CHECK(id.find("runtime-") != std::string::npos);
  CHECK(id == cpu_target_id());
}

TEST_CASE("llvm: rules that do not fit the kernel ABI are rejected") {
  ir::Function f = compile_rule("g");
  // Four state slots: one more than KernelTensor has buffers for.
  for (int s = 0; s < 4; ++s) f.states.push_back({1, 0.5f + 0.1f * s, true});
  CHECK_THROWS_AS(emit_llvm_ir(f, DType::F32), std::invalid_argument);
  ir::Function bad;
  bad.body.push_back({ir::Op::Neg, ir::Type::Elem, {1, 0}, 0, 0});
  bad.body.push_back({ir::Op::Grad, ir::Type::Elem, {}, 0, 0});
  CHECK_THROWS_AS(emit_llvm_ir(bad, DType::F32), std::logic_error);
}
