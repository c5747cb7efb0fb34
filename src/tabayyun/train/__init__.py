"""Training and evaluation of tabayyun's models."""
