"""Data files shipped inside the rnnkit package (the embedded intent set for `rnnkit demo`)."""
