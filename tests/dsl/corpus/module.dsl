# Several rules in one file.
sgd: g
momentum: m with beta1 = 0.9;
  m * 2; exp(g)
last: -g ^ 2 - -m;
