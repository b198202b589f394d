# SPDX-License-Identifier: LGPL-2.1-or-later
"""The package as users get it: a wheel built offline with Debian's pip,
setuptools and wheel, installed into a fresh virtual environment (without
the system's site-packages), and the package `meson install` puts into the
system python's site directory, imported with no variable set."""
import os
import pathlib
import shutil
import subprocess
import sys
import zipfile

import pytest

import apppoolid

SOURCE = pathlib.Path(apppoolid.__file__).resolve().parents[1]   # bindings/python
PYTHON = "/usr/bin/python3"
HAVE_MYPY = subprocess.run([PYTHON, "-c", "import mypy"], capture_output=True).returncode == 0

# A program against the library, run from outside the source tree.
PROGRAM = r"""
import os, subprocess, sys, tempfile
import apppoolid
assert apppoolid.__file__.startswith(sys.prefix), apppoolid.__file__
with tempfile.TemporaryDirectory() as d, apppoolid.Context(state_dir=os.path.join(d, "state")) as ctx:
    ident = ctx.create_pool("DefaultAppPool").identity()
    assert ident.sid == "S-1-5-82-3006700770-424185619-1745488364-794895919-4004696415"
    www = os.path.join(d, "www")
    os.mkdir(www)
    ctx.acl_edit().grant("IIS AppPool\\DefaultAppPool:(OI)(CI)RX").apply(www)
    acl = subprocess.run(["getfacl", "-cn", www], capture_output=True, text=True, check=True).stdout
    assert f"group:{ident.uid}:r-x" in acl, acl  # the pool's group (gid == uid)
    print(apppoolid.__version__, apppoolid.version(), ident.user, ident.uid)
"""


def clean_env(**extra):
    """The environment without the suite's PYTHONPATH (which would point at
    the source tree and make the test prove nothing)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """`python3 -m pip wheel --no-build-isolation --no-deps bindings/python`,
    offline, on a copy of the source (setuptools writes build/ and
    *.egg-info next to pyproject.toml)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(SOURCE, src, ignore=shutil.ignore_patterns("tests", "__pycache__", "*.egg-info",
                                                               "build"))
    r = subprocess.run([PYTHON, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps",
                        "--no-index", "--no-cache-dir", "-w", str(tmp / "dist"), str(src)],
                       capture_output=True, text=True, env=clean_env(), cwd=tmp)
    assert r.returncode == 0, r.stdout + r.stderr
    wheels = list((tmp / "dist").glob("*.whl"))
    assert [w.name for w in wheels] == [f"apppoolid-{apppoolid.__version__}-py3-none-any.whl"]
    return wheels[0]


def test_wheel_metadata(wheel):
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        meta = z.read(f"apppoolid-{apppoolid.__version__}.dist-info/METADATA").decode()
    assert "apppoolid/py.typed" in names and "apppoolid/__main__.py" in names
    assert "apppoolid/_install.py" not in names   # only a meson install knows its libdir
    assert "License: LGPL-2.1-or-later" in meta.splitlines()
    assert f"Version: {apppoolid.__version__}" in meta.splitlines()


def test_wheel_in_a_fresh_venv_runs_a_program(wheel, tmp_path):
    venv = tmp_path / "venv"
    r = subprocess.run([PYTHON, "-m", "venv", str(venv)], capture_output=True, text=True,
                       env=clean_env())
    assert r.returncode == 0, r.stdout + r.stderr
    cfg = (venv / "pyvenv.cfg").read_text()
    assert "include-system-site-packages = false" in cfg
    vpy = str(venv / "bin" / "python")
    r = subprocess.run([vpy, "-c", "import apppoolid"], capture_output=True, text=True,
                       env=clean_env(), cwd=tmp_path)
    assert r.returncode == 1 and "No module named 'apppoolid'" in r.stderr   # not there yet
    r = subprocess.run([vpy, "-m", "pip", "install", "--no-index", "--no-deps", str(wheel)],
                       capture_output=True, text=True, env=clean_env(), cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    # The library: the build's, named by APPPOOLID_LIBRARY (the suite's environment).
    r = subprocess.run([vpy, "-c", PROGRAM], capture_output=True, text=True, env=clean_env(),
                       cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    version, libversion, user, uid = r.stdout.split()
    assert version == libversion == apppoolid.version()
    assert user == "apppool-defaultapppool" and int(uid) >= 65536
    r = subprocess.run([vpy, "-m", "apppoolid", "sid", "DefaultAppPool"], capture_output=True,
                       text=True, env=clean_env(), cwd=tmp_path)
    assert r.stdout == apppoolid.pool_sid("DefaultAppPool") + "\n", r.stderr
    if HAVE_MYPY:
        # py.typed makes the installed package's hints count for a user's type checker.
        user = tmp_path / "user.py"
        user.write_text("import apppoolid\nsid: int = apppoolid.pool_sid('web')\n")
        r = subprocess.run([PYTHON, "-m", "mypy", "--no-incremental", "--cache-dir=/dev/null",
                            "--python-executable", vpy, str(user)],
                           capture_output=True, text=True, env=clean_env(), cwd=tmp_path)
        assert r.returncode == 1, r.stdout + r.stderr
        assert 'Incompatible types in assignment (expression has type "str", variable has type "int")' \
            in r.stdout, r.stdout


@pytest.mark.skipif(not HAVE_MYPY, reason="mypy (python3-mypy) is not installed")
def test_type_hints_pass_mypy_strict():
    r = subprocess.run([PYTHON, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir=/dev/null",
                        str(SOURCE / "apppoolid")], capture_output=True, text=True, env=clean_env())
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare")
                    or not os.environ.get("APID_BUILD_ROOT") or os.environ.get("APID_SANITIZED"),
                    reason="needs root (a private mount namespace), the build directory, "
                           "and a library that loads without a preloaded sanitizer")
def test_meson_install_then_plain_import(tmp_path):
    """`meson install` (into DESTDIR), then, in a private mount namespace
    whose prefix is overlaid with what was installed, the system python
    imports the package and loads the installed library with no variable
    set (no PYTHONPATH, no APPPOOLID_LIBRARY, no LD_LIBRARY_PATH, no
    ldconfig run since). The host's directories are not touched."""
    build, prefix = os.environ["APID_BUILD_ROOT"], os.environ["APID_PREFIX"]
    site = os.environ["APID_SITE_DIR"]
    meson = shutil.which("meson")
    assert meson and os.path.isdir(prefix)
    dest = tmp_path / "dest"
    r = subprocess.run([meson, "install", "-C", build, "--no-rebuild", "--quiet",
                        "--destdir", str(dest)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    installed = dest / site.lstrip("/") / "apppoolid"
    assert (installed / "__init__.py").exists() and (installed / "py.typed").exists()
    assert site.startswith(prefix.rstrip("/") + "/")
    upper, work = tmp_path / "upper", tmp_path / "work"
    upper.mkdir()
    work.mkdir()
    script = (f"mount -t overlay overlay -o lowerdir={dest / prefix.lstrip('/')}:{prefix},"
              f"upperdir={upper},workdir={work} {prefix} && cd / && "
              f"exec env -i PATH=/usr/bin:/bin {PYTHON} -c \"$0\"")
    program = ("import apppoolid, apppoolid._native as n; "
               "print(apppoolid.__file__, n.lib._name, apppoolid.version(), "
               "apppoolid.pool_sid('DefaultAppPool'))")
    r = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script, program],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    path, lib, version, sid = r.stdout.split()
    assert path == f"{site}/apppoolid/__init__.py"
    # by its soname if the loader knows it, else from the libdir meson recorded
    assert lib == "libapppoolid.so.1" or lib.startswith(prefix.rstrip("/") + "/"), lib
    assert version == apppoolid.__version__
    assert sid == apppoolid.pool_sid("DefaultAppPool")
