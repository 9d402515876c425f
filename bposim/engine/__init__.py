"""The simulation engine: the centre on SimPy, its router, agents and records."""
