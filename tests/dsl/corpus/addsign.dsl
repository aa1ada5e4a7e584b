addsign: (1 + sign(g) * sign(m)) * g
