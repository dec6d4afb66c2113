"""Compiled kernels: stateless functions over buffers the Python side allocates."""
