powersign_alpha: alpha ^ (sign_g * sign_m) * g with alpha = 2
