// The canonical hashes of the bundled rules, pinned. These hashes are the identities a search
// stores (with the canonical text beside them) and kernel caches are keyed by: a change to the
// lowering, the passes, the vocabulary's order or the hash itself that moves any of them must be
// deliberate, and then comes with a bump of dsl::kLanguageVersion and new pins.
#include <doctest/doctest.h>

#include <filesystem>
#include <map>
#include <string>

#include "compiler/lower.h"
#include "compiler/passes.h"
#include "dsl/parser.h"

namespace {

using namespace nos;

std::map<std::string, std::string> actual_hashes() {
  std::map<std::string, std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(NOS_SOURCE_DIR) + "/examples")) {
    if (entry.path().extension() != ".dsl") continue;
    dsl::Module module = dsl::parse_file(entry.path().string());
    for (std::size_t i = 0; i < module.rules.size(); ++i) {
      const dsl::Rule& rule = module.rules[i];
      std::string key = entry.path().stem().string() + ":" + (rule.name.empty() ? std::to_string(i) : rule.name);
      out[key] = ir::hash_hex(ir::canonical_hash(ir::optimize(ir::lower(rule))));
    }
  }
  return out;
}

// examples/<file>.dsl : <rule> -> canonical hash. Regenerate only with a language version bump.
const std::map<std::string, std::string> kPinned = {
    {"adam:adam", "dbdc86bebaf39b51"},
    {"adam:adam_long", "dbdc86bebaf39b51"},
    {"adam:adam_torch", "dbdc86bebaf39b51"},
    {"addsign:addsign", "67c1d392ee8ad276"},
    {"addsign:addsign_cd", "041c8ec0a98bc123"},
    {"addsign:addsign_ld", "547151e8e5854ee1"},
    {"addsign:addsign_rd", "944de01734292144"},
    {"paper:decayed_sgd", "fc388cfe28ac3ef8"},
    {"paper:drop_weight", "2094d6a38797a2da"},
    {"paper:g_plus_drop", "e5b3b39057c988ae"},
    {"paper:noisy_sgd", "55bd8aaddff47478"},
    {"paper:powersign_clip", "57f2b5404bf21457"},
    {"powersign:powersign", "07e5c96f44d0cb59"},
    {"powersign:powersign_alpha", "39f5562bce5e0cbc"},
    {"powersign:powersign_cd", "1c3fe0e1468e5b2a"},
    {"powersign:powersign_ld", "ccfd53ee84233c69"},
    {"powersign:powersign_rd", "0c17e12c1435a003"},
    {"powersign:powersign_tokens", "07e5c96f44d0cb59"},
    {"rmsprop:rmsprop", "b3727565b884fe61"},
    {"rmsprop:rmsprop_torch", "ce2698796aab8ed3"},
    {"sgd:sgd", "e7ccac6d02a4162f"},
};

}  // namespace

TEST_CASE("canonical hashes of examples/*.dsl are pinned") {
  std::map<std::string, std::string> actual = actual_hashes();
  std::string listing;
  for (const auto& [key, hash] : actual) listing += "    {\"" + key + "\", \"" + hash + "\"},\n";
  INFO("current hashes (paste only after bumping dsl::kLanguageVersion):\n" << listing);
  CHECK(actual.size() == kPinned.size());
  for (const auto& [key, hash] : kPinned) {
    CAPTURE(key);
    auto it = actual.find(key);
    REQUIRE(it != actual.end());
    CHECK(it->second == hash);
  }
}

TEST_CASE("canonical hash: the language version and every spelling take part") {
  auto hash_of = [](std::string_view text) {
    return ir::canonical_hash(ir::optimize(ir::lower(dsl::parse_rule(text))));
  };
  // Commutation and simplification are one identity; different functions, immediates, settings
  // and state contents are different identities.
  CHECK(hash_of("sign(g) * sign(m)") == hash_of("sign(m) * sign(g)"));
  CHECK(hash_of("g * 1") == hash_of("g"));
  CHECK(hash_of("exp(g)") != hash_of("log(g)"));
  CHECK(hash_of("clip(g, 0.001)") != hash_of("clip(g, 0.0001)"));
  CHECK(hash_of("m") != hash_of("m with beta1 = 0.8"));
  CHECK(hash_of("m") != hash_of("m with bias_correction = off"));
  CHECK(hash_of("g * ld") != hash_of("g * cd"));
  CHECK(hash_of("div(g, m)") != hash_of("div(g, m, 0.001)"));
}
