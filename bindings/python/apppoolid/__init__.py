# SPDX-License-Identifier: LGPL-2.1-or-later
"""IIS application pool identities for Linux: Python bindings over libapppoolid.

All logic is in the C library; this package only calls it through ctypes.
Library errors become :class:`Error` (or a subclass) carrying the status and
the library's message. Handles free themselves (context managers and
finalizers) and are never freed twice.

    >>> import apppoolid
    >>> apppoolid.pool_sid("DefaultAppPool")
    'S-1-5-82-3006700770-424185619-1745488364-794895919-4004696415'
"""
from __future__ import annotations

import ctypes
import os
from ctypes import c_char_p, c_void_p
from typing import Iterator, Mapping, Optional, Sequence, Union

from ._native import lib

__all__ = [
    "Error", "InvalidArgument", "NotFound", "AlreadyExists", "Collision", "PermissionDenied",
    "Unsupported", "pool_sid", "service_sid", "version", "Context", "Pool", "Identity",
    "AclEdit", "Token", "Process", "launch",
    "GRANT", "GRANT_REPLACE", "DENY", "REMOVE", "RECURSIVE", "STRICT", "CONTINUE", "DRY_RUN",
]

StrPath = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]

# Statuses (include/apppoolid/error.h) and flags (acl.h, pool.h).
_EINVAL, _ENOMEM, _ENOTFOUND, _EEXISTS, _ECOLLISION, _EPERM, _ESYS, _EUNSUPPORTED = range(-1, -9, -1)
GRANT, GRANT_REPLACE, DENY, REMOVE = 1, 2, 3, 4
RECURSIVE, STRICT, CONTINUE, DRY_RUN = 1, 2, 4, 8
_CHANGED, _UNCHANGED, _SKIPPED, _FAILED, _APPROXIMATED = 1, 2, 3, 4, 5
_KEEP_PROFILE, _REMOVE_PROFILE = 1, 2
_IDENTITY_TYPES = ("LocalSystem", "LocalService", "NetworkService", "SpecificUser",
                   "ApplicationPoolIdentity")


class Error(Exception):
    """A libapppoolid failure: ``status`` (a negative APID_E* value), ``errno``
    (what the system said, or 0) and the library's message."""

    def __init__(self, status: int, message: str, errno: int = 0) -> None:
        super().__init__(message)
        self.status = status
        self.errno = errno
        self.message = message


class InvalidArgument(Error, ValueError):
    """APID_EINVAL: a bad name, spec, path or value."""


class NotFound(Error, LookupError):
    """APID_ENOTFOUND: no such pool, account, path or program."""


class AlreadyExists(Error):
    """APID_EEXISTS."""


class Collision(Error):
    """APID_ECOLLISION: two names map to one identity (IIS event 9001)."""


class PermissionDenied(Error, PermissionError):
    """APID_EPERM: not privileged enough."""


class Unsupported(Error):
    """APID_EUNSUPPORTED: not expressible here (strict ACL edits, no ACL support)."""


_CLASSES = {_EINVAL: InvalidArgument, _ENOTFOUND: NotFound, _EEXISTS: AlreadyExists,
            _ECOLLISION: Collision, _EPERM: PermissionDenied, _EUNSUPPORTED: Unsupported}


def _check(status: int) -> int:
    """Raise the library's last error if ``status`` is negative."""
    if status < 0:
        if status == _ENOMEM:
            raise MemoryError(lib.apid_error_message().decode("utf-8", "replace"))
        message = lib.apid_error_message().decode("utf-8", "replace")
        raise _CLASSES.get(status, Error)(status, message, lib.apid_error_errno())
    return status


def _b(value: StrPath) -> bytes:
    """Text or a path as the bytes the C library takes (UTF-8, or the file system's bytes)."""
    value = os.fspath(value)
    if isinstance(value, bytes):
        return value
    return value.encode("utf-8", "surrogateescape")


def _s(value: Optional[bytes]) -> Optional[str]:
    return None if value is None else value.decode("utf-8", "surrogateescape")


def _take_string(ptr: c_void_p) -> str:
    """A string the library allocated for us: copy it, then apid_free() it."""
    try:
        return ctypes.string_at(ptr).decode("utf-8", "surrogateescape")
    finally:
        lib.apid_free(ptr)


class _Handle:
    """An owned C handle, freed once: by close(), by ``with``, or by the finalizer."""

    _free = None  # the C destructor, set by subclasses

    def __init__(self, handle: c_void_p) -> None:
        self._h: Optional[c_void_p] = handle

    @property
    def _handle(self) -> c_void_p:
        if self._h is None:
            raise ValueError(f"{type(self).__name__} is closed")
        return self._h

    def close(self) -> None:
        """Free the handle now; later calls do nothing."""
        h, self._h = self._h, None
        if h is not None and type(self)._free is not None:
            type(self)._free(h)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown
            pass


class _Sid(_Handle):
    _free = lib.apid_sid_free

    def __str__(self) -> str:
        out = c_void_p()
        _check(lib.apid_sid_to_string(self._handle, ctypes.byref(out)))
        return _take_string(out)


def _sid_of(fn, name: str) -> str:
    out = c_void_p()
    _check(fn(_b(name), ctypes.byref(out)))
    with _Sid(out) as sid:
        return str(sid)


def pool_sid(name: str) -> str:
    """The SID Windows gives to ``IIS APPPOOL\\name`` (S-1-5-82-...)."""
    return _sid_of(lib.apid_sid_for_pool, name)


def service_sid(name: str) -> str:
    """The service SID of ``NT SERVICE\\name`` (S-1-5-80-...), as ``sc showsid`` prints it."""
    return _sid_of(lib.apid_sid_for_service, name)


def version() -> str:
    """The version of the loaded libapppoolid."""
    return lib.apid_version().decode()


class Context(_Handle):
    """A library context: the state directory (the registry) and settings.

    ``Context()`` uses ``$APPPOOLID_STATE_DIR`` or the default; ``Context(state_dir=...)``
    another directory. Pools and other handles keep the C context alive by
    themselves, so closing a context early is safe."""

    _free = lib.apid_ctx_unref

    def __init__(self, state_dir: Optional[StrPath] = None) -> None:
        out = c_void_p()
        _check(lib.apid_ctx_new(ctypes.byref(out)))
        super().__init__(out)
        if state_dir is not None:
            _check(lib.apid_ctx_set_state_dir(self._handle, _b(state_dir)))

    @property
    def state_dir(self) -> str:
        """The state directory."""
        return _s(lib.apid_ctx_get_state_dir(self._handle))

    def pools(self) -> list:
        """The names of all pools, sorted by their canonical form."""
        out = c_void_p()
        _check(lib.apid_pool_list_new(self._handle, ctypes.byref(out)))
        try:
            return [_s(lib.apid_pool_list_get(out, i)) for i in range(lib.apid_pool_list_count(out))]
        finally:
            lib.apid_pool_list_free(out)

    def create_pool(self, name: str) -> "Pool":
        """Create a pool with IIS's defaults (appcmd add apppool)."""
        out = c_void_p()
        _check(lib.apid_pool_create(self._handle, _b(name), ctypes.byref(out)))
        return Pool(out)

    def open_pool(self, name: str) -> "Pool":
        """Open an existing pool (the name is compared as IIS does, ignoring case)."""
        out = c_void_p()
        _check(lib.apid_pool_open(self._handle, _b(name), ctypes.byref(out)))
        return Pool(out)

    def delete_pool(self, name: str, *, remove_profile: bool) -> None:
        """Delete a pool; say whether its profile directory goes too."""
        _check(lib.apid_pool_delete(self._handle, _b(name),
                                    _REMOVE_PROFILE if remove_profile else _KEEP_PROFILE))

    def identity(self, who: Union[int, str]) -> "Identity":
        """The pool identity with this uid, POSIX user, account name or SID."""
        out = c_void_p()
        if isinstance(who, int):
            _check(lib.apid_identity_from_uid(self._handle, who, ctypes.byref(out)))
        elif who[:2] in ("S-", "s-"):
            sid = c_void_p()
            _check(lib.apid_sid_parse(_b(who), ctypes.byref(sid)))
            with _Sid(sid):
                _check(lib.apid_identity_from_sid(self._handle, sid, ctypes.byref(out)))
        else:
            _check(lib.apid_identity_from_user(self._handle, _b(who), ctypes.byref(out)))
        return Identity(out)

    def acl_edit(self) -> "AclEdit":
        """A new, empty ACL edit (icacls)."""
        out = c_void_p()
        _check(lib.apid_acl_edit_new(self._handle, ctypes.byref(out)))
        return AclEdit(out)


class Pool(_Handle):
    """An application pool. Settings use appcmd's names
    (``pool["processModel.maxProcesses"] = "4"``) and are written at once."""

    _free = lib.apid_pool_free

    @property
    def name(self) -> str:
        """The name as it was created."""
        return _s(lib.apid_pool_get_name(self._handle))

    def __getitem__(self, setting: str) -> str:
        out = c_void_p()
        _check(lib.apid_pool_get(self._handle, _b(setting), ctypes.byref(out)))
        return _take_string(out)

    def __setitem__(self, setting: str, value: Union[str, int, bool]) -> None:
        if isinstance(value, bool):
            value = "true" if value else "false"
        _check(lib.apid_pool_set(self._handle, _b(setting), _b(str(value))))

    def settings(self) -> dict:
        """Every setting and its value."""
        names = []
        i = 0
        while (n := lib.apid_pool_setting_name(i)) is not None:
            names.append(n.decode())
            i += 1
        return {n: self[n] for n in names}

    def identity(self) -> "Identity":
        """The identity this pool's workers run as."""
        out = c_void_p()
        _check(lib.apid_pool_get_identity(self._handle, ctypes.byref(out)))
        return Identity(out)


class Identity(_Handle):
    """A pool identity: Windows SID and account, POSIX user, uid, gid, profile."""

    _free = lib.apid_identity_free

    @property
    def sid(self) -> str:
        out = c_void_p()
        _check(lib.apid_sid_to_string(lib.apid_identity_get_sid(self._handle), ctypes.byref(out)))
        return _take_string(out)

    account = property(lambda self: _s(lib.apid_identity_get_account(self._handle)),
                       doc="'IIS APPPOOL\\\\name' (or the built-in account)")
    pool_name = property(lambda self: _s(lib.apid_identity_get_pool_name(self._handle)),
                         doc="the pool's name")
    user = property(lambda self: _s(lib.apid_identity_get_user(self._handle)),
                    doc="the POSIX user name")
    uid = property(lambda self: int(lib.apid_identity_get_uid(self._handle)), doc="the uid")
    gid = property(lambda self: int(lib.apid_identity_get_gid(self._handle)), doc="the gid")
    uid_probe = property(lambda self: int(lib.apid_identity_get_uid_probe(self._handle)),
                         doc="0 when the uid is the SID's first choice")
    profile = property(lambda self: _s(lib.apid_identity_get_profile_dir(self._handle)),
                       doc="the profile directory, or None")

    @property
    def identity_type(self) -> str:
        return _IDENTITY_TYPES[_check(lib.apid_identity_get_type(self._handle))]

    def token(self) -> "Token":
        """A restricted token for this identity, every restriction on."""
        out = c_void_p()
        _check(lib.apid_token_new(self._handle, ctypes.byref(out)))
        return Token(out)


class AclEdit(_Handle):
    """icacls for Linux: collect changes, then apply them to a path."""

    _free = lib.apid_acl_edit_free

    def add(self, op: int, spec: str) -> "AclEdit":
        """Add a change: GRANT, GRANT_REPLACE, DENY with "trustee:rights", REMOVE with "trustee"."""
        _check(lib.apid_acl_edit_add(self._handle, op, _b(spec)))
        return self

    def grant(self, spec: str) -> "AclEdit":
        """icacls /grant: ``edit.grant("IIS AppPool\\\\web:(OI)(CI)RX")``."""
        return self.add(GRANT, spec)

    def deny(self, spec: str) -> "AclEdit":
        """icacls /deny."""
        return self.add(DENY, spec)

    def remove(self, trustee: str) -> "AclEdit":
        """icacls /remove."""
        return self.add(REMOVE, trustee)

    def apply(self, path: StrPath, flags: int = 0) -> dict:
        """Apply to ``path`` (RECURSIVE, STRICT, CONTINUE, DRY_RUN); returns the counts."""
        _check(lib.apid_acl_edit_set_flags(self._handle, flags))
        _check(lib.apid_acl_edit_apply(self._handle, _b(path)))
        return self.counts()

    def counts(self) -> dict:
        """What the last apply did: changed, unchanged, skipped, failed, approximated."""
        names = ("changed", "unchanged", "skipped", "failed", "approximated")
        return {n: int(lib.apid_acl_edit_count(self._handle, i + 1)) for i, n in enumerate(names)}


class Token(_Handle):
    """A restricted token (see docs/security.md)."""

    _free = lib.apid_token_free

    def keep_cap(self, name: str) -> "Token":
        """Keep one capability, e.g. "CAP_NET_BIND_SERVICE"."""
        _check(lib.apid_token_keep_cap(self._handle, _b(name)))
        return self

    def setenv(self, name: str, value: Optional[str]) -> "Token":
        """Add, replace or (with None) remove a variable of the worker's environment."""
        _check(lib.apid_token_setenv(self._handle, _b(name), None if value is None else _b(value)))
        return self

    def describe(self) -> str:
        """What a worker gets, one item a line."""
        out = c_void_p()
        _check(lib.apid_token_describe(self._handle, ctypes.byref(out)))
        return _take_string(out)


class Process(_Handle):
    """A launched worker. ``fileno()`` is its pidfd, for select/poll/asyncio."""

    _free = lib.apid_process_free

    pid = property(lambda self: lib.apid_process_get_pid(self._handle), doc="the process id")

    def fileno(self) -> int:
        return lib.apid_process_get_fd(self._handle)

    def send_signal(self, sig: int) -> None:
        _check(lib.apid_process_signal(self._handle, sig))

    def wait(self, timeout: Optional[float] = None) -> Optional[int]:
        """Wait (seconds; None: forever). Returns the exit code, -N for signal N,
        or None if still running after the timeout."""
        ms = -1 if timeout is None else max(0, int(timeout * 1000))
        r = lib.apid_process_wait(self._handle, ms)
        if r == -11:  # APID_EBUSY
            return None
        _check(r)
        code = lib.apid_process_exit_code(self._handle)
        return code if code >= 0 else -lib.apid_process_term_signal(self._handle)


def launch(token: Token, argv: Sequence[StrPath], *, cwd: Optional[StrPath] = None,
           pass_fds: Optional[Mapping[int, int]] = None) -> Process:
    """Launch ``argv`` under ``token``. ``pass_fds`` maps the worker's descriptor
    numbers to the caller's (``{1: pipe_w, 3: listening_socket}``)."""
    if not argv:
        raise ValueError("argv must not be empty")
    attr = c_void_p()
    _check(lib.apid_launch_attr_new(ctypes.byref(attr)))
    try:
        for child_fd, parent_fd in (pass_fds or {}).items():
            _check(lib.apid_launch_attr_pass_fd(attr, int(parent_fd), int(child_fd)))
        if cwd is not None:
            _check(lib.apid_launch_attr_set_cwd(attr, _b(cwd)))
        args = (c_char_p * (len(argv) + 1))(*[_b(a) for a in argv], None)
        out = c_void_p()
        _check(lib.apid_launch(token._handle, attr, _b(argv[0]), args, ctypes.byref(out)))
        return Process(out)
    finally:
        lib.apid_launch_attr_free(attr)
