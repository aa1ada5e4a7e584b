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

llvm::TargetMachine& host_target_machine() {
  thread_local std::unique_ptr<llvm::TargetMachine> machine;
  if (machine) return *machine;
  initialize_native_target();
  auto builder = unwrap(llvm::orc::JITTargetMachineBuilder::detectHost(), "detecting the host CPU");
  builder.setCodeGenOptLevel(llvm::CodeGenOpt::Aggressive);
  builder.setRelocationModel(llvm::Reloc::PIC_);
  builder.setCodeModel(llvm::CodeModel::Small);
  builder.getOptions().AllowFPOpFusion = llvm::FPOpFusion::Strict;
  machine = unwrap(builder.createTargetMachine(), "creating the host target machine");
  return *machine;
}

}  // namespace nos::codegen::cpu
