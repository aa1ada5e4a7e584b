// nosc compile: write a rule's kernel at one stage of code generation, or the rule as standalone source.
//   --target llvm | asm   (CPU: optimized LLVM IR, host assembly)
//   --target cuda | ptx | cubin   (GPU: CUDA C++ source, PTX, CUBIN for --arch)
//   --target pytorch | cpp | cuda-standalone   (source usable without NOS: compiler/emit/emit.h)
#include <unistd.h>

#include <cstdio>
#include <optional>

#include <fmt/format.h>

#include "compiler/codegen/kernel_abi.h"  // DType, also without any backend
#include "compiler/emit/emit.h"
#include "tools/nosc/commands.h"
#include "support/atomic_file.h"

#ifdef NOS_HAVE_LLVM
#include "compiler/codegen/llvm/cpu_backend.h"
#endif
#ifdef NOS_HAVE_CUDA
#include "compiler/codegen/cuda/cuda_codegen.h"
#include "compiler/codegen/cuda/nvrtc.h"
#endif

namespace nos::nosc {
namespace {

codegen::DType parse_dtype(const std::string& name) {
  for (codegen::DType d : {codegen::DType::F32, codegen::DType::BF16, codegen::DType::F16})
    if (name == codegen::name(d)) return d;
  throw UsageError(fmt::format("unknown --dtype '{}' (f32, bf16, f16)", name));
}

std::string generate(const ir::Function& f, const std::string& target, codegen::DType dtype, const std::string& arch) {
#ifdef NOS_HAVE_LLVM
  if (target == "llvm") return codegen::cpu::emit_llvm_ir(f, dtype);
  if (target == "asm") return codegen::cpu::emit_asm(f, dtype);
#endif
#ifdef NOS_HAVE_CUDA
  std::string source = codegen::cuda::kernel_source(f, dtype);
  if (target == "cuda") return source;
  if (target == "ptx" || target == "cubin") {
    auto kind = target == "ptx" ? codegen::cuda::ImageKind::Ptx : codegen::cuda::ImageKind::Cubin;
    codegen::cuda::CompiledImage image = codegen::cuda::compile(source, arch, kind);
    if (kind == codegen::cuda::ImageKind::Cubin && image.kind != kind)
      fmt::print(stderr, "nosc: note: NVRTC {} does not know {}; wrote PTX for {} (the driver compiles it for the device)\n",
                 codegen::cuda::nvrtc_version(), arch, image.arch);
    if (image.kind == codegen::cuda::ImageKind::Ptx && !image.image.empty() && image.image.back() == '\0')
      image.image.pop_back();  // the NUL is for cuModuleLoadData, not for a file
    return image.image;
  }
#endif
  (void)f, (void)dtype, (void)arch;
  bool cpu = target == "llvm" || target == "asm";
  throw UsageError(fmt::format("--target {} needs the {} backend, which this build lacks ({}=OFF)", target,
                               cpu ? "LLVM" : "CUDA", cpu ? "NOS_WITH_LLVM" : "NOS_WITH_CUDA"));
}

// A bad --arch is the user's mistake, found before any code is generated.
void check_arch(const std::string& target, const std::string& arch) {
  if (target != "ptx" && target != "cubin") return;
#ifdef NOS_HAVE_CUDA
  if (std::string problem = codegen::cuda::arch_problem(arch); !problem.empty())
    throw UsageError(fmt::format("--arch {}: {}", arch, problem));
#else
  (void)arch;
#endif
}

}  // namespace

void add_compile_command(CLI::App& app, Runner& run) {
  struct Options {
    tool::RuleOptions input;
    std::string target = "llvm";
    std::string arch = "sm_90";
    std::string dtype = "f32";
    std::string output;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "compile", "Write a rule's fused update kernel (LLVM IR, assembly, CUDA, PTX, CUBIN) or standalone source "
                 "(a PyTorch optimizer, host C++, a CUDA kernel with its launch notes)");
  add_rule_input(*cmd, o->input);
  cmd->add_option("--target", o->target,
                  "llvm | asm (CPU); cuda | ptx | cubin (GPU); pytorch (a torch.optim.Optimizer) | cpp (host C++17) | "
                  "cuda-standalone (the kernel with how to launch it): float32 source usable without NOS")
      ->check(CLI::IsMember({"llvm", "asm", "cuda", "ptx", "cubin", "pytorch", "cpp", "cuda-standalone"}))
      ->capture_default_str();
  cmd->add_option("--arch", o->arch, "GPU architecture for ptx/cubin, e.g. sm_80, sm_90")->capture_default_str();
  cmd->add_option("--dtype", o->dtype, "parameter and gradient type: f32, bf16, f16 (state is always f32)")
      ->capture_default_str();
  cmd->add_option("-o,--output", o->output, "write here instead of standard output");
  cmd->callback([&run, o] {
    run = [o] {
      codegen::DType dtype = parse_dtype(o->dtype);
      std::optional<compiler::EmitTarget> source_target = compiler::parse_emit_target(o->target);
      if (source_target && dtype != codegen::DType::F32)
        throw UsageError(fmt::format("--dtype {}: --target {} is float32 source (--dtype is for llvm, asm, cuda, ptx, cubin)",
                                     o->dtype, o->target));
      check_arch(o->target, o->arch);
      compiler::CompiledRule rule = compiler::compile_one(o->input.source());
      tool::print_warnings(rule);
      std::string code = source_target ? compiler::emit(rule, *source_target)
                                       : generate(rule.optimized, o->target, dtype, o->arch);
      if (o->output.empty()) {
        if (o->target == "cubin" && ::isatty(1)) throw UsageError("a CUBIN is binary: give -o FILE");
        std::fwrite(code.data(), 1, code.size(), stdout);  // checked when the tool flushes
        return int(kOk);
      }
      support::write_file_atomically(o->output, code, "-o");
      fmt::print(stderr, "nosc: wrote {} bytes to {}\n", code.size(), o->output);
      return int(kOk);
    };
  });
}

}  // namespace nos::nosc
