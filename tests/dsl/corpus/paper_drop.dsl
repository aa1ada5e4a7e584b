drop(m, 0.3) * exp(w)
