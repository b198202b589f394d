# SPDX-License-Identifier: LGPL-2.1-or-later
"""Tests of the Python bindings against the real libapppoolid: SIDs, pools in a
real SQLite registry, ACL grants read back from the file system, launches."""
import gc
import os
import pathlib
import struct
import subprocess

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
    ACL_USER = 2
    assert (ACL_USER, 5, uid) in posix_acl_entries(www / "index.html")
    out = subprocess.run(["getfacl", "-cn", str(www / "img")], capture_output=True, text=True).stdout
    assert f"default:user:{uid}:r-x" in out
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
