// The child networks a rule is trained on, by name:
//   mlp      flatten, then Linear+ReLU per hidden width (default 256), then Linear to the classes
//   convnet  two blocks of 3x3 conv (32 filters, padding 1), batch norm, ReLU and 2x2 max pooling,
//            then a fully connected head: Linear(128) + ReLU + Linear to the classes. Images only.
//   textrnn  token ids -> Embedding(vocabulary, 32) -> one LSTM layer of 64 units -> its last hidden
//            state -> Linear to the classes
//   textcnn  token ids -> Embedding(vocabulary, 32) -> two 1-d convolutions (64 filters, width 5) ->
//            the maximum over the sequence -> Linear to the classes (text_models.h)
// The text models take token sequences only (Dataset::vocabulary > 0): the ids arrive as exact
// float32 numbers and are turned into indices inside the model. mlp and convnet refuse token
// sequences: ids are names, not quantities to weigh.
//   resnet   a ResNet-8-like net: 3x3 conv stem (16 filters), three stages of one basic residual
//            block (two 3x3 convs with batch norm; widths 16, 32, 64, the last two at stride 2),
//            global average pooling, Linear to the classes. Images only; ~78k parameters.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/nn/modules/container/sequential.h>

#include "runtime/train_config.h"

namespace nos::runtime {

// Parameters are initialized from LibTorch's global generator (seed it first for determinism).
// Throws std::invalid_argument for an unknown name or a model that does not fit the data.
// `vocabulary` > 0: the examples are token sequences with ids below it (Dataset::vocabulary).
// `outputs`: the values per example the network gives (classes, regression targets, or the
// vocabulary per position for lm: objective_outputs).
torch::nn::Sequential make_model(const ModelSpec& spec, const std::vector<std::int64_t>& example_shape,
                                 std::int64_t outputs, std::int64_t vocabulary = 0,
                                 Objective objective = Objective::Classification);

}  // namespace nos::runtime
