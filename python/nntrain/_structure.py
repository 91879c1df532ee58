"""A count of the changes that can change how a network runs: a module's attribute set or deleted (its
layers, parameters, settings), a forward hook registered or removed, a tensor's requires_grad, history or
gradient hooks changed. What is derived from a network's structure (the Trainer's planned step) stays good
while the count is unchanged, so it is checked once per change instead of once per step."""

version = 0


def changed():
    global version
    version += 1
