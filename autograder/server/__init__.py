"""A submission server for a study group: members upload notebooks (from the browser or
``submit.py``), worker processes grade them with the batch's engine in the sandbox, and each
member reads their feedback as soon as it is ready; the organizer sees the whole group.

    store.py    SQLite: members, sessions, the queue of uploads (one row per upload)
    members.py  personal links: random tokens, stored hashed
    uploads.py  an upload capped while it streams, stored, checked, queued; quotas
    workers.py  grading processes that take jobs from the queue, fairly
    views.py    what the pages show, as data; pages.py draws it
    app.py      the Starlette routes; cli.py the ``serve`` and ``members`` commands
    serving.py  around uvicorn: the data folder's lock, header timeout, log flood cut
"""
