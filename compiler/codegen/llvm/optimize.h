// The kernel module's optimization: everything but nos_kernel internalized and force-inlined, then
// a short pipeline for the host around LLVM's loop vectorizer. No fast-math flag is ever
// set, so every transformation keeps the interpreter's float32 results.
#pragma once

#include <memory>

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Target/TargetMachine.h>

#include "compiler/codegen/kernel_abi.h"
#include "compiler/ir.h"

namespace nos::codegen::cpu {

// Verifies the module (a failure is a code generator bug: CodegenError) and optimizes it in place.
void optimize_kernel_module(llvm::Module& module, llvm::TargetMachine& target);

// build_kernel_module + optimize_kernel_module.
std::unique_ptr<llvm::Module> optimized_kernel_module(llvm::LLVMContext& context, const ir::Function& f,
                                                      DType dtype, llvm::TargetMachine& target);

}  // namespace nos::codegen::cpu
