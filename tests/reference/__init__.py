"""Plain NumPy oracles for every op, one module per op family, and the numerical gradient."""
