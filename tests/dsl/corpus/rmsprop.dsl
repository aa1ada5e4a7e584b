rmsprop with beta2 = 0.99, bias_correction = off
