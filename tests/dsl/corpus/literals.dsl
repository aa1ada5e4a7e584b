clip(g, 1e-5) + clip(m, 1e-3) - drop(g, .1) * drop(v, 1.) + neg(id(g))
