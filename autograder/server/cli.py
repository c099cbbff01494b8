"""``python -m autograder serve`` and ``python -m autograder members ...``.

    serve [--host 127.0.0.1] [--port 8000] [--workers N] [--data DIR] [--config FILE]
          [--member-quota-mb 256] [--min-free-mb 1024] [--header-timeout 10]
    members add NAME [--organizer]    prints the member's personal link (its address: --url,
                                      else the config's url, else where `serve` last served
                                      with this --data, else http://127.0.0.1:8000)
    members link NAME                 a new link for NAME; the old one stops working
    members list

Both make what they write readable by this user alone (umask 077, the data folder 0700):
uploads, results and the sessions are the members'.
"""
from __future__ import annotations

import argparse
import logging
import os
import re
import signal
import sys
from dataclasses import replace
from pathlib import Path

from ..sandbox.process import Limits
from .config import (DEFAULT_CONFIG, DEFAULT_DATA, HEADER_SECONDS, MEMBER_QUOTA_BYTES,
                     MIN_FREE_BYTES, SUBMIT_INTERVAL, ConfigError, ServerConfig, read_config_file,
                     record_url, recorded_url)
from .members import MemberError, add_member, link, new_link
from .store import Store


def _config(args, recorded: bool = False, **overrides) -> ServerConfig:
    """The settings: the config file's, the command line's over them; with ``recorded``
    and no url from either, the address the server last served at."""
    settings = read_config_file(Path(args.config))
    if args.url:
        settings["url"] = args.url.rstrip("/")
    elif "url" not in settings and recorded:
        served_at = recorded_url(Path(args.data))
        if served_at:
            settings["url"] = served_at
    config = ServerConfig(data=Path(args.data).resolve(), **settings, **overrides)
    os.umask(0o077)
    config.data.mkdir(parents=True, exist_ok=True)
    config.data.chmod(0o700)
    return config


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", default=str(DEFAULT_DATA),
                        help="folder of the server's state: members, queue, uploads, results "
                             "(default: %(default)s)")
    parser.add_argument("--config", default=str(DEFAULT_CONFIG),
                        help="TOML file with url, [deadlines] and [late] (default: %(default)s, "
                             "if it exists)")
    parser.add_argument("--url", help="the address members open, for the printed links "
                                      "(default: the config's url, else the address the "
                                      "server serves at: http://HOST:PORT)")


class _HideTokens(logging.Filter):
    """Access log lines show /login?token=... with the token left out."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.args = tuple(re.sub(r"token=[^&\s]*", "token=...", a) if isinstance(a, str)
                            else a for a in (record.args or ()))
        return True


def cmd_serve(args) -> int:
    import uvicorn

    from ..gradebook import GradebookWriter
    from .app import create_app
    from .serving import (MAX_CONNECTIONS, MAX_HEADER_BYTES, DataInUse, bind, header_timeout,
                          lock_data, quiet_repeats, raise_open_files_limit)
    from .uploads import clear_partial
    from .workers import WorkerPool

    limits = Limits(call_seconds=args.timeout, submission_seconds=args.submission_timeout,
                    memory_bytes=args.memory_mb * 2**20)
    try:
        config = _config(args, limits=limits, isolation=args.isolation,
                         submit_interval=args.submit_interval,
                         member_quota_bytes=int(args.member_quota_mb * 2**20),
                         min_free_bytes=int(args.min_free_mb * 2**20),
                         **({"db_url": args.db} if args.db else {}))
        lock = lock_data(config.data)  # before anything in the folder is touched
    except (ConfigError, DataInUse) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        listening = bind(args.host, args.port)
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc.strerror}; is another "
              f"server there? pass another --port", file=sys.stderr)
        return 2
    if not args.url and "url" not in read_config_file(Path(args.config)):
        config = replace(config, url=f"http://{args.host}:{args.port}")
    record_url(config.data, config.url)
    clear_partial(config)
    raise_open_files_limit()
    try:  # made (or checked) once here, before workers race to create its tables
        GradebookWriter(config.db_url).close()
    except Exception as exc:  # noqa: BLE001 - any reason the gradebook cannot be opened
        print(f"error: the gradebook {config.db_url} cannot be opened: {exc}", file=sys.stderr)
        return 2
    workers = args.workers or os.cpu_count() or 1
    pool = WorkerPool(config, workers)
    pool.start()
    logging.getLogger("uvicorn.access").addFilter(_HideTokens())
    server = uvicorn.Server(uvicorn.Config(
        create_app(config), host=args.host, port=args.port, proxy_headers=True,
        forwarded_allow_ips="127.0.0.1", log_level="info",
        http=header_timeout(args.header_timeout), limit_concurrency=MAX_CONNECTIONS,
        timeout_keep_alive=5, h11_max_incomplete_event_size=MAX_HEADER_BYTES))
    quiet_repeats()
    print(f"serving {config.url} with {workers} grading worker(s); state in {config.data}; "
          f"grades also in {config.db_url}", file=sys.stderr, flush=True)
    if not Store(config.store_path).members():
        print("no members yet: `python -m autograder members add NAME --organizer` prints the "
              "organizer's link, `members add NAME` a member's", file=sys.stderr, flush=True)
    # uvicorn raises the signal that stopped it again once it has shut down; with these
    # handlers in place that ends nothing, and the workers are stopped here, in order.
    for stop in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop, lambda *_: None)
    try:
        server.run(sockets=[listening])
    finally:
        pool.stop()
        lock.close()
    print("stopped; what was being graded is graded at the next start", file=sys.stderr)
    return 0


def cmd_members(args) -> int:
    try:
        config = _config(args, recorded=True)
        store = Store(config.store_path)
        if args.action == "list":
            for member in store.members():
                print(f"{member.name}{'  (organizer)' if member.organizer else ''}")
            return 0
        if args.action == "add":
            member, token = add_member(store, args.name, args.organizer)
            kind = "organizer" if member.organizer else "member"
        else:
            token, kind = new_link(store, args.name), "new link for"
    except (ConfigError, MemberError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    personal = link(config.url, token)
    print(f"{kind} {args.name}: {personal}")
    print(f"send this link to them alone: it signs them in; `python submit.py --token "
          f"'{personal}'` in an assignment's folder submits from a terminal", file=sys.stderr)
    return 0


def add_commands(commands, default_limits: Limits) -> None:
    """The ``serve`` and ``members`` subcommands, on the package's command line."""
    serve = commands.add_parser("serve", help="run the submission server for a study group")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default: %(default)s, this machine only; "
                            "put an HTTPS reverse proxy in front to open it to others)")
    serve.add_argument("--port", type=int, default=8000, help="(default: %(default)s)")
    serve.add_argument("--workers", type=int, default=None,
                       help="grading processes (default: the number of cores)")
    serve.add_argument("--timeout", type=float, default=default_limits.call_seconds,
                       help="seconds one case may take (default: %(default)s)")
    serve.add_argument("--submission-timeout", type=float,
                       default=default_limits.submission_seconds,
                       help="seconds all cases of one submission may take (default: %(default)s)")
    serve.add_argument("--memory-mb", type=int, default=default_limits.memory_bytes // 2**20,
                       help="memory cap of each learner process in MiB (default: %(default)s)")
    serve.add_argument("--isolation", choices=["bubblewrap", "rlimits"],
                       help="force an isolation level (default: bubblewrap where installed)")
    serve.add_argument("--db", help="gradebook URL (default: the course's gradebook.db, as "
                                    "for grade and export)")
    serve.add_argument("--submit-interval", type=float, default=SUBMIT_INTERVAL,
                       help="seconds between two uploads of one member for one assignment "
                            "(default: %(default)s)")
    serve.add_argument("--member-quota-mb", type=float, default=MEMBER_QUOTA_BYTES / 2**20,
                       help="MiB of uploads kept per member; past it, uploads are refused "
                            "(default: %(default)g)")
    serve.add_argument("--min-free-mb", type=float, default=MIN_FREE_BYTES / 2**20,
                       help="uploads are refused while the disk has less free space "
                            "(default: %(default)g)")
    serve.add_argument("--header-timeout", type=float, default=HEADER_SECONDS,
                       help="seconds a request's headers may take to arrive (default: "
                            "%(default)g; put a proxy with its own timeouts in front too)")
    add_common(serve)
    serve.set_defaults(run=cmd_serve)

    members = commands.add_parser("members", help="add members of the study group and print "
                                                  "their personal links")
    actions = members.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="add a member and print their link")
    add.add_argument("name")
    add.add_argument("--organizer", action="store_true",
                     help="the link opens the organizer's pages too")
    renew = actions.add_parser("link", help="a new link for a member (the old one stops working)")
    renew.add_argument("name")
    actions.add_parser("list", help="every member")
    for parser in (add, renew, actions.choices["list"]):
        add_common(parser)
    members.set_defaults(run=cmd_members)
