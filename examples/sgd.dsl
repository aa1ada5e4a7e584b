# Plain stochastic gradient descent: w <- w - lr * g.
sgd: g
