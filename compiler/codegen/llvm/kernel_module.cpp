#include "compiler/codegen/llvm/kernel_module.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <llvm/Analysis/TargetTransformInfo.h>
#include <llvm/Bitcode/BitcodeReader.h>
#include <llvm/IR/DataLayout.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/Support/MemoryBuffer.h>

#include "compiler/codegen/llvm/llvm_support.h"
#include "compiler/codegen/llvm/runtime_bitcode.h"
#include "compiler/passes.h"
#include "dsl/vocabulary.h"

namespace nos::codegen::cpu {
namespace {

// The vector width a rule's loop is compiled for: 256 bits when every operation is cheap (the loop
// streams memory), the target's widest (512 with AVX-512) when the rule has a costly function
// (functions.def's cost column: a transcendental, a square root, a division) or draws random
// numbers. On an AVX-512 host (AMD family 26, which LLVM 16 calls "unknown", so no tuning of its
// own applies) the 512-bit SGD loop moved 29 GB/s where the same loop in 256 bits moved 33, as
// LibTorch's 256-bit SGD does; but the costly parts take twice the instructions in 256 bits: Adam
// ran 10-25 % slower at 16M on one thread, a drop rule 18 %, the pow rule 12 % in L2. Clang and GCC
// prefer 256 bits on every AVX-512 CPU they tune for. docs/benchmarks.md.
int preferred_vector_bits(const ir::Function& f) {
  for (const ir::Instr& instr : f.body) {
    bool costly = ir::is_function(instr.op) && dsl::info(ir::fn_of(instr.op)).cost == dsl::Cost::Costly;
    if (costly || ir::draws_random(instr.op)) return 0;  // 0: the target's widest
  }
  return 256;
}

// Field numbers of kernel_abi.h's structs in their LLVM types below.
enum TensorField : unsigned { kTensorW, kTensorG, kTensorState, kTensorNumel, kTensorId, kTensorReserved };
enum StepField : unsigned { kStepLr, kStepT, kStepSeed, kStepInputs };

struct AbiTypes {
  llvm::StructType* tensor;
  llvm::StructType* step;
};

// kernel_abi.h's KernelTensor and KernelStep as LLVM sees them; the layout the target's data layout
// gives them is checked against the host compiler's, field by field.
AbiTypes abi_types(llvm::LLVMContext& c, const llvm::DataLayout& layout) {
  llvm::Type* ptr = llvm::PointerType::get(c, 0);
  llvm::Type* i32 = llvm::Type::getInt32Ty(c);
  llvm::Type* i64 = llvm::Type::getInt64Ty(c);
  llvm::Type* f32 = llvm::Type::getFloatTy(c);
  AbiTypes t;
  t.tensor = llvm::StructType::create(
      c, {ptr, ptr, llvm::ArrayType::get(ptr, kMaxStateSlots), i64, i32, i32}, "nos.KernelTensor");
  t.step = llvm::StructType::create(c, {f32, i32, i64, llvm::ArrayType::get(f32, kMaxStepInputs)},
                                    "nos.KernelStep");
  const llvm::StructLayout* tl = layout.getStructLayout(t.tensor);
  const llvm::StructLayout* sl = layout.getStructLayout(t.step);
  bool same = tl->getSizeInBytes() == sizeof(KernelTensor) &&
              tl->getElementOffset(kTensorW) == offsetof(KernelTensor, w) &&
              tl->getElementOffset(kTensorG) == offsetof(KernelTensor, g) &&
              tl->getElementOffset(kTensorState) == offsetof(KernelTensor, state) &&
              tl->getElementOffset(kTensorNumel) == offsetof(KernelTensor, numel) &&
              tl->getElementOffset(kTensorId) == offsetof(KernelTensor, tensor_id) &&
              sl->getSizeInBytes() == sizeof(KernelStep) &&
              sl->getElementOffset(kStepLr) == offsetof(KernelStep, lr) &&
              sl->getElementOffset(kStepT) == offsetof(KernelStep, t) &&
              sl->getElementOffset(kStepSeed) == offsetof(KernelStep, seed) &&
              sl->getElementOffset(kStepInputs) == offsetof(KernelStep, inputs);
  if (!same) throw CodegenError("kernel_abi.h structs have a different layout under the LLVM target");
  return t;
}

std::unique_ptr<llvm::Module> load_runtime(llvm::LLVMContext& context, const llvm::TargetMachine& target) {
  std::string_view bitcode = runtime_bitcode();
  llvm::MemoryBufferRef buffer(llvm::StringRef(bitcode.data(), bitcode.size()), "nos_kernel_runtime");
  // Read lazily: a kernel calls a few of the runtime's functions, and only their bodies are read
  // (optimize_kernel_module), not the whole runtime on every compile.
  auto module = unwrap(llvm::getLazyBitcodeModule(buffer, context), "reading the kernel runtime bitcode");
  // clang compiled the runtime for a generic CPU; everything is retargeted to this host so the
  // vectorizer sees its full vector width.
  module->setTargetTriple(target.getTargetTriple().str());
  module->setDataLayout(target.createDataLayout());
  for (llvm::Function& fn : *module) {
    fn.removeFnAttr("target-cpu");
    fn.removeFnAttr("target-features");
    fn.removeFnAttr("tune-cpu");
  }
  return module;
}

// Emits nos_kernel and the element loop it calls into a module holding the runtime.
class KernelEmitter {
 public:
  KernelEmitter(llvm::Module& module, const ir::Function& f, DType dtype, const llvm::TargetMachine& target)
      : m_(module), f_(f), dtype_(dtype), target_(target), c_(module.getContext()), b_(c_),
        abi_(abi_types(c_, module.getDataLayout())) {}

  void emit() {
    llvm::Function* update = emit_update();
    llvm::Type* ptr = llvm::PointerType::get(c_, 0);
    auto* type = llvm::FunctionType::get(
        b_.getVoidTy(), {ptr, b_.getInt32Ty(), b_.getInt64Ty(), b_.getInt64Ty(), ptr}, false);
    auto* kernel = llvm::Function::Create(type, llvm::Function::ExternalLinkage, kKernelSymbol, m_);
    set_attributes(*kernel);
    b_.SetInsertPoint(llvm::BasicBlock::Create(c_, "entry", kernel));
    llvm::Value* tensors = kernel->getArg(0);
    llvm::Value* index = b_.CreateZExt(kernel->getArg(1), b_.getInt64Ty());
    llvm::Value* tensor = b_.CreateInBoundsGEP(abi_.tensor, tensors, index, "tensor");
    auto field = [&](std::vector<unsigned> path, llvm::Type* type, const char* name) {
      std::vector<llvm::Value*> indices{b_.getInt32(0)};
      for (unsigned p : path) indices.push_back(b_.getInt32(p));
      return b_.CreateLoad(type, b_.CreateInBoundsGEP(abi_.tensor, tensor, indices), name);
    };
    std::vector<llvm::Value*> args{field({kTensorW}, ptr, "w"), field({kTensorG}, ptr, "g")};
    for (unsigned s = 0; s < f_.states.size(); ++s) args.push_back(field({kTensorState, s}, ptr, "state"));
    args.push_back(kernel->getArg(2));
    args.push_back(kernel->getArg(3));
    args.push_back(kernel->getArg(4));
    args.push_back(field({kTensorId}, b_.getInt32Ty(), "tensor_id"));
    b_.CreateCall(update, args);
    b_.CreateRetVoid();
  }

 private:
  // void update(ptr noalias w, ptr noalias g, ptr noalias state..., i64 begin, i64 end,
  //             ptr noalias step, i32 tensor_id)
  // A separate function only for its noalias parameters: inlining turns them into alias scopes,
  // which lets the loop vectorizer run without runtime overlap checks.
  llvm::Function* emit_update() {
    llvm::Type* ptr = llvm::PointerType::get(c_, 0);
    std::vector<llvm::Type*> params(2 + f_.states.size(), ptr);
    params.insert(params.end(), {b_.getInt64Ty(), b_.getInt64Ty(), ptr, b_.getInt32Ty()});
    auto* type = llvm::FunctionType::get(b_.getVoidTy(), params, false);
    auto* fn = llvm::Function::Create(type, llvm::Function::InternalLinkage, "nos_update_elements", m_);
    set_attributes(*fn);
    fn->addFnAttr(llvm::Attribute::AlwaysInline);
    std::size_t n_ptr = 2 + f_.states.size();
    for (unsigned a = 0; a < n_ptr; ++a) fn->addParamAttr(a, llvm::Attribute::NoAlias);
    fn->addParamAttr(n_ptr + 2, llvm::Attribute::NoAlias);
    fn->addParamAttr(n_ptr + 2, llvm::Attribute::ReadOnly);

    llvm::Value* begin = fn->getArg(n_ptr);
    llvm::Value* end = fn->getArg(n_ptr + 1);
    llvm::Value* step = fn->getArg(n_ptr + 2);
    llvm::Value* tensor_id = fn->getArg(n_ptr + 3);

    auto* entry = llvm::BasicBlock::Create(c_, "entry", fn);
    auto* split = llvm::BasicBlock::Create(c_, "split", fn);
    auto* main_loop = llvm::BasicBlock::Create(c_, "main", fn);
    auto* tail_check = llvm::BasicBlock::Create(c_, "tail_check", fn);
    auto* tail_loop = llvm::BasicBlock::Create(c_, "tail", fn);
    auto* exit = llvm::BasicBlock::Create(c_, "exit", fn);

    // Per-step values, computed once per call: lr, the Step and bias-correction inputs (in
    // ir::StepInputs order), step-typed instructions, one random key per stream.
    b_.SetInsertPoint(entry);
    auto step_field = [&](std::vector<unsigned> path, llvm::Type* type, const llvm::Twine& name) {
      std::vector<llvm::Value*> indices{b_.getInt32(0)};
      for (unsigned p : path) indices.push_back(b_.getInt32(p));
      return b_.CreateLoad(type, b_.CreateInBoundsGEP(abi_.step, step, indices), name);
    };
    llvm::Value* lr = step_field({kStepLr}, b_.getFloatTy(), "lr");
    values_.assign(f_.body.size(), nullptr);
    unsigned next_input = 0;
    for (std::size_t k = 0; k < f_.body.size(); ++k) {
      const ir::Instr& in = f_.body[k];
      if (in.op == ir::Op::Step) values_[k] = step_field({kStepInputs, next_input++}, b_.getFloatTy(), "step");
    }
    bias_correction_.clear();
    for (std::size_t s = 0; s < f_.states.size(); ++s)
      bias_correction_.push_back(step_field({kStepInputs, next_input++}, b_.getFloatTy(), "bias_correction"));
    for (std::size_t k = 0; k < f_.body.size(); ++k)
      if (f_.body[k].type == ir::Type::Step && f_.body[k].op != ir::Op::Step) values_[k] = emit_instr(f_.body[k], nullptr);
    llvm::Value* seed = step_field({kStepSeed}, b_.getInt64Ty(), "seed");
    llvm::Value* t = step_field({kStepT}, b_.getInt32Ty(), "t");
    for (const ir::Instr& in : f_.body)
      if (ir::draws_random(in.op) && !keys_.count(in.index))
        keys_[in.index] = call("nos_rng_key", {seed, t, tensor_id, b_.getInt32(in.index)});
    b_.CreateCondBr(b_.CreateICmpSLT(begin, end), split, exit);

    // Whole vectors first: [begin, main_end) holds a multiple of the widest vector's lane count,
    // so the vectorizer's scalar remainder of the main loop is provably empty and folds away,
    // leaving plain loads and stores. The remainder, fewer elements than one vector, is a scalar
    // loop: it runs once per range, and a masked vector loop there compiled 1.5-2x slower on
    // random rules for nothing measurable.
    b_.SetInsertPoint(split);
    llvm::Value* whole = b_.CreateAnd(b_.CreateSub(end, begin), b_.getInt64(-max_lanes(*fn)), "whole");
    llvm::Value* main_end = b_.CreateAdd(begin, whole, "main_end", /*HasNUW=*/true, /*HasNSW=*/true);
    b_.CreateCondBr(b_.CreateICmpEQ(whole, b_.getInt64(0)), tail_check, main_loop);
    emit_loop(*fn, main_loop, split, begin, main_end, tail_check, lr, loop_hints(/*vectorize=*/true));

    b_.SetInsertPoint(tail_check);
    b_.CreateCondBr(b_.CreateICmpEQ(main_end, end), exit, tail_loop);
    emit_loop(*fn, tail_loop, tail_check, main_end, end, exit, lr, loop_hints(/*vectorize=*/false));

    b_.SetInsertPoint(exit);
    b_.CreateRetVoid();
    return fn;
  }

  // The element loop over [from, to), from < to, in block `loop` entered from `preheader`: states
  // first (mavg reads this step's average), then the body in order.
  void emit_loop(llvm::Function& fn, llvm::BasicBlock* loop, llvm::BasicBlock* preheader, llvm::Value* from,
                 llvm::Value* to, llvm::BasicBlock* exit, llvm::Value* lr, llvm::MDNode* hints) {
    b_.SetInsertPoint(loop);
    llvm::PHINode* i = b_.CreatePHI(b_.getInt64Ty(), 2, "i");
    i->addIncoming(from, preheader);
    llvm::Value* w_ptr = fn.getArg(0);
    g_ = load_element(fn.getArg(1), i, "g");
    w_ = load_element(w_ptr, i, "w");
    mavg_.clear();
    for (unsigned s = 0; s < f_.states.size(); ++s) {
      llvm::Value* slot = b_.CreateInBoundsGEP(b_.getFloatTy(), fn.getArg(2 + s), i);
      llvm::Value* power = g_;
      for (int p = 1; p < f_.states[s].power; ++p) power = b_.CreateFMul(power, g_);
      llvm::Value* old = b_.CreateLoad(b_.getFloatTy(), slot, "state");
      llvm::Value* average = call("nos_mavg", {old, power, constant(f_.states[s].beta)});
      b_.CreateStore(average, slot);
      mavg_.push_back(b_.CreateFMul(average, bias_correction_[s]));
    }
    for (std::size_t k = 0; k < f_.body.size(); ++k)
      if (f_.body[k].type == ir::Type::Elem) values_[k] = emit_instr(f_.body[k], i);
    llvm::Value* w_new = b_.CreateFSub(w_, b_.CreateFMul(lr, values_[f_.result]), "w_new");
    store_element(w_new, w_ptr, i);
    llvm::Value* next = b_.CreateAdd(i, b_.getInt64(1), "next", /*HasNUW=*/true, /*HasNSW=*/true);
    i->addIncoming(next, loop);
    llvm::BranchInst* latch = b_.CreateCondBr(b_.CreateICmpEQ(next, to), exit, loop);
    latch->setMetadata(llvm::LLVMContext::MD_loop, hints);
  }

  // Lanes of a float in the target's widest vector register (16 with AVX-512, 8 with AVX2, 4
  // with SSE or NEON): no vector factor the vectorizer picks for a float loop exceeds it.
  std::int64_t max_lanes(const llvm::Function& fn) {
    llvm::TargetTransformInfo tti = target_.getTargetTransformInfo(fn);
    auto bits = tti.getRegisterBitWidth(llvm::TargetTransformInfo::RGK_FixedWidthVector).getFixedValue();
    return std::max<std::int64_t>(1, static_cast<std::int64_t>(bits / 32));
  }

  // The main loop: vectorized with no interleaving, and no tail folding, which would mask every
  // load and store (half speed on AMD family 26: 29 against 58 GB/s for an SGD step). The
  // remainder loop: not vectorized.
  llvm::MDNode* loop_hints(bool vectorize) {
    auto hint = [&](const char* name, llvm::Constant* value) {
      return llvm::MDNode::get(c_, {llvm::MDString::get(c_, name), llvm::ConstantAsMetadata::get(value)});
    };
    std::vector<llvm::Metadata*> hints{nullptr, hint("llvm.loop.vectorize.enable", b_.getInt1(vectorize))};
    if (vectorize) hints.push_back(hint("llvm.loop.interleave.count", b_.getInt32(1)));
    llvm::MDNode* node = llvm::MDNode::getDistinct(c_, hints);
    node->replaceOperandWith(0, node);  // loop metadata starts with a reference to itself
    return node;
  }

  // One instruction; `i` is the element index (null for step-typed instructions).
  llvm::Value* emit_instr(const ir::Instr& in, llvm::Value* i) {
    auto arg = [&](int a) { return values_.at(in.args[a]); };
    switch (in.op) {
      case ir::Op::Const: return constant(in.imm);
      case ir::Op::Grad: return g_;
      case ir::Op::Weight: return w_;
      case ir::Op::Mavg: return mavg_.at(in.index);
      case ir::Op::Normal: return call("nos_normal", {keys_.at(in.index), i});
      case ir::Op::Step: throw std::logic_error("step inputs are loaded before the loop");
      case ir::Op::Lookup: {
        const ir::LookupTable& t = f_.lookups.at(in.index);
        return call("nos_sign_lookup", {arg(0), constant(t.negative), constant(t.zero), constant(t.positive), constant(t.nan)});
      }
      default: break;
    }
    const dsl::FunctionInfo& info = dsl::info(ir::fn_of(in.op));
    std::vector<llvm::Value*> args;
    for (int a = 0; a < info.arity; ++a) args.push_back(arg(a));
    if (info.extra == dsl::Extra::Delta) args.push_back(constant(in.imm));
    if (info.extra == dsl::Extra::Uniform) args.push_back(call("nos_uniform", {keys_.at(in.index), i}));
    return call(info.c_function, args);
  }

  llvm::Value* load_element(llvm::Value* base, llvm::Value* i, const char* name) {
    if (dtype_ == DType::F32) return b_.CreateLoad(b_.getFloatTy(), b_.CreateInBoundsGEP(b_.getFloatTy(), base, i), name);
    llvm::Value* bits = b_.CreateLoad(b_.getInt16Ty(), b_.CreateInBoundsGEP(b_.getInt16Ty(), base, i));
    return call(dtype_ == DType::BF16 ? "nos_bf16_to_f32" : "nos_f16_to_f32", {bits});
  }

  void store_element(llvm::Value* value, llvm::Value* base, llvm::Value* i) {
    if (dtype_ == DType::F32) {
      b_.CreateStore(value, b_.CreateInBoundsGEP(b_.getFloatTy(), base, i));
      return;
    }
    llvm::Value* bits = call(dtype_ == DType::BF16 ? "nos_f32_to_bf16" : "nos_f32_to_f16", {value});
    b_.CreateStore(bits, b_.CreateInBoundsGEP(b_.getInt16Ty(), base, i));
  }

  // A call of a kernel runtime function by its semantics.h name, with the callee's ABI attributes.
  llvm::Value* call(std::string_view name, const std::vector<llvm::Value*>& args) {
    llvm::Function* callee = m_.getFunction(llvm::StringRef(name.data(), name.size()));
    if (!callee || callee->isDeclaration())
      throw CodegenError("the kernel runtime does not define " + std::string(name));
    llvm::CallInst* result = b_.CreateCall(callee, args);
    result->setAttributes(callee->getAttributes());
    return result;
  }

  llvm::Constant* constant(float value) { return llvm::ConstantFP::get(b_.getFloatTy(), value); }

  void set_attributes(llvm::Function& fn) {
    fn.addFnAttr(llvm::Attribute::NoUnwind);
    fn.addFnAttr("target-cpu", target_.getTargetCPU());
    fn.addFnAttr("target-features", target_.getTargetFeatureString());
    if (int bits = preferred_vector_bits(f_)) fn.addFnAttr("prefer-vector-width", std::to_string(bits));
  }

  llvm::Module& m_;
  const ir::Function& f_;
  DType dtype_;
  const llvm::TargetMachine& target_;
  llvm::LLVMContext& c_;
  llvm::IRBuilder<> b_;
  AbiTypes abi_;
  std::vector<llvm::Value*> values_;      // per instruction of f_.body
  std::vector<llvm::Value*> mavg_;        // per state slot: this step's bias-corrected average
  std::vector<llvm::Value*> bias_correction_;  // per state slot, loaded once per call
  std::map<std::uint32_t, llvm::Value*> keys_;  // per random stream
  llvm::Value* g_ = nullptr;
  llvm::Value* w_ = nullptr;
};

void check_fits_abi(const ir::Function& f) {
  std::size_t steps = 0;
  for (const ir::Instr& in : f.body) steps += in.op == ir::Op::Step;
  if (f.states.size() > static_cast<std::size_t>(kMaxStateSlots))
    throw std::invalid_argument("rule '" + f.name + "' needs " + std::to_string(f.states.size()) +
                                " state slots; kernels have " + std::to_string(kMaxStateSlots));
  if (steps + f.states.size() > static_cast<std::size_t>(kMaxStepInputs))
    throw std::invalid_argument("rule '" + f.name + "' needs " + std::to_string(steps + f.states.size()) +
                                " step inputs; kernels have " + std::to_string(kMaxStepInputs));
}

}  // namespace

std::unique_ptr<llvm::Module> build_kernel_module(llvm::LLVMContext& context, const ir::Function& f,
                                                  DType dtype, const llvm::TargetMachine& target) {
  ir::verify(f);
  check_fits_abi(f);
  const ir::Function lowered = ir::lower_sign_lookups(f);
  std::unique_ptr<llvm::Module> module = load_runtime(context, target);
  module->setModuleIdentifier(f.name.empty() ? "nos_rule" : f.name);
  KernelEmitter(*module, lowered, dtype, target).emit();
  return module;
}

}  // namespace nos::codegen::cpu
