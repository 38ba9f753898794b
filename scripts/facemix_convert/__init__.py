"""facemix_convert: turns StyleGAN2 checkpoints into facemix model files.

Used by scripts/convert_weights.py. Nothing in this package executes code
from a checkpoint: every pickle is read by a restricted unpickler that only
knows the globals listed in safe_pickle.py and rebuilds them as plain data.
"""
