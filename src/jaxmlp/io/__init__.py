"""Files: writing them whole or not at all (:mod:`~jaxmlp.io.files`), and model folders
(:mod:`~jaxmlp.io.model_files`: :func:`save` / :func:`load`, with the JSON records of
:mod:`~jaxmlp.io.records`) -- versioned, checksummed, no code executed on load."""
