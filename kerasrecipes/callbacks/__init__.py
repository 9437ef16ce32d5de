"""Training callbacks: what Keras's own callbacks lack, and the recipe one-liner."""
