#include <doctest/doctest.h>

#include <functional>

#include "compiler/passes.h"
#include "compiler/printer.h"
#include "pass_testing.h"

using namespace nos::ir;
using nos::ir::testing::Ir;

namespace {

Function build(const std::function<Value(Ir&)>& make, std::string name = "t") {
  Ir ir(std::move(name));
  return ir.done(make(ir));
}

std::uint64_t hash_of(const Function& f) { return canonical_hash(canonicalize(f)); }

}  // namespace

TEST_CASE("canonicalize: golden dump, post-order from the result, slots by first use") {
  Function f = build([](Ir& ir) {
    Value v = ir.v(), m = ir.m(), g = ir.g();
    (void)ir.exp(g);  // unreachable: not part of the canonical form
    return ir.sub(ir.div(m, ir.sqrt(v)), ir.mul(g, ir.c(0.1f)));
  }, "adamish");
  CHECK(dump(canonicalize(f)) ==
        "rule adamish\n"
        "  s0 = m: mavg(g^1, beta=0.9, bias_correction=on)\n"
        "  s1 = v: mavg(g^2, beta=0.999, bias_correction=on)\n"
        "  %0 = mavg s0                  elem\n"
        "  %1 = mavg s1                  elem\n"
        "  %2 = sqrt %1                  elem\n"
        "  %3 = div %0, %2 delta=1e-8    elem\n"
        "  %4 = grad                     elem\n"
        "  %5 = const 0.1                step\n"
        "  %6 = mul %4, %5               elem\n"
        "  %7 = sub %3, %6               elem\n"
        "  result %7\n");
}

TEST_CASE("canonicalize: a * b and b * a become identical") {
  Function ab = build([](Ir& ir) { return ir.mul(ir.g(), ir.m()); });
  Function ba = build([](Ir& ir) { return ir.mul(ir.m(), ir.g()); });
  CHECK_FALSE(ab == ba);
  CHECK(canonicalize(ab) == canonicalize(ba));
  CHECK(dump(canonicalize(ab)) == dump(canonicalize(ba)));
  CHECK(hash_of(ab) == hash_of(ba));
}

TEST_CASE("canonicalize: add chains built in different instruction and slot orders match") {
  Function first = build([](Ir& ir) {
    Value g = ir.g(), m = ir.m(), v = ir.v();
    return ir.add(ir.add(ir.mul(g, m), ir.sqrt(v)), ir.sign(m));
  });
  Function second = build([](Ir& ir) {
    Value v = ir.v(), s = ir.sqrt(v), m = ir.m(), sm = ir.sign(m), g = ir.g();
    return ir.add(sm, ir.add(s, ir.mul(m, g)));
  });
  REQUIRE(first.states != second.states);
  Function a = canonicalize(first), b = canonicalize(second);
  CHECK(dump(a) == dump(b));
  CHECK(a == b);
  CHECK(canonical_hash(a) == canonical_hash(b));
}

TEST_CASE("canonicalize: is idempotent and exact about what differs") {
  Function f = build([](Ir& ir) { return ir.add(ir.drop(ir.g(), ir.c(0.3f)), ir.mul(ir.eps(), ir.cd())); });
  CHECK(canonicalize(canonicalize(f)) == canonicalize(f));
  const std::uint64_t h = hash_of(f);
  // Genuinely different rules hash differently.
  CHECK(hash_of(build([](Ir& ir) { return ir.sub(ir.g(), ir.m()); })) !=
        hash_of(build([](Ir& ir) { return ir.sub(ir.m(), ir.g()); })));
  CHECK(hash_of(build([](Ir& ir) { return ir.add(ir.g(), ir.m()); })) !=
        hash_of(build([](Ir& ir) { return ir.mul(ir.g(), ir.m()); })));
  CHECK(hash_of(build([](Ir& ir) { return ir.m(0.9f); })) != hash_of(build([](Ir& ir) { return ir.m(0.95f); })));
  CHECK(hash_of(build([](Ir& ir) { return ir.m(0.9f, true); })) !=
        hash_of(build([](Ir& ir) { return ir.m(0.9f, false); })));
  CHECK(hash_of(build([](Ir& ir) { return ir.div(ir.g(), ir.m(), 1e-8f); })) !=
        hash_of(build([](Ir& ir) { return ir.div(ir.g(), ir.m(), 1e-7f); })));
  CHECK(hash_of(build([](Ir& ir) { return ir.drop(ir.g(), ir.c(0.3f), 2); })) !=
        hash_of(build([](Ir& ir) { return ir.drop(ir.g(), ir.c(0.3f), 3); })));
  CHECK(hash_of(build([](Ir& ir) { return ir.mul(ir.g(), ir.c(0.0f)); })) !=
        hash_of(build([](Ir& ir) { return ir.mul(ir.g(), ir.c(-0.0f)); })));
  // The name is not part of the hash.
  CHECK(hash_of(build([](Ir& ir) { return ir.add(ir.drop(ir.g(), ir.c(0.3f)), ir.mul(ir.eps(), ir.cd())); },
                      "other name")) == h);
}

TEST_CASE("canonicalize: unread slots keep no position of their own") {
  Function mv = build([](Ir& ir) {
    ir.function().states = {{1, 0.9f, true}, {2, 0.999f, true}};
    return ir.g();
  });
  Function vm = build([](Ir& ir) {
    ir.function().states = {{2, 0.999f, true}, {1, 0.9f, true}};
    return ir.g();
  });
  CHECK(canonicalize(mv) == canonicalize(vm));
}

TEST_CASE("hash_hex: 16 lowercase hex digits") {
  CHECK(hash_hex(0xABCull) == "0000000000000abc");
  CHECK(hash_hex(~0ull) == "ffffffffffffffff");
  Function f = build([](Ir& ir) { return ir.g(); });
  CHECK(hash_hex(hash_of(f)).size() == 16);
}
