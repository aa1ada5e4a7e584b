log(sqrt(v)) + keep(g, m) - pow(g, 2) + sub(g3, y) / div(v, 2)
