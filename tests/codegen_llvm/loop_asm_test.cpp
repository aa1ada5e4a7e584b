// The shape of the element loop in host assembly: whole vectors with plain loads and stores, the
// remainder in one loop of its own. Masked loads and stores run at half speed on some CPUs (AMD
// family 26 with AVX-512), so a tail folded into every iteration halves a memory-bound kernel.
// Which instructions exist depends on the host's features (AVX-512 masks, AVX vmaskmov, none),
// never on its CPU name.
#include <doctest/doctest.h>

#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

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

struct AsmLoop {
  std::vector<std::string> lines;  // from its label to its backward branch
};

// The loops of nos_kernel in AT&T syntax: a label and a later branch back to it.
std::vector<AsmLoop> kernel_loops(const std::string& assembly) {
  std::vector<std::string> lines;
  std::istringstream in(assembly);
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    if (line == "nos_kernel:") inside = true;
    if (!inside) continue;
    if (line.rfind(".Lfunc_end", 0) == 0) break;
    lines.push_back(line);
  }
  static const std::regex branch(R"(^\s*j\w+\s+(\.LBB\w+)\s*$)");
  std::vector<AsmLoop> loops;
  for (std::size_t j = 0; j < lines.size(); ++j) {
    std::smatch m;
    if (!std::regex_match(lines[j], m, branch)) continue;
    for (std::size_t l = 0; l < j; ++l)
      if (lines[l] == m[1].str() + ":") loops.push_back({{lines.begin() + l, lines.begin() + j + 1}});
  }
  return loops;
}

// A store of a whole vector register: an AVX instruction whose destination (the last AT&T
// operand) is memory, other than the scalar ones (vmovss, vmovd, vpextrw, ...) of a scalar loop.
bool is_vector_store(const std::string& line) {
  static const std::regex store(R"(^\s*v\w+\s+.*,\s*[^,\s]*\([^)]*\)(\s*\{%k[0-7]\})?\s*$)");
  static const std::regex scalar(R"(^\s*v(mov(ss|sd|sh|d|q|lps|hps|lpd|hpd)|pextr\w|extractps)\s)");
  return std::regex_match(line, store) && !std::regex_search(line, scalar);
}

// A store or load whose memory access is masked: AVX-512 moves with a mask register, AVX's
// vmaskmov and vpmaskmov. (A mask on an arithmetic result that reads a broadcast constant is not.)
bool is_masked_access(const std::string& line) {
  static const std::regex avx(R"(^\s*v(p)?maskmov)");
  static const std::regex masked_store(R"(,\s*[^,\s]*\([^)]*\)\s*\{%k[0-7]\}\s*$)");
  static const std::regex masked_load(R"(^\s*v(p)?mov\w*\s+[^,]*\([^)]*\)\s*,\s*%[xyz]mm\d+\s*\{%k[0-7]\})");
  return std::regex_search(line, avx) || std::regex_search(line, masked_store) ||
         std::regex_search(line, masked_load);
}

bool has(const AsmLoop& loop, bool (*test)(const std::string&)) {
  for (const std::string& line : loop.lines)
    if (test(line)) return true;
  return false;
}

// The main loop: stores vectors with neither masked loads nor masked stores. At most one other
// loop (the remainder) may mask its accesses.
void check_loop_shape(const std::string& assembly) {
  std::vector<AsmLoop> loops = kernel_loops(assembly);
  int plain_vector_loops = 0, masked_loops = 0;
  for (const AsmLoop& loop : loops) {
    bool masked = has(loop, is_masked_access);
    masked_loops += masked;
    plain_vector_loops += !masked && has(loop, is_vector_store);
  }
  CHECK(plain_vector_loops == 1);
  CHECK(masked_loops <= 1);
}

}  // namespace

TEST_CASE("llvm asm: the checkers recognize loops, stores and masked accesses") {
  std::string assembly =
      "nos_kernel:\n\tjle\t.LBB0_3\n.LBB0_2:\n\tvmovups\t(%rcx,%rsi,4), %zmm4\n"
      "\tvmovups\t%zmm4, (%rdx,%rsi,4)\n\tjne\t.LBB0_2\n.LBB0_3:\n\tretq\n.Lfunc_end0:\n";
  std::vector<AsmLoop> loops = kernel_loops(assembly);
  REQUIRE(loops.size() == 1);
  CHECK(loops[0].lines.size() == 4);
  CHECK(is_vector_store("\tvmovups\t%zmm4, (%rdx,%rsi,4)"));
  CHECK(is_vector_store("\tvpmovdw\t%zmm17, (%r14,%r13,2) {%k1}"));
  CHECK_FALSE(is_vector_store("\tvmovups\t(%rcx,%rsi,4), %zmm4"));
  CHECK_FALSE(is_vector_store("\tvmovss\t%xmm0, (%rax,%rcx,4)"));
  CHECK_FALSE(is_vector_store("\tvpextrw\t$0, %xmm0, (%rax,%rcx,2)"));
  CHECK(is_masked_access("\tvmovups\t%zmm4, (%rdx,%rsi,4) {%k1}"));
  CHECK(is_masked_access("\tvmovups\t(%rcx,%rsi,4), %zmm4 {%k1} {z}"));
  CHECK(is_masked_access("\tvmaskmovps\t%ymm0, %ymm1, (%rax)"));
  CHECK_FALSE(is_masked_access("\tvmovups\t%zmm4, (%rdx,%rsi,4)"));
  CHECK_FALSE(is_masked_access("\tvpord\t.LCPI0_8(%rip){1to16}, %zmm16, %zmm17 {%k1}"));
  CHECK_FALSE(is_masked_access("\tvblendmps\t%zmm1, %zmm2, %zmm3 {%k1}"));
}

TEST_CASE("llvm asm: the main loop has plain loads and stores, the remainder a loop of its own") {
  for (std::string rule : {"g", "adam", "rmsprop", "exp(sign(g) * sign(m)) * g", "drop(m, 0.3) * exp(w)",
                           "pow(g, v) + log(m)"}) {
    CAPTURE(rule);
    check_loop_shape(emit_asm(compile_rule(rule), DType::F32));
  }
  for (DType dtype : {DType::BF16, DType::F16}) {
    CAPTURE(name(dtype));
    check_loop_shape(emit_asm(compile_rule("adam"), dtype));
  }
}

TEST_CASE("llvm asm: random rules have a plain main loop too") {
  std::mt19937_64 rng(20);
  for (int r = 0; r < 40; ++r) {
    dsl::TokenSequence tokens = dsl::random_tokens(rng, 1 + static_cast<int>(rng() % 3));
    CAPTURE(dsl::print_tokens(tokens));
    check_loop_shape(emit_asm(ir::optimize(ir::lower(dsl::to_rule(tokens))), DType::F32));
  }
}

namespace {

// The host's enabled features are part of the kernel cache's target identity.
bool host_has_avx512() { return cpu_target_id().find("+avx512f,") != std::string::npos; }

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("llvm asm: cheap rules in 256-bit vectors, costly functions and random draws in the widest") {
  if (!host_has_avx512()) {
    MESSAGE("this host has no AVX-512: every rule uses its widest vectors, nothing to tell apart");
    return;
  }
  // PowerSign's exp of a product of signs is a table lookup (sign_lookup.cpp): cheap.
  for (std::string rule : {"g", "m", "exp(sign(g) * sign(m)) * g", "(1 + sign(g) * sign(m)) * g", "clip(g, 1e-3) - w"}) {
    CAPTURE(rule);
    std::string assembly = emit_asm(compile_rule(rule), DType::F32);
    CHECK(count(assembly, "%zmm") == 0);
    CHECK(count(assembly, "%ymm") > 0);
  }
  for (std::string rule : {"drop(m, 0.3)", "g + noise", "pow(g, v)", "adam", "rmsprop", "exp(g)"}) {
    CAPTURE(rule);
    CHECK(count(emit_asm(compile_rule(rule), DType::F32), "%zmm") > 0);
  }
}
