g + drop(m, 0.3)
