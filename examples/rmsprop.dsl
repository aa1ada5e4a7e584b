# RMSProp as the paper's operand: g / (sqrt(v) + 1e-8), v bias-corrected with beta2 = 0.999.
rmsprop: rmsprop

# LibTorch's torch::optim::RMSprop defaults: alpha = 0.99, eps = 1e-8, no bias correction.
rmsprop_torch: rmsprop with beta2 = 0.99, bias_correction = off
