# AddSign (Bello et al. 2017): (alpha + sign(g) sign(m)) * g with alpha = 1.
addsign: (1 + sign(g) * sign(m)) * g

# Decayed variants.
addsign_ld: (1 + ld * sign(g) * sign(m)) * g
addsign_cd: (1 + cd * sign(g) * sign(m)) * g
addsign_rd: (1 + rd * sign(g) * sign(m)) * g
