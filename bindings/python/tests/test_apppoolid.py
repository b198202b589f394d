# SPDX-License-Identifier: LGPL-2.1-or-later
"""Tests of the Python bindings against the real libapppoolid: SIDs, pools in a
real SQLite registry, ACL grants read back from the file system, launches."""
import gc
import os
import pathlib
import struct
import subprocess
import sys

import pytest

import apppoolid

VECTORS = os.environ.get("APID_TEST_VECTORS",
                         str(pathlib.Path(__file__).resolve().parents[3] / "tests" / "vectors.tsv"))


def windows_vectors():
    with open(VECTORS, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            kind, name, sid = line.rstrip("\n").split("\t")[:3]
            yield kind, name, sid


@pytest.mark.parametrize("kind,name,sid", list(windows_vectors()))
def test_sids_match_windows(kind, name, sid):
    fn = apppoolid.pool_sid if kind == "pool" else apppoolid.service_sid
    assert fn(name) == sid


def test_bad_name_raises_with_the_library_message():
    with pytest.raises(apppoolid.InvalidArgument) as e:
        apppoolid.pool_sid("a/b")
    assert str(e.value) == "pool name 'a/b': character '/' is not allowed"
    assert e.value.status == -1
    assert isinstance(e.value, ValueError)


@pytest.fixture
def ctx(tmp_path):
    with apppoolid.Context(state_dir=tmp_path / "state") as c:
        yield c


def test_pools_identities_settings(ctx):
    pool = ctx.create_pool("DefaultAppPool")
    ident = pool.identity()
    assert ident.sid == apppoolid.pool_sid("DefaultAppPool")
    assert ident.account == "IIS APPPOOL\\DefaultAppPool"
    assert ident.user == "apppool-defaultapppool"
    assert 0x70000000 <= ident.uid < 0x70000000 + (1 << 24)
    assert ident.gid == ident.uid
    assert ident.profile is None
    assert ident.identity_type == "ApplicationPoolIdentity"
    assert pool["processModel.maxProcesses"] == "1"
    pool["processModel.maxProcesses"] = 4
    pool["failure.rapidFailProtection"] = False
    again = ctx.open_pool("defaultapppool")
    assert again.name == "DefaultAppPool"
    assert again.settings()["processModel.maxProcesses"] == "4"
    assert again["failure.rapidFailProtection"] == "false"
    with pytest.raises(apppoolid.InvalidArgument, match="not a whole number"):
        pool["processModel.maxProcesses"] = -1
    with pytest.raises(apppoolid.AlreadyExists, match="already exists"):
        ctx.create_pool("DEFAULTAPPPOOL")
    with pytest.raises(apppoolid.NotFound, match="no such pool"):
        ctx.open_pool("missing")
    assert ctx.identity(ident.uid).pool_name == "DefaultAppPool"
    assert ctx.identity("IIS AppPool\\DefaultAppPool").uid == ident.uid
    assert ctx.identity(ident.sid).uid == ident.uid
    assert ctx.pools() == ["DefaultAppPool"]
    ctx.delete_pool("DefaultAppPool", remove_profile=True)
    assert ctx.pools() == []


def test_collision_is_event_9001(ctx):
    ctx.create_pool("k")
    with pytest.raises(apppoolid.Collision, match="IIS event 9001"):
        ctx.create_pool("\u212a")  # KELVIN SIGN: another name, the same SID


def posix_acl_entries(path):
    """The access ACL as the kernel stores it: (tag, perm, id) triples."""
    raw = os.getxattr(path, "system.posix_acl_access")
    version, = struct.unpack_from("<I", raw, 0)
    assert version == 2
    return [struct.unpack_from("<HHI", raw, off) for off in range(4, len(raw), 8)]


def test_grant_is_a_real_posix_acl(ctx, tmp_path):
    www = tmp_path / "www"
    (www / "img").mkdir(parents=True)
    (www / "index.html").write_text("hi")
    uid = ctx.create_pool("web").identity().uid
    counts = ctx.acl_edit().grant("IIS AppPool\\web:(OI)(CI)RX").apply(www, apppoolid.RECURSIVE)
    assert counts["changed"] == 3
    ACL_GROUP = 8  # IIS AppPool\web is the pool's group entry (gid == uid)
    assert (ACL_GROUP, 5, uid) in posix_acl_entries(www / "index.html")
    out = subprocess.run(["getfacl", "-cn", str(www / "img")], capture_output=True, text=True).stdout
    assert f"default:group:{uid}:r-x" in out
    again = ctx.acl_edit().grant("IIS AppPool\\web:(OI)(CI)RX").apply(str(www), apppoolid.RECURSIVE)
    assert again["changed"] == 0 and again["unchanged"] == 3
    with pytest.raises(apppoolid.InvalidArgument, match="at character"):
        ctx.acl_edit().grant("IIS AppPool\\web:(OI")
    with pytest.raises(apppoolid.NotFound, match="no such pool"):
        ctx.acl_edit().grant("IIS AppPool\\nope:R")


@pytest.mark.skipif(os.geteuid() != 0, reason="launching as another uid needs root")
def test_launch_and_wait(ctx):
    ident = ctx.create_pool("runner").identity()
    r, w = os.pipe()
    with ident.token() as token, apppoolid.launch(token, ["id", "-u"], pass_fds={1: w}) as proc:
        os.close(w)
        assert proc.pid > 0 and proc.fileno() >= 0
        assert proc.wait() == 0
        assert os.read(r, 100).decode().strip() == str(ident.uid)
    os.close(r)
    with ident.token() as token:
        with pytest.raises(apppoolid.NotFound, match=r"execve\(/nonexistent\)"):
            apppoolid.launch(token, ["/nonexistent"])
        sleeper = apppoolid.launch(token, ["sleep", "30"])
        assert sleeper.wait(timeout=0.05) is None
        sleeper.send_signal(15)
        assert sleeper.wait() == -15
        sleeper.close()
        assert "no_new_privs: yes" in token.describe()


def test_handles_are_freed_once(ctx):
    pool = ctx.create_pool("gc")
    ident = pool.identity()
    pool.close()
    pool.close()  # a second close does nothing
    with pytest.raises(ValueError, match="closed"):
        _ = pool.name
    # The context can go first: the C side keeps it alive for the identity.
    ctx.close()
    assert ident.user == "apppool-gc"
    del ident
    gc.collect()
    assert apppoolid.version().count(".") == 2


def test_embedded_nul_is_refused_before_c_sees_it():
    """C stops at the first NUL: "a\\0b" would be the pool "a"."""
    for fn in (apppoolid.pool_sid, apppoolid.service_sid):
        with pytest.raises(ValueError, match="embedded null character"):
            fn("a\0b")
        with pytest.raises(ValueError, match="embedded null byte"):
            fn(b"a\0b")
    assert apppoolid.pool_sid("a") != apppoolid.pool_sid("ab")


def test_embedded_nul_deletes_nothing(ctx, tmp_path):
    """delete_pool("web\\0x") once deleted the pool "web"; now it is refused
    and the real registry still holds "web", unchanged."""
    web = ctx.create_pool("web")
    uid = web.identity().uid
    web["processModel.maxProcesses"] = 3
    with pytest.raises(ValueError, match="pool name: embedded null character"):
        ctx.delete_pool("web\0x", remove_profile=True)
    with pytest.raises(ValueError, match="embedded null character"):
        ctx.open_pool("web\0x")
    with pytest.raises(ValueError, match="embedded null character"):
        ctx.create_pool("other\0")
    with pytest.raises(ValueError, match="embedded null character"):
        ctx.identity("apppool-web\0")
    with pytest.raises(ValueError, match="embedded null character"):
        ctx.identity(apppoolid.pool_sid("web") + "\0")
    with pytest.raises(ValueError, match="embedded null character"):
        web["processModel.maxProcesses"] = "4\0"
    with pytest.raises(ValueError, match="embedded null character"):
        _ = web["processModel.maxProcesses\0"]
    edit = ctx.acl_edit()
    with pytest.raises(ValueError, match="embedded null character"):
        edit.grant("IIS AppPool\\web\0:R")
    with pytest.raises(ValueError, match="embedded null byte"):
        edit.apply(bytes(tmp_path) + b"\0/etc")
    with pytest.raises(ValueError, match="embedded null character"):
        apppoolid.Context(state_dir=str(tmp_path) + "\0/x")
    with web.identity().token() as token:
        with pytest.raises(ValueError, match="embedded null character"):
            token.setenv("A\0B", "1")
        with pytest.raises(ValueError, match="embedded null character"):
            token.setenv("A", "1\0")
        with pytest.raises(ValueError, match="embedded null character"):
            token.keep_cap("CAP_NET_BIND_SERVICE\0")
        with pytest.raises(ValueError, match=r"argv\[1\]: embedded null character"):
            apppoolid.launch(token, ["/bin/true", "a\0b"])
        with pytest.raises(ValueError, match="cwd: embedded null character"):
            apppoolid.launch(token, ["/bin/true"], cwd="/\0tmp")
    # Nothing changed in the registry that a fresh context reads.
    with apppoolid.Context(state_dir=tmp_path / "state") as again:
        assert again.pools() == ["web"]
        assert again.open_pool("web")["processModel.maxProcesses"] == "3"
        assert again.identity("apppool-web").uid == uid
    out = subprocess.run(["getfacl", "-cn", str(tmp_path)], capture_output=True, text=True).stdout
    assert f"user:{uid}:" not in out


def test_version_is_the_librarys():
    assert apppoolid.__version__ == apppoolid.version()
    lib = apppoolid._native.lib
    major, minor, patch = (int(x) for x in apppoolid.__version__.split("."))
    assert lib.apid_version_at_least(major, minor, patch) == 1


def run_module(*args, **kw):
    env = dict(os.environ)
    return subprocess.run([sys.executable, "-m", "apppoolid", *args], capture_output=True,
                          text=True, env=env, **kw)


def test_module_entry_point_prints_sids():
    r = run_module("sid", "DefaultAppPool", "web")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [apppoolid.pool_sid("DefaultAppPool"), apppoolid.pool_sid("web")]
    r = run_module("sid", "--service", "TrustedInstaller")
    assert r.returncode == 0, r.stderr
    assert r.stdout == ("S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464\n")
    r = run_module("sid", "a/b")
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr == "apppoolid: pool name 'a/b': character '/' is not allowed\n"
    r = run_module("sid")
    assert r.returncode == 2 and "NAME" in r.stderr
    r = run_module("version")
    assert r.stdout == f"apppoolid {apppoolid.__version__} (libapppoolid {apppoolid.version()})\n"


def test_every_public_name_is_documented_and_typed():
    import inspect
    assert (pathlib.Path(apppoolid.__file__).parent / "py.typed").exists()
    for name in apppoolid.__all__:
        obj = getattr(apppoolid, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert obj.__doc__, name
        if inspect.isfunction(obj):
            assert "return" in obj.__annotations__, name
        if inspect.isclass(obj) and not issubclass(obj, Exception):
            for attr, member in vars(obj).items():
                if attr.startswith("_") and attr not in ("__getitem__", "__setitem__") or attr == "__init__":
                    continue
                if callable(member) or isinstance(member, property):
                    assert member.__doc__, f"{name}.{attr}"


@pytest.mark.skipif(os.geteuid() != 0, reason="launching as another uid needs root")
def test_a_grant_to_a_pool_reaches_its_workers_whatever_the_identity_type(ctx):
    """IIS AppPool\\X is the pool's own group, which every worker of X carries
    (the pool SID, injected): A and B share NetworkService, yet only A's
    worker reads A's file, also after A changes type and back."""
    import shutil
    import tempfile
    tree = tempfile.mkdtemp(prefix="apid-py-inject-")  # pytest's tmp_path is 0700: workers could not reach it
    try:
        os.chmod(tree, 0o711)
        kinds = {"A": "NetworkService", "B": "NetworkService", "C": "ApplicationPoolIdentity"}
        files = {}
        for name, kind in kinds.items():
            ctx.create_pool(name)["processModel.identityType"] = kind
            files[name] = os.path.join(tree, name)
            with open(files[name], "w") as f:
                f.write("content")
            os.chown(files[name], 65534, 65534)
            os.chmod(files[name], 0o600)
            ctx.acl_edit().grant(f"IIS AppPool\\{name}:R").apply(files[name])

        def reads(pool, path):
            with ctx.open_pool(pool).identity() as ident, ident.token() as token, \
                    apppoolid.launch(token, ["/bin/sh", "-c", 'cat "$1" >/dev/null 2>&1 || exit 13', "sh", path]) as proc:
                return proc.wait()

        def only_owners_read():
            return {(p, f): reads(p, files[f]) for p in kinds for f in kinds} == \
                {(p, f): 0 if p == f else 13 for p in kinds for f in kinds}

        assert only_owners_read()
        for kind in ("ApplicationPoolIdentity", "LocalService", "NetworkService"):
            ctx.open_pool("A")["processModel.identityType"] = kind
            assert only_owners_read()
    finally:
        shutil.rmtree(tree)


def test_the_pool_group_whatever_the_identity_type(ctx):
    """The pool's own group (gid == the pool's own uid) does not change with
    the identity type, while the account the workers run as does."""
    own = ctx.create_pool("grouped").identity()
    assert (own.pool_gid, own.pool_group) == (own.uid, own.user)
    ctx.open_pool("grouped")["processModel.identityType"] = "NetworkService"
    shared = ctx.open_pool("grouped").identity()
    assert shared.uid != own.uid
    assert (shared.pool_gid, shared.pool_group) == (own.uid, own.user)


def test_ldif_export_then_import_on_a_host_joining_the_farm(tmp_path):
    """Host A's identities as LDIF (what ldapadd loads); host B, from an empty
    state directory, imports them and has the same pools, users, uids and SIDs."""
    with apppoolid.Context(state_dir=tmp_path / "a") as a, apppoolid.Context(state_dir=tmp_path / "b") as b:
        for name in ("web", "Ünïcode Pool"):
            a.create_pool(name)
        ldif = a.export_ldif("dc=farm,dc=test")
        web = a.open_pool("web").identity()
        entry = ldif.split(f"dn: uid={web.user},ou=People,dc=farm,dc=test\n")[1].split("\n\n")[0]
        assert f"uidNumber: {web.uid}" in entry and f"sambaSID: {apppoolid.pool_sid('web')}" in entry
        assert "gecos: IIS APPPOOL\\web" in entry
        assert "objectClass: posixGroup" in ldif
        # Non-ASCII is base64 ("cn::"), as LDIF requires.
        assert "cn:: " in ldif
        assert f"dn: cn={web.user},ou=Groups,dc=x\n" in a.export_ldif("dc=x", user_ou="ou=Users", group_ou="ou=Groups")
        path = tmp_path / "farm.ldif"
        path.write_text(ldif, encoding="utf-8")
        assert b.pools() == []
        b.import_ldif(path)
        assert b.pools() == a.pools()
        for name in a.pools():
            ia, ib = a.open_pool(name).identity(), b.open_pool(name).identity()
            assert (ib.user, ib.uid, ib.gid, ib.sid) == (ia.user, ia.uid, ia.gid, ia.sid)
        assert b.export_ldif("dc=farm,dc=test") == ldif


def test_ldif_refusals_name_the_value_and_change_nothing(tmp_path):
    with apppoolid.Context(state_dir=tmp_path / "a") as a, apppoolid.Context(state_dir=tmp_path / "c") as c:
        a.create_pool("web")
        a.create_pool("other")
        with pytest.raises(apppoolid.InvalidArgument, match="nodn"):
            a.export_ldif("nodn")
        # web's entry carrying other's SID: refused, naming the file and line.
        forged = a.export_ldif().replace(apppoolid.pool_sid("web"), apppoolid.pool_sid("other"), 1)
        path = tmp_path / "forged.ldif"
        path.write_text(forged, encoding="utf-8")
        with pytest.raises(apppoolid.Error, match=rf"{path}, line \d+"):
            c.import_ldif(path)
        assert c.pools() == []
        with pytest.raises(apppoolid.Error, match="missing.ldif"):
            c.import_ldif(tmp_path / "missing.ldif")


@pytest.mark.skipif(os.geteuid() != 0, reason="launching as another uid needs root")
def test_launch_exec_becomes_the_worker(ctx):
    ident = ctx.create_pool("execer").identity()
    r, w = os.pipe()
    with ident.token() as token:
        pid = os.fork()
        if pid == 0:  # the child becomes the worker: same pid, the pool's uid
            try:
                apppoolid.launch_exec(token, ["sh", "-c", "echo $$ $(id -u)"], pass_fds={1: w})
            finally:
                os._exit(99)
        os.close(w)
        out = os.read(r, 100).decode().split()
        os.close(r)
        assert os.waitpid(pid, 0)[1] == 0
        assert out == [str(pid), str(ident.uid)]
        pid = os.fork()
        if pid == 0:  # a process group leader cannot start the worker's session
            code = 3
            try:
                os.setpgid(0, 0)
                apppoolid.launch_exec(token, ["true"])
            except apppoolid.Error as e:
                code = 0 if "leads its process group" in str(e) and os.getuid() == 0 else 1
            finally:
                os._exit(code)
        assert os.waitpid(pid, 0)[1] == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="launching as another uid needs root")
def test_launch_with_a_terminal(ctx):
    """The pty slave given as terminal is the worker's stdin and stderr (stdout
    is our pipe) and its controlling terminal (/dev/tty opens)."""
    ident = ctx.create_pool("tty").identity()
    master, slave = os.openpty()
    r, w = os.pipe()
    probe = '[ -t 0 ] && echo tty0; [ -t 2 ] && echo tty2; tty; (exec 3</dev/tty) 2>/dev/null && echo ctty'
    try:
        with ident.token() as token:
            with apppoolid.launch(token, ["/bin/sh", "-c", probe], pass_fds={1: w}, terminal=slave) as proc:
                os.close(w)
                w = -1
                assert proc.wait() == 0
                assert os.read(r, 1000).decode() == f"tty0\ntty2\n{os.ttyname(slave)}\nctty\n"
            # Without it the worker gets no terminal, even one passed as stdin.
            r2, w2 = os.pipe()
            with apppoolid.launch(token, ["/bin/sh", "-c", probe], pass_fds={0: slave, 1: w2}) as proc:
                os.close(w2)
                assert proc.wait() != 0  # the last probe, /dev/tty, fails
                assert os.read(r2, 1000).decode() == "not a tty\n"
            os.close(r2)
            with pytest.raises(apppoolid.InvalidArgument):
                apppoolid.launch(token, ["true"], terminal=r)  # a pipe is no terminal
    finally:
        for fd in (master, slave, r, w):
            if fd >= 0:
                os.close(fd)


@pytest.mark.skipif(os.geteuid() != 0, reason="launching as another uid needs root")
def test_launch_timeout_reaches_the_library(ctx):
    ident = ctx.create_pool("timed").identity()
    with ident.token() as token:
        with apppoolid.launch(token, ["true"], timeout=2.5) as proc:
            assert proc.wait() == 0
        for bad in (0, -1, float("nan"), float("inf")):
            with pytest.raises(ValueError, match="timeout"):
                apppoolid.launch(token, ["true"], timeout=bad)
        # The library's own bound (1 h), with its message naming the value.
        with pytest.raises(apppoolid.InvalidArgument, match="3601000"):
            apppoolid.launch(token, ["true"], timeout=3601)


def getfacl(path):
    """getfacl's entries of a path, numeric ids, no header."""
    r = subprocess.run(["getfacl", "-cn", str(path)], capture_output=True, text=True, check=True)
    return r.stdout


def test_max_depth_stops_a_recursive_grant_and_names_the_depth(ctx, tmp_path):
    """A real tree top/d1/d2/d3/d4 with a file at each level: max_depth=2
    enters d1 and d2, edits d3 itself without entering it, and leaves d3's
    file and everything below it as getfacl showed them before."""
    uid = ctx.create_pool("deep").identity().uid
    top = tmp_path / "top"
    level = top
    dirs = [top]
    for i in range(1, 5):
        level = level / f"d{i}"
        dirs.append(level)
    level.mkdir(parents=True)
    for d in dirs:
        (d / "f").write_text("x")
    before = {p: getfacl(p) for d in dirs for p in (d, d / "f")}
    entry = f"group:{uid}:r-x"
    assert not any(entry in acl for acl in before.values())

    edit = ctx.acl_edit(max_depth=2).grant("IIS AppPool\\deep:(OI)(CI)RX")
    with pytest.raises(apppoolid.Error) as e:
        edit.apply(top, apppoolid.RECURSIVE | apppoolid.CONTINUE)
    assert e.value.status == -9  # APID_ERANGE
    assert "d1/d2/d3" in str(e.value) and "limit of 2 directory levels" in str(e.value)
    counts = edit.counts()
    assert counts["failed"] == 1 and counts["changed"] == 7, counts
    for d in dirs[:4]:  # top, d1, d2 and their files; d3 itself
        assert entry in getfacl(d), d
    for p in (dirs[0] / "f", dirs[1] / "f", dirs[2] / "f"):
        assert entry in getfacl(p), p
    for p in (dirs[3] / "f", dirs[4], dirs[4] / "f"):
        assert getfacl(p) == before[p], p

    # The setting stays on the edit; apply(max_depth=) changes it: 4 reaches all.
    with pytest.raises(apppoolid.Error, match="limit of 2 directory levels"):
        edit.apply(top, apppoolid.RECURSIVE)
    counts = edit.apply(top, apppoolid.RECURSIVE, max_depth=4)
    assert counts["changed"] == 3 and counts["failed"] == 0, counts
    assert all(entry in getfacl(p) for p in before)


def test_bad_max_depth_is_refused_naming_it_and_changes_nothing(ctx, tmp_path):
    ctx.create_pool("shallow")
    (tmp_path / "t" / "a" / "b").mkdir(parents=True)
    edit = ctx.acl_edit().grant("IIS AppPool\\shallow:R")
    # 0 and 4097: the library's refusals; -1 and 2**32 cannot reach C as
    # given (ctypes would wrap -1 to 4294967295): refused in its words.
    messages = {}
    for bad in (0, apppoolid.MAX_DEPTH + 1, -1, 2**32):
        with pytest.raises(apppoolid.InvalidArgument) as e:
            edit.set_max_depth(bad)
        assert e.value.status == -1
        messages[bad] = str(e.value)
        with pytest.raises(apppoolid.InvalidArgument, match=f"depth {bad}:"):
            ctx.acl_edit(max_depth=bad)
        with pytest.raises(apppoolid.InvalidArgument, match=f"depth {bad}:"):
            edit.apply(tmp_path / "t", apppoolid.RECURSIVE, max_depth=bad)
    assert messages[0] == "ACL walk depth 0: not between 1 and 4096"
    for bad, message in messages.items():
        assert message == messages[0].replace("depth 0:", f"depth {bad}:")
    with pytest.raises(TypeError):
        edit.set_max_depth(2.5)  # type: ignore[arg-type]
    # Nothing was applied, and the edit's depth is still the default (256).
    assert "user:" not in getfacl(tmp_path / "t" / "a" / "b").replace("user::", "")
    assert edit.set_max_depth(1) is edit
    with pytest.raises(apppoolid.Error, match="limit of 1 directory levels"):
        edit.apply(tmp_path / "t", apppoolid.RECURSIVE)


def test_save_acls_max_depth_bounds_a_recursive_save(ctx, tmp_path):
    """save_acls(max_depth=) is apid_acl_save_depth(): a directory deeper
    than the limit fails the save naming it and the file keeps what it had;
    one level more saves the whole tree; bad depths are refused as for an
    edit, before anything is written."""
    level = tmp_path / "t"
    for i in range(1, 4):
        level = level / f"d{i}"
    level.mkdir(parents=True)
    (level / "bottom").write_text("x")
    saved = tmp_path / "saved.acl"
    saved.write_text("old\n")
    with pytest.raises(apppoolid.Error) as e:
        ctx.save_acls(tmp_path / "t", saved, recursive=True, max_depth=2)
    assert e.value.status == -9  # APID_ERANGE
    assert "t/d1/d2/d3: depth: nested deeper than the limit of 2 directory levels" in str(e.value)
    assert saved.read_text() == "old\n"
    ctx.save_acls(tmp_path / "t", saved, recursive=True, max_depth=3)
    assert any(line.startswith("# file: ") and line.endswith("/d3/bottom")
               for line in saved.read_text().splitlines())
    for bad in (0, apppoolid.MAX_DEPTH + 1, -1, 2**32):
        with pytest.raises(apppoolid.InvalidArgument, match=f"ACL walk depth {bad}: not between 1 and 4096"):
            ctx.save_acls(tmp_path / "t", tmp_path / "bad.acl", recursive=True, max_depth=bad)
    assert not (tmp_path / "bad.acl").exists()
    ctx.save_acls(tmp_path / "t", saved)  # no max_depth: apid_acl_save(), as before


def test_max_depth_is_the_librarys(ctx, tmp_path):
    """MAX_DEPTH is what the loaded library says (apid_acl_max_depth()),
    not a copy that could drift: the library takes it and refuses one more,
    in the same words the binding uses for what cannot reach C."""
    from apppoolid._native import lib
    assert isinstance(apppoolid.MAX_DEPTH, int)
    assert apppoolid.MAX_DEPTH == lib.apid_acl_max_depth() == 4096
    ctx.create_pool("limit")
    edit = ctx.acl_edit().grant("IIS AppPool\\limit:R")
    assert edit.set_max_depth(apppoolid.MAX_DEPTH) is edit
    with pytest.raises(apppoolid.InvalidArgument) as library:
        edit.set_max_depth(apppoolid.MAX_DEPTH + 1)
    with pytest.raises(apppoolid.InvalidArgument) as binding:
        edit.set_max_depth(-1)
    assert str(library.value) == f"ACL walk depth {apppoolid.MAX_DEPTH + 1}: not between 1 and {apppoolid.MAX_DEPTH}"
    assert str(binding.value) == str(library.value).replace(f"depth {apppoolid.MAX_DEPTH + 1}:", "depth -1:")


def cgroup2_own():
    """(mount point of cgroup v2, our cgroup's directory in it), or a reason
    to skip."""
    mount = None
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split(" - ")
            if len(fields) == 2 and fields[1].split()[0] == "cgroup2":
                mount = fields[0].split()[4]
                break
    if mount is None:
        return None, "no cgroup v2 file system mounted"
    with open("/proc/self/cgroup") as f:
        own = next((line.rstrip("\n")[3:] for line in f if line.startswith("0::")), None)
    if own is None:
        return None, "this process is in no cgroup v2"
    return (mount, os.path.join(mount, own.lstrip("/"))), None


@pytest.fixture
def cgroup2(request):
    """A child cgroup made for the test below ours in cgroup v2, removed after
    (once the kernel says it holds no process)."""
    where, reason = cgroup2_own()
    if where is None:
        pytest.skip(reason)
    mount, own = where
    path = os.path.join(own, f"apid-py-{os.getpid()}-{request.node.name[:20]}")
    try:
        os.mkdir(path)
    except OSError as e:
        pytest.skip(f"cgroup v2 is not writable here: mkdir {path}: {e.strerror}")
    yield mount, path
    deadline = 600  # 60 s of 0.1 s polls of a real condition: the cgroup empty
    while deadline and "populated 1" in pathlib.Path(path, "cgroup.events").read_text():
        import select
        with open(os.path.join(path, "cgroup.events")) as ev:  # POLLPRI on a change
            p = select.poll()
            p.register(ev, select.POLLPRI)
            ev.read()
            p.poll(100)
        deadline -= 1
    os.rmdir(path)


@pytest.mark.skipif(os.geteuid() != 0, reason="launching as another uid needs root")
def test_launch_into_a_real_cgroup(ctx, cgroup2):
    """The worker is born in the cgroup given (by path, and by descriptor):
    /proc/PID/cgroup of the running worker and the cgroup's cgroup.procs say so."""
    mount, path = cgroup2
    rel = "/" + os.path.relpath(path, mount)
    ident = ctx.create_pool("grouped-launch").identity()
    dirfd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        with ident.token() as token:
            for given in (path, pathlib.Path(path), dirfd, [dirfd]):
                r, w = os.pipe()
                try:
                    # The worker waits on our pipe: it is running while we look.
                    with apppoolid.launch(token, ["/bin/sh", "-c", "cat >/dev/null"], pass_fds={0: r},
                                          cgroup=given) as proc:
                        with open(f"/proc/{proc.pid}/cgroup") as f:
                            assert f"0::{rel}\n" in f.read(), given
                        procs = pathlib.Path(path, "cgroup.procs").read_text().split()
                        assert str(proc.pid) in procs, given
                        os.close(w)
                        w = -1
                        assert proc.wait() == 0
                finally:
                    os.close(r)
                    if w >= 0:
                        os.close(w)
            os.fstat(dirfd)  # a descriptor given is not closed
            # Without cgroup=, the worker stays in ours.
            r, w = os.pipe()
            with apppoolid.launch(token, ["cat", "/proc/self/cgroup"], pass_fds={1: w}) as proc:
                os.close(w)
                assert proc.wait() == 0
                assert f"0::{rel}\n" not in os.read(r, 4096).decode()
            os.close(r)
    finally:
        os.close(dirfd)


def test_a_cgroup_that_is_not_one_is_refused_naming_it(ctx, tmp_path):
    """A directory outside any cgroup file system, by path and by descriptor,
    a descriptor that is not open, a path that is not there: refused before
    anything is launched, naming the value."""
    ident = ctx.create_pool("not-grouped").identity()
    plain = tmp_path / "plain"
    plain.mkdir()
    with ident.token() as token:
        with pytest.raises(apppoolid.InvalidArgument) as e:
            apppoolid.launch(token, ["true"], cgroup=plain)
        assert str(e.value).startswith(f"{plain}: cgroup ")
        assert str(e.value).endswith(": not a directory of a cgroup file system")
        fd = os.open(plain, os.O_RDONLY | os.O_DIRECTORY)
        try:
            with pytest.raises(apppoolid.InvalidArgument,
                               match=f"^cgroup {fd}: not a directory of a cgroup file system$"):
                apppoolid.launch(token, ["true"], cgroup=fd)
            os.fstat(fd)  # still ours, still open
        finally:
            os.close(fd)
        with pytest.raises(apppoolid.InvalidArgument, match="^cgroup -1: give an open descriptor"):
            apppoolid.launch(token, ["true"], cgroup=-1)
        with pytest.raises(FileNotFoundError) as nf:
            apppoolid.launch(token, ["true"], cgroup=tmp_path / "missing")
        assert nf.value.filename == str(tmp_path / "missing").encode() or \
            os.fsdecode(nf.value.filename) == str(tmp_path / "missing")
        with pytest.raises(NotADirectoryError):
            apppoolid.launch(token, ["true"], cgroup="/proc/self/cgroup")
        with pytest.raises(TypeError):
            apppoolid.launch(token, ["true"], cgroup=True)  # type: ignore[arg-type]
