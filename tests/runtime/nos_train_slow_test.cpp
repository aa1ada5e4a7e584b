// The acceptance run of the issue: PowerSign trains the mlp on Fashion-MNIST to >= 80% validation
// accuracy in 2 epochs on CPU. Slow (seconds to a minute), so it carries the `slow` label.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "../tools/run_tool.h"
#include "test_data_files.h"

using nos::testing::run_tool;

TEST_CASE("PowerSign reaches 80% on Fashion-MNIST in 2 epochs") {
  if (!std::filesystem::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz") &&
      !std::getenv("NOS_DATASETS")) {
    MESSAGE("[SKIP] Fashion-MNIST is not installed (/usr/share/datasets/fashion-mnist)");
    return;
  }
  std::string json = nos::testing::temp_dir("slow_powersign") + "/out.json";
  auto r = run_tool("nos-train", {"--rule", "exp(sign_g * sign_m) * g", "--model", "mlp", "--data", "fashion-mnist",
                                  "--epochs", "2", "--lr", "0.05", "--json", json});
  INFO(r.out);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::ifstream in(json);
  nlohmann::json j = nlohmann::json::parse(in);
  MESSAGE("val acc " << j["val_acc"] << " in " << j["wall_seconds"] << " s on backend " << j["backend"]);
  CHECK(j["status"] == "ok");
  CHECK(j["val_acc"].get<double>() >= 0.80);
}
