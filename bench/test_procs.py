"""The /proc readers of the HTTP benchmark (the benchmark itself is not a test)."""

import os

from bench import procs


def test_backend_titles_name_their_database():
    titles = {
        "postgres: 15/main: postgres bench_http_1a2b 127.0.0.1(51426) idle": "bench_http_1a2b",
        "postgres: app other_db [local] SELECT": "other_db",
    }
    for title, database in titles.items():
        assert procs.BACKEND.match(title)["database"] == database
    for helper in ("postgres: 15/main: walwriter ", "postgres: 15/main: checkpointer "):
        assert procs.BACKEND.match(helper) is None


def test_stat_fields_survive_a_command_name_with_spaces_and_parentheses(tmp_path, monkeypatch):
    stat = "42 (gunicorn: worker (x)) S 1 42 42 0 -1 4194560 1 0 0 0 250 75 3 4 20 0 1 0"
    real_read = procs.Path.read_text
    monkeypatch.setattr(
        procs.Path,
        "read_text",
        lambda self: stat if str(self) == "/proc/42/stat" else real_read(self),
    )
    assert procs.cpu_us(42) == (250 + 75) * procs.TICK_US


def test_this_process_has_spent_cpu():
    assert procs.cpu_us(os.getpid()) > 0
    assert procs.cpu_us(2**22 + 1) == 0.0  # beyond pid_max: gone
