#include "compiler/codegen/llvm/llvm_support.h"

#include <mutex>

#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/Support/TargetSelect.h>

namespace nos::codegen::cpu {

void check(llvm::Error error, const std::string& what) {
  if (!error) return;
  throw CodegenError(what + ": " + llvm::toString(std::move(error)));
}

void initialize_native_target() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser();
  });
}

const llvm::orc::JITTargetMachineBuilder& host_target_builder() {
  // Detected once per process: the host does not change, and detection (cpuid) is not free.
  static const llvm::orc::JITTargetMachineBuilder builder = [] {
    initialize_native_target();
    auto host = unwrap(llvm::orc::JITTargetMachineBuilder::detectHost(), "detecting the host CPU");
    host.setCodeGenOptLevel(llvm::CodeGenOpt::Aggressive);
    host.setRelocationModel(llvm::Reloc::PIC_);
    host.setCodeModel(llvm::CodeModel::Small);
    host.getOptions().AllowFPOpFusion = llvm::FPOpFusion::Strict;
    return host;
  }();
  return builder;
}

llvm::TargetMachine& host_target_machine() {
  thread_local std::unique_ptr<llvm::TargetMachine> machine;
  if (machine) return *machine;
  llvm::orc::JITTargetMachineBuilder builder = host_target_builder();  // createTargetMachine is not const
  machine = unwrap(builder.createTargetMachine(), "creating the host target machine");
  return *machine;
}

}  // namespace nos::codegen::cpu
