# SPDX-License-Identifier: LGPL-2.1-or-later
"""Handles closed by one thread while another is inside a C call on them.

ctypes releases the GIL for every call into the library, so without the
bindings' in-call count ``close()`` in one thread frees memory that another
thread's call is still using (a heap use-after-free, which the sanitizer run
of this suite reports). With it, ``close()`` marks the handle closed at once
and the C handle is freed when the last call in progress returns."""
import os
import threading

import pytest

import apppoolid


def blocked_in_the_kernel(thread, wchan):
    """True once ``thread`` sleeps in the kernel function ``wchan``."""
    try:
        with open(f"/proc/self/task/{thread.native_id}/wchan") as f:
            return f.read() == wchan
    except FileNotFoundError:
        return False


def wait_for(condition):
    """Wait for a real condition (no fixed sleep); gives up after 60 s."""
    event = threading.Event()
    for _ in range(60000):
        if condition():
            return
        event.wait(0.001)
    raise AssertionError("condition never became true")


@pytest.fixture
def ctx(tmp_path):
    with apppoolid.Context(state_dir=tmp_path / "state") as c:
        yield c


@pytest.mark.skipif(os.geteuid() != 0, reason="launching as another uid needs root")
def test_close_during_wait_is_deferred_until_wait_returns(ctx):
    """proc.wait() in one thread, proc.close() in another: the worker is
    neither killed nor freed under the waiting thread; wait() returns the
    worker's own exit code and only then is the handle freed."""
    ident = ctx.create_pool("waiter").identity()
    r, w = os.pipe()
    with ident.token() as token:
        proc = apppoolid.launch(token, ["/bin/sh", "-c", "read x; exit 7"], pass_fds={0: r})
    os.close(r)
    result = []

    def waiter():
        try:
            result.append(proc.wait())
        except BaseException as e:  # noqa: B902 - reported by the assertion below
            result.append(e)

    t = threading.Thread(target=waiter)
    t.start()
    wait_for(lambda: blocked_in_the_kernel(t, "do_wait"))   # inside waitid()
    proc.close()
    assert proc.closed
    with pytest.raises(ValueError, match="Process is closed"):
        proc.send_signal(15)
    os.write(w, b"go\n")
    os.close(w)
    t.join()
    assert result == [7]
    with pytest.raises(ValueError, match="Process is closed"):
        proc.wait()


def test_close_during_acl_apply_is_deferred(ctx, tmp_path):
    """An edit closed while another thread applies it: the apply finishes on
    the edit it started with and reports every path."""
    ctx.create_pool("walker")
    root = tmp_path / "tree"
    n = 0
    for i in range(40):
        d = root / f"d{i}"
        d.mkdir(parents=True)
        for j in range(50):
            (d / f"f{j}").write_bytes(b"")
            n += 1
    n += 41  # the directories
    edit = ctx.acl_edit().grant("IIS AppPool\\walker:(OI)(CI)R")
    result = []

    def applier():
        try:
            result.append(edit.apply(root, apppoolid.RECURSIVE))
        except BaseException as e:  # noqa: B902
            result.append(e)

    t = threading.Thread(target=applier)
    t.start()
    # The walk has begun once the top directory carries the new ACL.
    wait_for(lambda: not t.is_alive() or has_acl(root))
    edit.close()
    t.join()
    assert len(result) == 1 and isinstance(result[0], dict), result
    assert result[0]["changed"] == n
    assert edit.closed


def has_acl(path):
    try:
        return len(os.getxattr(path, "system.posix_acl_access")) > 0
    except OSError:
        return False


def test_many_threads_racing_close(ctx):
    """Calls on an identity, a pool and a token from several threads while
    the main thread closes them: each call either completes or raises
    ValueError("... is closed"); nothing else happens."""
    pool = ctx.create_pool("racer")
    ident = pool.identity()
    token = ident.token()
    errors = []
    start = threading.Barrier(5)

    def hammer(fn):
        start.wait()
        try:
            for _ in range(2000):
                fn()
        except ValueError as e:
            if "is closed" not in str(e):
                errors.append(e)
        except BaseException as e:  # noqa: B902
            errors.append(e)

    targets = [lambda: (ident.sid, ident.user, ident.profile),
               lambda: pool["processModel.maxProcesses"],
               lambda: token.describe(),
               lambda: pool.name]
    threads = [threading.Thread(target=hammer, args=(fn,)) for fn in targets]
    for t in threads:
        t.start()
    start.wait()
    ident.close()
    pool.close()
    token.close()
    for t in threads:
        t.join()
    assert errors == []
    assert ident.closed and pool.closed and token.closed
