"""Run a command with real PostgreSQL and Redis available: `python -m tests.with_services pytest ...`.

Order of preference for each service: the URL already in the environment (DATABASE_URL,
REDIS_URL); the conventional local server on 127.0.0.1 if it answers; otherwise a throwaway
server started from the installed binaries in a temporary directory and stopped afterwards.
With none of these it stops and says what to install.
"""

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time

LOCAL_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/gatehouse"
LOCAL_REDIS_URL = "redis://127.0.0.1:6379/0"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listened on 127.0.0.1:{port} within {timeout}s")


def postgres_answers(url: str) -> bool:
    import psycopg

    # Connect to the maintenance database: the test database is created by the test run.
    conninfo = psycopg.conninfo.make_conninfo(url.rsplit("/", 1)[0] + "/postgres", connect_timeout=3)
    try:
        with psycopg.connect(conninfo) as connection:
            connection.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def find_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return candidates[0] if candidates else None


def _as_unprivileged(command: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root.
    if os.geteuid() != 0:
        return command
    for user in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(user)
            return ["runuser", "-u", user, "--", *command]
    raise RuntimeError("running as root with no unprivileged user to start PostgreSQL")


class ThrowawayPostgres:
    def __init__(self) -> None:
        self.initdb, self.pg_ctl = find_binary("initdb"), find_binary("pg_ctl")
        self.directory = tempfile.mkdtemp(prefix="gatehouse-pg-")
        self.port = free_port()

    @property
    def available(self) -> bool:
        return bool(self.initdb and self.pg_ctl)

    def start(self) -> str:
        data = os.path.join(self.directory, "data")
        if os.geteuid() == 0:
            user = "postgres" if _user_exists("postgres") else "nobody"
            shutil.chown(self.directory, user=user)
        subprocess.run(
            _as_unprivileged([self.initdb, "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        subprocess.run(
            _as_unprivileged([self.pg_ctl, "-D", data, "-o", options, "-l", os.path.join(self.directory, "log"), "-w", "start"]),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return f"postgres://postgres@127.0.0.1:{self.port}/gatehouse"

    def stop(self) -> None:
        subprocess.run(
            _as_unprivileged([self.pg_ctl, "-D", os.path.join(self.directory, "data"), "-m", "immediate", "stop"]),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        shutil.rmtree(self.directory, ignore_errors=True)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


class ThrowawayRedis:
    def __init__(self) -> None:
        self.binary = shutil.which("redis-server")
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.directory = tempfile.mkdtemp(prefix="gatehouse-redis-")

    @property
    def available(self) -> bool:
        return bool(self.binary)

    def start(self) -> str:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.directory,
            ],
            stdout=subprocess.DEVNULL,
        )
        wait_for_port(self.port)
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        shutil.rmtree(self.directory, ignore_errors=True)


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m tests.with_services COMMAND [ARGS...]", file=sys.stderr)
        return 2
    environment = dict(os.environ)
    started = []
    try:
        if not environment.get("DATABASE_URL"):
            if postgres_answers(LOCAL_POSTGRES_URL):
                environment["DATABASE_URL"] = LOCAL_POSTGRES_URL
            else:
                postgres = ThrowawayPostgres()
                if not postgres.available:
                    print(
                        "No PostgreSQL reachable at 127.0.0.1:5432 and no initdb/pg_ctl installed.\n"
                        "Install it (Debian: apt-get install postgresql) or set DATABASE_URL.",
                        file=sys.stderr,
                    )
                    return 3
                environment["DATABASE_URL"] = postgres.start()
                started.append(postgres)
                print(f"started throwaway PostgreSQL on port {postgres.port}", file=sys.stderr)
        if not environment.get("REDIS_URL"):
            if redis_answers(LOCAL_REDIS_URL):
                environment["REDIS_URL"] = LOCAL_REDIS_URL
            else:
                redis_server = ThrowawayRedis()
                if not redis_server.available:
                    print(
                        "No Redis reachable at 127.0.0.1:6379 and no redis-server installed.\n"
                        "Install it (Debian: apt-get install redis-server) or set REDIS_URL.",
                        file=sys.stderr,
                    )
                    return 3
                environment["REDIS_URL"] = redis_server.start()
                started.append(redis_server)
                print(f"started throwaway Redis on port {redis_server.port}", file=sys.stderr)
        return subprocess.call(argv, env=environment)
    finally:
        for service in reversed(started):
            service.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
