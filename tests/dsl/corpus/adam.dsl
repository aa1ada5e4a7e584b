# Adam through its vocabulary operand.
adam: adam with beta1 = 0.9, beta2 = 0.999
