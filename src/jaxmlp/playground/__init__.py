"""`jaxmlp playground`: the live, browser-based playground on the real JAX engine."""
