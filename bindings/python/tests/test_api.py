# SPDX-License-Identifier: LGPL-2.1-or-later
"""The rest of the public API through the Python bindings, against the real
library: names, accounts, SIDs as values, the registry, pool and identity
details, ACL journals, save and restore, token settings seen by real workers,
apply_self in a real forked child, the parent-death signal."""
import os
import resource
import signal
import struct
import subprocess
import threading

import pytest

import apppoolid

ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not ROOT, reason="launching as another uid needs root")


@pytest.fixture
def ctx(tmp_path):
    with apppoolid.Context(state_dir=tmp_path / "state") as c:
        yield c


def getfacl(path):
    return subprocess.run(["getfacl", "-cn", str(path)], capture_output=True, text=True, check=True).stdout


def test_pool_names_and_accounts(ctx):
    apppoolid.pool_name_check("DefaultAppPool")
    with pytest.raises(apppoolid.InvalidArgument, match="pool name 'a/b': character '/' is not allowed"):
        apppoolid.pool_name_check("a/b")
    assert apppoolid.pool_names_equal("DefaultAppPool", "DEFAULTAPPPOOL")
    assert not apppoolid.pool_names_equal("web", "web2")
    assert apppoolid.pool_name_canonical("Web") == apppoolid.pool_name_canonical("WEB")
    with pytest.raises(apppoolid.InvalidArgument, match="'a/b'"):
        apppoolid.pool_name_canonical("a/b")
    assert apppoolid.pool_account("web") == "IIS APPPOOL\\web"
    assert apppoolid.service_account("TrustedInstaller") == "NT SERVICE\\TrustedInstaller"
    ctx.create_pool("web")
    assert ctx.account_to_sid("IIS AppPool\\web") == apppoolid.pool_sid("web")
    assert ctx.sid_to_account("S-1-5-18") == "NT AUTHORITY\\SYSTEM"
    with pytest.raises(apppoolid.NotFound, match="one-way hash"):
        ctx.sid_to_account(apppoolid.pool_sid("web"))
    # The SID of a pool's account is its name's hash: no pool needed.
    assert ctx.account_to_sid("IIS APPPOOL\\nope") == apppoolid.pool_sid("nope")
    with pytest.raises(apppoolid.InvalidArgument, match="a/b"):
        ctx.account_to_sid("IIS APPPOOL\\a/b")


def test_version_and_defaults():
    major, minor, patch = (int(x) for x in apppoolid.version().split("."))
    assert apppoolid.version_number() == major * 10000 + minor * 100 + patch
    assert apppoolid.version_at_least(major, minor, patch)
    assert not apppoolid.version_at_least(major + 1)
    assert os.path.isabs(apppoolid.default_state_dir())
    apppoolid.check_pool_setting("processModel.maxProcesses", "4")
    with pytest.raises(apppoolid.InvalidArgument, match="-2"):
        apppoolid.check_pool_setting("processModel.maxProcesses", "-2")
    apppoolid.acl_spec_check("IIS AppPool\\web:(OI)(CI)RX")
    with pytest.raises(apppoolid.InvalidArgument, match="at character"):
        apppoolid.acl_spec_check("IIS AppPool\\web:(OI")


def test_sid_values():
    text = apppoolid.pool_sid("DefaultAppPool")
    sid = apppoolid.Sid(text)
    assert str(sid) == text and repr(sid) == f"Sid({text!r})"
    subs = [int(x) for x in text.split("-")[3:]]
    assert sid.authority == 5 and sid.subauthorities == subs
    # The binary form, built by hand: revision, count, 48-bit big-endian authority, subs little-endian.
    raw = struct.pack("<BB", 1, len(subs)) + (5).to_bytes(6, "big") + struct.pack(f"<{len(subs)}I", *subs)
    assert bytes(sid) == raw
    assert apppoolid.Sid.from_bytes(raw) == sid
    assert apppoolid.Sid.from_parts(5, subs) == sid
    assert sid.is_pool and not sid.is_service
    svc = apppoolid.Sid(apppoolid.service_sid("TrustedInstaller"))
    assert svc.is_service and not svc.is_pool
    assert len({sid, apppoolid.Sid(text.lower()), svc}) == 2
    assert sorted([sid, svc]) == [svc, sid]  # 80 orders before 82
    with pytest.raises(apppoolid.InvalidArgument):
        apppoolid.Sid.from_bytes(raw[:-1])
    with pytest.raises(apppoolid.InvalidArgument):
        apppoolid.Sid.from_parts(5, list(range(16)))
    with pytest.raises(apppoolid.InvalidArgument):
        apppoolid.Sid("S-1-x")


def test_registry_settings_export_and_import(ctx, tmp_path):
    assert ctx.registry_get("idRangeStart") == "1879048192"
    profiles = tmp_path / "profiles"
    ctx.registry_set("profileRoot", str(profiles))
    assert ctx.registry_get("profileRoot") == str(profiles)
    with pytest.raises(apppoolid.InvalidArgument, match="noSuchSetting"):
        ctx.registry_get("noSuchSetting")
    with pytest.raises(apppoolid.InvalidArgument, match="relative"):
        ctx.registry_set("profileRoot", "relative")
    assert ctx.registry_get("profileRoot") == str(profiles)
    web = ctx.create_pool("web")
    web["processModel.identityType"] = "NetworkService"
    web["processModel.loadUserProfile"] = False
    assert web.identity_type == "NetworkService" and not web.loads_profile
    assert ctx.open_pool("web").identity().shared_gid is None
    dump = tmp_path / "registry.tsv"
    ctx.export_registry(dump)
    with apppoolid.Context(state_dir=tmp_path / "other") as other:
        other.import_registry(dump)
        assert other.pools() == ["web"]
        again = other.open_pool("web")
        assert again.identity_type == "NetworkService" and not again.loads_profile
        assert again.identity().uid == ctx.open_pool("web").identity().uid
        assert other.registry_get("profileRoot") == str(profiles)
    assert ctx.network_principal()
    ctx.registry_set("networkPrincipal", "CONTOSO\\WEB01$")
    assert ctx.network_principal() == "CONTOSO\\WEB01$"


def test_acl_journal_save_and_restore(ctx, tmp_path):
    uid = ctx.create_pool("web").identity().uid
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "sub" / "f").write_text("x")
    before = {p: getfacl(p) for p in (tree, tree / "sub", tree / "sub" / "f")}
    saved = tmp_path / "saved.acl"
    ctx.save_acls(tree, saved, recursive=True)
    assert "# file: " in saved.read_text()
    journal = tmp_path / "journal"
    edit = ctx.acl_edit().set_journal(journal).grant("IIS AppPool\\web:(OI)(CI)RX")
    assert edit.apply(tree, apppoolid.RECURSIVE)["changed"] == 3
    assert journal.exists() and journal.stat().st_size > 0
    assert all(f"group:{uid}:r-x" in getfacl(p) for p in before)
    ctx.restore_acls(saved, "/")  # the file's paths are relative to / (getfacl -R's)
    assert {p: getfacl(p) for p in before} == before
    # icacls /reset on top of the grant: each path back to what it inherits.
    ctx.acl_edit().grant("IIS AppPool\\web:R").apply(tree / "sub" / "f")
    assert f"group:{uid}:r--" in getfacl(tree / "sub" / "f")
    ctx.acl_edit().reset().apply(tree / "sub" / "f")
    assert f"group:{uid}:" not in getfacl(tree / "sub" / "f")
    with pytest.raises(apppoolid.Error, match="missing"):
        ctx.restore_acls(tmp_path / "missing", "/")


def run(token, script, **kw):
    """Launch /bin/sh -c script under token; (exit code, its stdout)."""
    r, w = os.pipe()
    try:
        with apppoolid.launch(token, ["/bin/sh", "-c", script], pass_fds={1: w}, **kw) as proc:
            os.close(w)
            w = -1
            out = b""
            while chunk := os.read(r, 4096):
                out += chunk
            return proc.wait(), out.decode()
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)


@needs_root
def test_token_settings_reach_the_worker(ctx):
    with ctx.create_pool("tuned").identity() as ident, ident.token() as token:
        token.set_umask(0o077).set_rlimit(resource.RLIMIT_NOFILE, 64).set_shared_group(False)
        assert run(token, "umask; ulimit -n") == (0, "0077\n64\n")
        assert "umask: 0077" in token.describe()
        with pytest.raises(apppoolid.InvalidArgument, match="umask 1000: must be at most 0777"):
            token.set_umask(0o1000)
        with pytest.raises(apppoolid.InvalidArgument, match="umask -1: must be at most 0777"):
            token.set_umask(-1)
        with pytest.raises(apppoolid.InvalidArgument):
            token.set_rlimit(resource.RLIMIT_NOFILE, 65, 64)  # soft above hard
        token.set_rlimit(resource.RLIMIT_CORE, resource.RLIM_INFINITY)
        assert run(token, "ulimit -c") == (0, "unlimited\n")
        # A system call denied on top of the filter: the worker's socket() fails.
        probe = "/usr/bin/python3 -c 'import socket; socket.socket()' 2>/dev/null && echo allowed || echo denied"
        assert run(token, probe) == (0, "allowed\n")
        token.deny_syscall("socket")
        assert run(token, probe) == (0, "denied\n")
        with pytest.raises(apppoolid.InvalidArgument, match="nosuchcall"):
            token.deny_syscall("nosuchcall")
        assert "seccomp: off" not in token.describe()
        token.set_seccomp(False)
        assert "seccomp: off" in token.describe()


@needs_root
def test_apply_self_in_a_forked_child(ctx):
    """A pre-fork server's child drops to the pool: a real fork, a real uid."""
    ident = ctx.create_pool("prefork").identity()
    token = ident.token()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: one thread
        try:
            os.close(r)
            token.apply_self()
            os.write(w, f"{os.getuid()} {os.getgid()}".encode())
        finally:
            os._exit(0)
    os.close(w)
    out = os.read(r, 100).decode()
    os.close(r)
    assert os.waitpid(pid, 0)[1] == 0
    assert out == f"{ident.uid} {ident.gid}"
    # With a second thread running here, refused before any step.
    done = threading.Event()
    t = threading.Thread(target=done.wait)
    t.start()
    try:
        with pytest.raises(apppoolid.InvalidArgument, match="thread"):
            token.apply_self()
    finally:
        done.set()
        t.join()
    assert os.getuid() == 0
    token.close()


@needs_root
def test_parent_death_signal(ctx):
    """The worker gets the signal when the thread that launched it exits."""
    with ctx.create_pool("orphan").identity() as ident, ident.token() as token:
        procs = []
        t = threading.Thread(target=lambda: procs.append(
            apppoolid.launch(token, ["sleep", "60"], parent_death_signal=signal.SIGTERM)))
        t.start()
        t.join()
        assert procs[0].wait(timeout=60) == -signal.SIGTERM
        with pytest.raises(apppoolid.InvalidArgument):
            apppoolid.launch(token, ["true"], parent_death_signal=99)


def test_report_progress_and_log_callbacks(ctx, tmp_path):
    """The per-path report names a directory past the depth limit and the
    limit; progress comes as a big tree is walked; log messages reach the
    context's callback; an exception in a callback surfaces from apply()."""
    logs = []
    ctx.set_log(lambda level, message: logs.append((level, message)), apppoolid.LOG_INFO)
    ctx.create_pool("cb")
    assert any(level == apppoolid.LOG_INFO and "cb" in message for level, message in logs), logs
    deep = tmp_path / "top" / "a" / "b" / "c"
    deep.mkdir(parents=True)
    for i in range(2100):
        (tmp_path / "top" / f"f{i}").write_bytes(b"")
    events, progress = [], []
    edit = ctx.acl_edit().grant("IIS AppPool\\cb:R")
    with pytest.raises(apppoolid.Error, match="limit of 2 directory levels"):
        edit.apply(tmp_path / "top", apppoolid.RECURSIVE | apppoolid.CONTINUE, max_depth=2,
                   report=lambda *e: events.append(e), progress=lambda v, c: progress.append((v, c)))
    failed = [e for e in events if e[0] == "failed"]
    assert failed == [("failed", "a/b/c", failed[0][2])] and "limit of 2 directory levels" in failed[0][2]
    assert ("changed", ".", "") in events and sum(e[0] == "changed" for e in events) == 2100 + 4  # top, a, b, c itself
    assert len(progress) >= 2 and progress == sorted(progress) and progress[-1][0] >= 2000
    # The callbacks were for that apply only; a raising one stops nothing
    # and its exception comes out of apply().
    assert edit.apply(tmp_path / "top" / "f0")["unchanged"] == 1

    def boom(*_):
        raise KeyError("from the report")
    with pytest.raises(KeyError, match="from the report"):
        ctx.acl_edit().grant("IIS AppPool\\cb:RX").apply(tmp_path / "top", apppoolid.RECURSIVE, report=boom)
    assert "r-x" in getfacl(tmp_path / "top" / "f2099")  # the walk went on to the end
    ctx.set_log(None)
    logs.clear()
    ctx.create_pool("quiet")
    assert logs == []
