"""`mockmail serve --workers N`: one supervisor process serves the REST API, N worker processes own the
tenants (docs/scaling.md, "Many workers on one machine").

- `supervisor.py`: starts the workers, restarts one that dies, stops them all (`supervise`).
- `worker.py`: a worker's entry point (`python -m mockmail.workers.worker`, configured on stdin).
- `gateway.py`: the supervisor's public API: token checks, forwarding to the owner, gathered answers.
- `placement.py`: which worker owns which tenant.  `gather.py`: merging lists, metrics and health.
- `journal.py`: what a worker without `--data-dir` keeps of its tenants so that a restart brings them back.

Nothing is imported here: `python -m mockmail.workers.worker` must not find its module loaded already.
"""
