#include "runtime/text_models.h"

#include <stdexcept>

#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/rnn.h>
#include <torch/nn/pimpl.h>

namespace nos::runtime {
namespace {

constexpr std::int64_t kEmbedding = 32;
constexpr std::int64_t kRnnHidden = 64;
constexpr std::int64_t kConvFilters = 64, kConvWidth = 5;

// The trainer's inputs are float32 (exact for ids below 2^24); an embedding needs indices.
torch::Tensor token_ids(const torch::Tensor& x) { return x.to(torch::kLong); }

// The sequence's summary is the LSTM's last hidden state: it has read every token, and a
// classifier of the whole window (its language, say) needs nothing else.
class TextRnnImpl : public torch::nn::Module {
 public:
  TextRnnImpl(std::int64_t vocabulary, std::int64_t classes, bool per_position)
      : per_position_(per_position),
        embedding_(register_module("embedding", torch::nn::Embedding(vocabulary, kEmbedding))),
        lstm_(register_module("lstm", torch::nn::LSTM(torch::nn::LSTMOptions(kEmbedding, kRnnHidden).batch_first(true)))),
        head_(register_module("head", torch::nn::Linear(kRnnHidden, classes))) {}

  torch::Tensor forward(const torch::Tensor& x) {
    auto [outputs, state] = lstm_->forward(embedding_->forward(token_ids(x)));
    if (per_position_) return head_->forward(outputs);  // (batch, length, hidden) -> (batch, length, classes)
    return head_->forward(std::get<0>(state)[0]);  // h_n: (layers, batch, hidden)
  }

 private:
  bool per_position_;
  torch::nn::Embedding embedding_;
  torch::nn::LSTM lstm_;
  torch::nn::Linear head_;
};
TORCH_MODULE(TextRnn);

// n-gram detectors (two layers: 9 tokens wide) and the strongest match anywhere in the window.
class TextCnnImpl : public torch::nn::Module {
 public:
  TextCnnImpl(std::int64_t vocabulary, std::int64_t classes)
      : embedding_(register_module("embedding", torch::nn::Embedding(vocabulary, kEmbedding))),
        conv1_(register_module("conv1", torch::nn::Conv1d(torch::nn::Conv1dOptions(kEmbedding, kConvFilters, kConvWidth)
                                                              .padding(kConvWidth / 2)))),
        conv2_(register_module("conv2", torch::nn::Conv1d(torch::nn::Conv1dOptions(kConvFilters, kConvFilters, kConvWidth)
                                                              .padding(kConvWidth / 2)))),
        head_(register_module("head", torch::nn::Linear(kConvFilters, classes))) {}

  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor h = embedding_->forward(token_ids(x)).transpose(1, 2);  // (batch, embedding, length)
    h = torch::relu(conv2_->forward(torch::relu(conv1_->forward(h))));
    return head_->forward(std::get<0>(h.max(2)));
  }

 private:
  torch::nn::Embedding embedding_;
  torch::nn::Conv1d conv1_, conv2_;
  torch::nn::Linear head_;
};
TORCH_MODULE(TextCnn);

}  // namespace

bool is_text_model(const std::string& name) { return name == "textrnn" || name == "textcnn"; }

double text_model_parameters(const std::string& name, std::int64_t vocabulary, std::int64_t classes) {
  const double e = double(kEmbedding), embedding = double(vocabulary) * e;
  if (name == "textrnn") {
    const double h = double(kRnnHidden);
    return embedding + 4 * h * (e + h + 2) + (h + 1) * double(classes);
  }
  const double f = double(kConvFilters), w = double(kConvWidth);
  return embedding + (e * w + 1) * f + (f * w + 1) * f + (f + 1) * double(classes);
}

torch::nn::Sequential text_model(const std::string& name, std::int64_t vocabulary, std::int64_t classes,
                                 bool per_position) {
  torch::nn::Sequential net;
  if (name == "textrnn")
    net->push_back(TextRnn(vocabulary, classes, per_position));
  else if (name == "textcnn" && !per_position)
    net->push_back(TextCnn(vocabulary, classes));
  else
    throw std::invalid_argument("not a text model: " + name);
  return net;
}

}  // namespace nos::runtime
