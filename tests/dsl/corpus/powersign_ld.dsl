powersign_ld: exp(ld * sign(g) * sign(m)) * g
