# From the paper's table.
(exp(sign(g) * sign(m)) + clip(g, 1e-4)) * g
