# Rules from the Neural Optimizer Search paper's table of discovered optimizers.
powersign_clip: (exp(sign(g) * sign(m)) + clip(g, 1e-4)) * g

drop_weight: drop(m, 0.3) * exp(w)

g_plus_drop: g + drop(m, 0.3)

# Noise and weight-decay operands of the vocabulary.
noisy_sgd: g + noise
decayed_sgd: g + w4
