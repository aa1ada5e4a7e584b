// nosc compile: write a rule's kernel at one stage of code generation.
//   --target llvm | asm   (CPU: optimized LLVM IR, host assembly)
//   --target cuda | ptx | cubin   (GPU: CUDA C++ source, PTX, CUBIN for --arch)
#include <unistd.h>

#include <fstream>
#include <iostream>

#include "compiler/codegen/kernel_abi.h"  // DType, also without any backend
#include "compiler/nosc/commands.h"

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
  throw UsageError("unknown --dtype '" + name + "' (f32, bf16, f16)");
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
      std::cerr << "nosc: note: NVRTC " << codegen::cuda::nvrtc_version() << " does not know " << arch
                << "; wrote PTX for " << image.arch << " (the driver compiles it for the device)\n";
    if (image.kind == codegen::cuda::ImageKind::Ptx && !image.image.empty() && image.image.back() == '\0')
      image.image.pop_back();  // the NUL is for cuModuleLoadData, not for a file
    return image.image;
  }
#endif
  (void)f, (void)dtype, (void)arch;
  bool cpu = target == "llvm" || target == "asm";
  throw UsageError("--target " + target + " needs the " + (cpu ? "LLVM" : "CUDA") + " backend, which this build lacks (" +
                   (cpu ? "NOS_WITH_LLVM" : "NOS_WITH_CUDA") + "=OFF)");
}

}  // namespace

void add_compile_command(CLI::App& app, Runner& run) {
  struct Options {
    RuleInput input;
    std::string target = "llvm";
    std::string arch = "sm_90";
    std::string dtype = "f32";
    std::string output;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("compile", "Write a rule's fused update kernel (LLVM IR, assembly, CUDA, PTX, CUBIN)");
  o->input.add_options(*cmd, true);
  cmd->add_option("--target", o->target, "llvm | asm (CPU); cuda | ptx | cubin (GPU)")
      ->check(CLI::IsMember({"llvm", "asm", "cuda", "ptx", "cubin"}))
      ->capture_default_str();
  cmd->add_option("--arch", o->arch, "GPU architecture for ptx/cubin, e.g. sm_80, sm_90")->capture_default_str();
  cmd->add_option("--dtype", o->dtype, "parameter and gradient type: f32, bf16, f16 (state is always f32)")
      ->capture_default_str();
  cmd->add_option("-o,--output", o->output, "write here instead of standard output");
  cmd->callback([&run, o] {
    run = [o] {
      codegen::DType dtype = parse_dtype(o->dtype);
      LoadedRule loaded = load_one_rule(o->input);
      ir::Function f = compile_rule(loaded, true);
      std::string code = generate(f, o->target, dtype, o->arch);
      if (o->output.empty()) {
        if (o->target == "cubin" && ::isatty(1)) throw UsageError("a CUBIN is binary: give -o FILE");
        std::cout << code;
        return int(kOk);
      }
      std::ofstream out(o->output, std::ios::binary);
      if (!out.write(code.data(), static_cast<std::streamsize>(code.size())))
        throw UsageError("cannot write '" + o->output + "'");
      std::cerr << "nosc: wrote " << code.size() << " bytes to " << o->output << '\n';
      return int(kOk);
    };
  });
}

}  // namespace nos::nosc
