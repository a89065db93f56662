"""Distributed harvesting on Celery (the optional extra `oai-toolkit[distributed]`).

`app` builds the Celery application and its tasks (harvest one source; enqueue the due ones),
`coordinator` holds per-host politeness across workers (Redis), `enqueue` decides what to
send, `cli` is `oai worker` and `oai beat`. Nothing here imports Celery at module level
except `app`, which the commands import only when they run.
"""
