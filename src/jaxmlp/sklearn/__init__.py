"""scikit-learn estimators trained by the engine: :class:`MLPClassifier`
(:mod:`~jaxmlp.sklearn.classifier`), :class:`MLPEnsembleClassifier`
(:mod:`~jaxmlp.sklearn.ensemble`), :class:`MLPSearchCV` (:mod:`~jaxmlp.sklearn.search`),
:class:`MLPHalvingSearchCV` (:mod:`~jaxmlp.sklearn.halving`; both searches share
:mod:`~jaxmlp.sklearn.search_common`), and the :class:`TableModel` pipeline
(:mod:`~jaxmlp.sklearn.table_model`).

Behind them: :mod:`~jaxmlp.sklearn.inputs` (scikit-learn's input validation),
:mod:`~jaxmlp.sklearn.bridge` (an estimator's settings -> an engine job -> fitted
attributes), :mod:`~jaxmlp.sklearn.solvers` (scikit-learn's solvers over the optimizer
table) and :mod:`~jaxmlp.sklearn.state` (the fitted state as data).

Importing this package imports nothing; ``jaxmlp.MLPClassifier`` etc. load on first use.
"""
