div(m, sqrt(v), adam_eps) with adam_eps = 1e-6
