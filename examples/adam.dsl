# Adam (Kingma & Ba): bias-corrected first and second moments.
# `adam` is the vocabulary's operand m / (sqrt(v) + adam_eps); the long form is the same rule.
adam: adam

adam_long: div(m, sqrt(v), 1e-8)

# Adam with LibTorch's defaults spelled out.
adam_torch: adam with beta1 = 0.9, beta2 = 0.999, adam_eps = 1e-8
