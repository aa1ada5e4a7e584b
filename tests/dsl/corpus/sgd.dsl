# SGD: the gradient itself.
sgd: g
