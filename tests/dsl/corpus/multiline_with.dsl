rule_a: g * scale
  with scale = -0.5,
       beta3 = 0.5, delta = 1e-7, eps_sigma = 0.1, cd_n = 2, rd_n = 3
