rd * noise + cd * eps - ld * w4 + w3 - w2 * w1
