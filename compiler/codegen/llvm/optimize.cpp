#include "compiler/codegen/llvm/optimize.h"

#include <string>
#include <vector>

#include <llvm/IR/Verifier.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Transforms/IPO/AlwaysInliner.h>
#include <llvm/Transforms/IPO/GlobalDCE.h>
#include <llvm/Transforms/InstCombine/InstCombine.h>
#include <llvm/Transforms/Scalar/LICM.h>
#include <llvm/Transforms/Scalar/SimplifyCFG.h>
#include <llvm/Transforms/Vectorize/LoopVectorize.h>

#include "compiler/codegen/llvm/kernel_module.h"
#include "compiler/codegen/llvm/llvm_support.h"

namespace nos::codegen::cpu {
namespace {

// load_runtime reads the runtime lazily: read the bodies of what the kernel calls, and of what
// those call, and drop the other functions unread.
void materialize_runtime(llvm::Module& module) {
  for (bool more = true; more;) {
    std::vector<llvm::Function*> called;
    for (llvm::Function& fn : module)
      if (fn.isMaterializable() && !fn.use_empty()) called.push_back(&fn);
    for (llvm::Function* fn : called) check(fn->materialize(), "reading the kernel runtime bitcode");
    more = !called.empty();
  }
  for (llvm::Function& fn : llvm::make_early_inc_range(module))
    if (fn.isMaterializable()) fn.eraseFromParent();
  check(module.materializeAll(), "reading the kernel runtime bitcode");
}

}  // namespace

void optimize_kernel_module(llvm::Module& module, llvm::TargetMachine& target) {
  materialize_runtime(module);
  std::string problems;
  llvm::raw_string_ostream out(problems);
  if (llvm::verifyModule(module, &out)) throw CodegenError("invalid kernel module: " + out.str());

  // The runtime's functions exist only to be inlined: internal linkage lets the optimizer delete
  // the unused ones early, and alwaysinline leaves no call in the element loop to block the
  // vectorizer.
  for (llvm::Function& fn : module) {
    if (fn.isDeclaration() || fn.getName() == kKernelSymbol) continue;
    fn.setLinkage(llvm::GlobalValue::InternalLinkage);
    fn.removeFnAttr(llvm::Attribute::NoInline);
    fn.removeFnAttr(llvm::Attribute::OptimizeNone);
    fn.addFnAttr(llvm::Attribute::AlwaysInline);
  }
  for (llvm::GlobalVariable& global : module.globals())
    if (!global.isDeclaration()) global.setLinkage(llvm::GlobalValue::InternalLinkage);

  llvm::LoopAnalysisManager loops;
  llvm::FunctionAnalysisManager functions;
  llvm::CGSCCAnalysisManager sccs;
  llvm::ModuleAnalysisManager modules;
  llvm::PassBuilder builder(&target);
  builder.registerModuleAnalyses(modules);
  builder.registerCGSCCAnalyses(sccs);
  builder.registerFunctionAnalyses(functions);
  builder.registerLoopAnalyses(loops);
  builder.crossRegisterProxies(loops, functions, sccs, modules);
  // The runtime arrives optimized (clang -O2) and the kernel is one loop whose body is inlined
  // straight-line code, so the standard O2 pipeline's many passes add little to the ones below:
  // on sgd alone O2 costs 2.7 ms, twice this whole list, and it gave the same vector loop on adam,
  // powersign and pow/log rules (3% fewer instructions on rules with random draws). Inlining first
  // and dropping the unused runtime leaves one function to optimize.
  llvm::ModulePassManager pipeline;
  pipeline.addPass(llvm::AlwaysInlinerPass(/*InsertLifetime=*/false));
  pipeline.addPass(llvm::GlobalDCEPass());
  llvm::FunctionPassManager loop_pipeline;
  loop_pipeline.addPass(llvm::InstCombinePass());
  loop_pipeline.addPass(llvm::SimplifyCFGPass());
  // Step-typed work and anything else loop-invariant leaves the loop before vectorization.
  loop_pipeline.addPass(llvm::createFunctionToLoopPassAdaptor(llvm::LICMPass(llvm::LICMOptions()),
                                                              /*UseMemorySSA=*/true));
  loop_pipeline.addPass(llvm::LoopVectorizePass());
  loop_pipeline.addPass(llvm::InstCombinePass());
  loop_pipeline.addPass(llvm::SimplifyCFGPass());
  pipeline.addPass(llvm::createModuleToFunctionPassAdaptor(std::move(loop_pipeline)));
  pipeline.run(module, modules);
}

std::unique_ptr<llvm::Module> optimized_kernel_module(llvm::LLVMContext& context, const ir::Function& f,
                                                      DType dtype, llvm::TargetMachine& target) {
  std::unique_ptr<llvm::Module> module = build_kernel_module(context, f, dtype, target);
  optimize_kernel_module(*module, target);
  return module;
}

}  // namespace nos::codegen::cpu
