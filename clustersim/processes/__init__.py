"""One module per ODD submodel (docs/ODD.md, "Submodels"; docs/architecture.md).

Each process is a function of a ``ClusterState`` that reads and updates its arrays; none imports
``clustersim.model``. Shared pure rules are in ``rules``, shared read-only questions of the state
in ``clustersim.queries``. The model's schedule (``clustersim.model.PROJECTS``) lists them in the
order of the ODD's "Process overview and scheduling".
"""
