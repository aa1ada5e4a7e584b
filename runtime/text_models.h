// The built-in sequence children (models.h): token ids -> class scores.
//   textrnn  Embedding(vocabulary, 32) -> one LSTM layer of 64 units -> its last hidden state ->
//            Linear to the classes
//   textcnn  Embedding(vocabulary, 32) -> two 1-d convolutions of 64 filters of width 5 with ReLU
//            -> the maximum over the sequence -> Linear to the classes (the same job several times
//            faster on a CPU than the LSTM's step-by-step recurrence: docs/benchmarks.md)
// Apart from models.cpp so that the image and table models and these change independently.
#pragma once

#include <cstdint>
#include <string>

#include <torch/nn/modules/container/sequential.h>

namespace nos::runtime {

bool is_text_model(const std::string& name);  // textrnn, textcnn

// How many parameters the model has for this vocabulary and number of classes (models.cpp bounds
// it before anything is allocated).
double text_model_parameters(const std::string& name, std::int64_t vocabulary, std::int64_t classes);

// Token ids (float32, exact, or integers; shape (batch, length)) -> class scores (batch, classes).
// per_position (textrnn only, the lm objective): the scores after every position, (batch, length,
// classes), each from the LSTM's state having read that token and the ones before it.
torch::nn::Sequential text_model(const std::string& name, std::int64_t vocabulary, std::int64_t classes,
                                 bool per_position = false);

}  // namespace nos::runtime
