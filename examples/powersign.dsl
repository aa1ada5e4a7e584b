# PowerSign (Bello et al. 2017): scale g up when its sign agrees with its moving average's.
powersign: exp(sign(g) * sign(m)) * g

# The same in the token form's operands: 2 groups `sign_g sign_m id id mul`, `o1 g exp id mul`.
powersign_tokens: exp(sign_g * sign_m) * g

# PowerSign with a base other than e.
powersign_alpha: alpha ^ (sign_g * sign_m) * g with alpha = 2

# Decayed variants: the exponent shrinks over the run.
powersign_ld: exp(ld * sign(g) * sign(m)) * g
powersign_cd: exp(cd * sign(g) * sign(m)) * g
powersign_rd: exp(rd * sign(g) * sign(m)) * g
