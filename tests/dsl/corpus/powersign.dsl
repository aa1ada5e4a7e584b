# PowerSign, alpha = e (DSL.md).
powersign: exp(sign(g) * sign(m)) * g
