#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>

#include "compiler/ir.h"

using namespace nos::ir;

TEST_CASE("ir: builder infers step and elem types") {
  Function f;
  Builder b(f);
  Value one = b.constant(1);
  Value ld = b.leaf(Op::Step, static_cast<std::uint32_t>(StepScalar::LinearDecay));
  Value s = b.apply(Fn::Add, one, ld);
  Value g = b.leaf(Op::Grad);
  f.result = b.apply(Fn::Mul, s, g);
  CHECK(f.body[s].type == Type::Step);
  CHECK(f.body[f.result].type == Type::Elem);
  CHECK_NOTHROW(verify(f));
  CHECK(needs_total_steps(f));
  CHECK(bytes_per_param(f) == 12);
}

TEST_CASE("ir: verify rejects use before definition") {
  Function f;
  f.body.push_back({Op::Neg, Type::Elem, {1, 0}, 0, 0});
  f.body.push_back({Op::Grad, Type::Elem, {}, 0, 0});
  CHECK_THROWS_AS(verify(f), std::logic_error);
}

TEST_CASE("ir: step scalars follow DSL.md") {
  CHECK(step_scalar(StepScalar::LinearDecay, 0, 25, 100) == doctest::Approx(0.75));
  CHECK(step_scalar(StepScalar::CyclicalDecay, 0.5f, 50, 100) == doctest::Approx(0.5));
  CHECK(step_scalar(StepScalar::CyclicalDecay, 0.5f, 100, 100) == doctest::Approx(0.0));
  CHECK(step_scalar(StepScalar::RestartDecay, 2.0f, 50, 100) == doctest::Approx(1.0));
  CHECK(step_scalar(StepScalar::NoiseStd, 0, 3, 100) == doctest::Approx(std::pow(4.0, -0.275)));
}
