addsign_cd: (1 + cd * sign(g) * sign(m)) * g
