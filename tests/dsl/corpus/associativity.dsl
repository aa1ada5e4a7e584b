g - (m - v) + (g - m) - v / (y / g2) * g3
