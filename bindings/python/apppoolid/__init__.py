# SPDX-License-Identifier: LGPL-2.1-or-later
"""IIS application pool identities for Linux: Python bindings over libapppoolid.

All logic is in the C library; this package only calls it through ctypes.
Library errors become :class:`Error` (or a subclass) carrying the status and
the library's message. Handles free themselves (context managers and
finalizers) and are never freed twice.

Threads: every handle counts the calls in progress on it (ctypes releases
the GIL during each call), the way .NET's SafeHandle does. ``close()`` from
one thread while another is inside a call on the same handle marks the
handle closed at once (new calls raise ``ValueError``) and frees the C
handle when the last call in progress returns; it never frees memory a call
is using. Handles the C library allows only one thread at a time on (a pool,
an ACL edit, a token) also serialise their calls.

Strings cross into C as UTF-8 (or a path's bytes); one with an embedded NUL
is refused with ``ValueError``, as the ``os`` functions do, before anything
is called.

    >>> import apppoolid
    >>> apppoolid.pool_sid("DefaultAppPool")
    'S-1-5-82-3006700770-424185619-1745488364-794895919-4004696415'
"""
from __future__ import annotations

import ctypes
import functools
import math
import operator
import os
import threading
from ctypes import c_char_p, c_void_p
from typing import Callable, Dict, List, Mapping, NoReturn, Optional, Sequence, Tuple, TypeVar, Union, cast

from ._native import LOG_FN, PROGRESS_FN, REPORT_FN, lib
from ._version import __version__

__all__ = [
    "__version__", "Error", "InvalidArgument", "NotFound", "AlreadyExists", "Collision",
    "PermissionDenied", "Unsupported", "pool_sid", "service_sid", "version", "Context", "Pool",
    "Identity", "AclEdit", "Token", "Process", "launch", "launch_exec",
    "GRANT", "GRANT_REPLACE", "DENY", "REMOVE", "RECURSIVE", "STRICT", "CONTINUE", "DRY_RUN",
    "MAX_DEPTH", "pool_name_check", "pool_names_equal", "pool_name_canonical", "pool_account",
    "service_account", "version_at_least", "version_number", "default_state_dir",
    "check_pool_setting", "acl_spec_check", "Sid", "FOLLOW_HARDLINKS",
    "LOG_ERROR", "LOG_WARNING", "LOG_INFO", "LOG_DEBUG",
]

StrPath = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]
#: A cgroup for launch(): its directory's path, or an open descriptor of it.
Cgroup = Union[int, StrPath]
_H = TypeVar("_H", bound="_Handle")

# Statuses (include/apppoolid/error.h) and flags (acl.h, pool.h).
_EINVAL, _ENOMEM, _ENOTFOUND, _EEXISTS, _ECOLLISION, _EPERM, _ESYS, _EUNSUPPORTED = range(-1, -9, -1)
_ERANGE, _EBUSY = -9, -11
#: The deepest recursive walk AclEdit.set_max_depth() and save_acls() take,
#: asked of the loaded library (apid_acl_max_depth(): APID_ACL_MAX_DEPTH, 4096),
#: so that this package's range check and message never drift from its.
MAX_DEPTH = int(lib.apid_acl_max_depth())
#: AclEdit.add() operations: icacls /grant, /grant:r, /deny, /remove.
GRANT, GRANT_REPLACE, DENY, REMOVE = 1, 2, 3, 4
#: AclEdit.apply() flags: /T, fail on what POSIX ACLs cannot express, /C, dry run.
RECURSIVE, STRICT, CONTINUE, DRY_RUN = 1, 2, 4, 8
#: AclEdit.apply(): also edit a file with several hard links a pool may have planted (acl.h).
FOLLOW_HARDLINKS = 16
#: Context.set_log() levels, as syslog's (context.h).
LOG_ERROR, LOG_WARNING, LOG_INFO, LOG_DEBUG = 3, 4, 6, 7
_KEEP_PROFILE, _REMOVE_PROFILE = 1, 2
_IDENTITY_TYPES = ("LocalSystem", "LocalService", "NetworkService", "SpecificUser",
                   "ApplicationPoolIdentity")
_COUNTS = ("changed", "unchanged", "skipped", "failed", "approximated")


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
    """APID_EEXISTS: a pool of that name (compared as IIS does) exists."""


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
        message = lib.apid_error_message().decode("utf-8", "replace")
        if status == _ENOMEM:
            raise MemoryError(message)
        raise _CLASSES.get(status, Error)(status, message, lib.apid_error_errno())
    return status


def _b(value: StrPath, what: str) -> bytes:
    """Text or a path as the NUL-terminated bytes the C library takes (UTF-8,
    or the file system's bytes). C would stop at an embedded NUL and act on
    a prefix of the value ("web\\0x" would name the pool "web"): refused."""
    value = os.fspath(value)
    if isinstance(value, str):
        if "\0" in value:
            raise ValueError(f"{what}: embedded null character")
        return value.encode("utf-8", "surrogateescape")
    if b"\0" in value:
        raise ValueError(f"{what}: embedded null byte")
    return value


def _s(value: Optional[bytes]) -> Optional[str]:
    return None if value is None else value.decode("utf-8", "surrogateescape")


def _take_string(ptr: c_void_p) -> str:
    """A string the library allocated for us: copy it, then apid_free() it."""
    try:
        return ctypes.string_at(ptr).decode("utf-8", "surrogateescape")
    finally:
        lib.apid_free(ptr)


class _Call:
    """One call on a handle: ``with handle._use() as h:``. Counts the call in,
    so that close() meanwhile is deferred, and out, freeing the C handle if it
    was the last call of a closed handle."""

    __slots__ = ("_owner",)

    def __init__(self, owner: "_Handle") -> None:
        self._owner = owner

    def __enter__(self) -> c_void_p:
        owner = self._owner
        with owner._lock:
            if owner._closed:
                raise ValueError(f"{type(owner).__name__} is closed")
            owner._calls += 1
        if owner._serial is not None:
            try:
                owner._serial.acquire()
            except BaseException:
                owner._leave()
                raise
        # Not None: the C handle is freed only once no call is counted in.
        return cast(c_void_p, owner._h)

    def __exit__(self, *exc: object) -> None:
        owner = self._owner
        if owner._serial is not None:
            owner._serial.release()
        owner._leave()


class _Handle:
    """An owned C handle, freed once: by close(), by ``with``, or by the finalizer,
    and never while a call on it is in progress (see the module's notes)."""

    _free: Optional[Callable[[c_void_p], None]] = None  # the C destructor, set by subclasses
    _exclusive = False  # the C library allows one thread at a time on such a handle

    def __init__(self, handle: c_void_p) -> None:
        self._lock = threading.Lock()
        self._calls = 0
        self._closed = False
        self._serial: Optional[threading.RLock] = threading.RLock() if self._exclusive else None
        self._h: Optional[c_void_p] = handle

    def _use(self) -> _Call:
        return _Call(self)

    def _leave(self) -> None:
        with self._lock:
            self._calls -= 1
            if not self._closed or self._calls or self._h is None:
                return
            h, self._h = self._h, None
        self._release(h)

    def _release(self, h: Optional[c_void_p]) -> None:
        free = type(self)._free
        if h is not None and free is not None:
            free(h)

    @property
    def closed(self) -> bool:
        """True once close() was called (the C handle may still be in use by
        a call in progress on another thread; it is freed when that returns)."""
        return self._closed

    def close(self) -> None:
        """Close the handle: later calls raise ValueError. The C handle is
        freed now, or, if other threads are inside calls on it, when the last
        of them returns. A second close() does nothing."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._calls:
                return
            h, self._h = self._h, None
        self._release(h)

    def __enter__(self: _H) -> _H:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown, or __init__ failed early
            pass


class _Sid(_Handle):
    _free = lib.apid_sid_free

    def __str__(self) -> str:
        out = c_void_p()
        with self._use() as h:
            _check(lib.apid_sid_to_string(h, ctypes.byref(out)))
        return _take_string(out)


@functools.total_ordering
class Sid:
    """A SID as a value: ``Sid("S-1-5-82-...")``, ``Sid.from_bytes(b)`` (the
    binary form of LDAP's objectSid and of Windows' security descriptors),
    ``Sid.from_parts(5, [82, ...])``. Immutable; equal SIDs are equal and hash
    alike; ordered as the library orders them. ``str()`` is its canonical
    text, ``bytes()`` its binary form. Everywhere else SIDs cross as text."""

    __slots__ = ("_text",)

    def __init__(self, text: str) -> None:
        out = c_void_p()
        _check(lib.apid_sid_parse(_b(text, "SID"), ctypes.byref(out)))
        with _Sid(out) as sid:
            self._text = str(sid)

    @classmethod
    def _of(cls, handle: c_void_p) -> "Sid":
        with _Sid(handle) as sid:
            obj = cls.__new__(cls)
            obj._text = str(sid)
            return obj

    @classmethod
    def from_bytes(cls, data: bytes) -> "Sid":
        """The SID in its binary form (revision 1, the count, the authority, the
        sub-authorities little-endian): exactly 8 + 4 * count bytes."""
        raw = bytes(data)
        out = c_void_p()
        _check(lib.apid_sid_from_bytes(raw, len(raw), ctypes.byref(out)))
        return cls._of(out)

    @classmethod
    def from_parts(cls, authority: int, subauthorities: Sequence[int]) -> "Sid":
        """The SID S-1-``authority``-``sub``-...: at most 15 sub-authorities."""
        subs = (ctypes.c_uint32 * max(1, len(subauthorities)))(*subauthorities)
        out = c_void_p()
        _check(lib.apid_sid_from_parts(authority, subs, len(subauthorities), ctypes.byref(out)))
        return cls._of(out)

    def _parsed(self) -> "_Sid":
        out = c_void_p()
        _check(lib.apid_sid_parse(self._text.encode(), ctypes.byref(out)))
        return _Sid(out)

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"Sid({self._text!r})"

    def __bytes__(self) -> bytes:
        with self._parsed() as sid, sid._use() as h:
            size = lib.apid_sid_byte_size(h)
            buf = ctypes.create_string_buffer(size)
            written = ctypes.c_size_t()
            _check(lib.apid_sid_to_bytes(h, buf, size, ctypes.byref(written)))
            return buf.raw[:written.value]

    @property
    def authority(self) -> int:
        """The identifier authority (5 for NT AUTHORITY)."""
        with self._parsed() as sid, sid._use() as h:
            return int(lib.apid_sid_authority(h))

    @property
    def subauthorities(self) -> List[int]:
        """The sub-authorities, in order ([82, ...] for a pool)."""
        with self._parsed() as sid, sid._use() as h:
            out = []
            for i in range(lib.apid_sid_subauthority_count(h)):
                v = ctypes.c_uint32()
                _check(lib.apid_sid_get_subauthority(h, i, ctypes.byref(v)))
                out.append(int(v.value))
            return out

    @property
    def is_pool(self) -> bool:
        """Whether it is an application pool's SID (S-1-5-82-...)."""
        with self._parsed() as sid, sid._use() as h:
            return bool(lib.apid_sid_is_pool(h))

    @property
    def is_service(self) -> bool:
        """Whether it is a service SID (S-1-5-80-...)."""
        with self._parsed() as sid, sid._use() as h:
            return bool(lib.apid_sid_is_service(h))

    def _cmp(self, other: "Sid", fn: Callable[[c_void_p, c_void_p], int]) -> int:
        with self._parsed() as a, a._use() as ha, other._parsed() as b, b._use() as hb:
            return int(fn(ha, hb))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sid):
            return NotImplemented
        return bool(self._cmp(other, lib.apid_sid_equal))

    def __lt__(self, other: "Sid") -> bool:
        if not isinstance(other, Sid):
            return NotImplemented
        return self._cmp(other, lib.apid_sid_compare) < 0

    def __hash__(self) -> int:
        return hash(self._text)  # the canonical text: equal SIDs, equal text


def _sid_of(fn: Callable[..., int], name: str) -> str:
    out = c_void_p()
    _check(fn(_b(name, "name"), ctypes.byref(out)))
    with _Sid(out) as sid:
        return str(sid)


def pool_sid(name: str) -> str:
    """The SID Windows gives to ``IIS APPPOOL\\name`` (S-1-5-82-...)."""
    return _sid_of(lib.apid_sid_for_pool, name)


def service_sid(name: str) -> str:
    """The service SID of ``NT SERVICE\\name`` (S-1-5-80-...), as ``sc showsid`` prints it."""
    return _sid_of(lib.apid_sid_for_service, name)


def _text_of(fn: Callable[..., int], *args: object) -> str:
    out = c_void_p()
    _check(fn(*args, ctypes.byref(out)))
    return _take_string(out)


def pool_name_check(name: str) -> None:
    """Check a pool name as IIS does (at most 64 characters, none of
    ``\\ / : * ? " < > |``, no control character...): raises
    :class:`InvalidArgument` with the library's message naming what is wrong."""
    _check(lib.apid_pool_name_check(_b(name, "pool name")))


def pool_names_equal(a: str, b: str) -> bool:
    """Whether two pool names name the same pool (IIS compares them ignoring
    case, as Windows upper-cases them)."""
    return bool(_check(lib.apid_pool_name_equal(_b(a, "pool name"), _b(b, "pool name"))))


def pool_name_canonical(name: str) -> str:
    """The form two equal pool names share (what the SID is derived from)."""
    return _text_of(lib.apid_pool_name_canonical, _b(name, "pool name"))


def pool_account(name: str) -> str:
    """The Windows account of a pool: ``IIS APPPOOL\\name``."""
    return _text_of(lib.apid_account_for_pool, _b(name, "pool name"))


def service_account(name: str) -> str:
    """The Windows account of a service: ``NT SERVICE\\name``."""
    return _text_of(lib.apid_account_for_service, _b(name, "service name"))


def check_pool_setting(setting: str, value: str) -> None:
    """Check a pool setting's name and the form of a value without changing
    anything: raises :class:`InvalidArgument` naming the setting and the value."""
    _check(lib.apid_pool_check_setting(_b(setting, "setting"), _b(value, "value")))


def acl_spec_check(spec: str) -> None:
    """Check the grammar of an icacls spec ("trustee:perm") without resolving
    the trustee: raises :class:`InvalidArgument` quoting the spec and pointing
    at the offending character."""
    _check(lib.apid_acl_spec_check(_b(spec, "ACL spec")))


def version_number() -> int:
    """The loaded library's version as one number: major * 10000 + minor * 100 + patch."""
    return int(lib.apid_version_number())


def version_at_least(major: int, minor: int = 0, patch: int = 0) -> bool:
    """Whether the loaded library is at least this version (for a feature
    that came with it)."""
    return bool(lib.apid_version_at_least(major, minor, patch))


def default_state_dir() -> str:
    """The state directory used when neither the API nor ``$APPPOOLID_STATE_DIR``
    sets one (chosen when the library was built: /var/lib/apppoolid by default)."""
    return _s(lib.apid_ctx_default_state_dir()) or ""


def version() -> str:
    """The version of the loaded libapppoolid (``apid_version()``); equal to
    ``__version__`` for the library this package was built with."""
    return str(lib.apid_version().decode())


class Context(_Handle):
    """A library context: the state directory (the registry) and settings.

    ``Context()`` uses ``$APPPOOLID_STATE_DIR`` or the default; ``Context(state_dir=...)``
    another directory. Pools and other handles keep the C context alive by
    themselves, so closing a context early is safe. A context may be used
    from several threads at once."""

    _free = lib.apid_ctx_unref

    def __init__(self, state_dir: Optional[StrPath] = None) -> None:
        path = None if state_dir is None else _b(state_dir, "state_dir")
        out = c_void_p()
        _check(lib.apid_ctx_new(ctypes.byref(out)))
        super().__init__(out)
        if path is not None:
            with self._use() as h:
                _check(lib.apid_ctx_set_state_dir(h, path))

    @property
    def state_dir(self) -> str:
        """The state directory."""
        with self._use() as h:
            return _s(lib.apid_ctx_get_state_dir(h)) or ""

    def pools(self) -> List[str]:
        """The names of all pools, sorted by their canonical form."""
        out = c_void_p()
        with self._use() as h:
            _check(lib.apid_pool_list_new(h, ctypes.byref(out)))
        try:
            return [_s(lib.apid_pool_list_get(out, i)) or ""
                    for i in range(lib.apid_pool_list_count(out))]
        finally:
            lib.apid_pool_list_free(out)

    def create_pool(self, name: str) -> "Pool":
        """Create a pool with IIS's defaults (appcmd add apppool)."""
        raw = _b(name, "pool name")
        out = c_void_p()
        with self._use() as h:
            _check(lib.apid_pool_create(h, raw, ctypes.byref(out)))
        return Pool(out)

    def open_pool(self, name: str) -> "Pool":
        """Open an existing pool (the name is compared as IIS does, ignoring case)."""
        raw = _b(name, "pool name")
        out = c_void_p()
        with self._use() as h:
            _check(lib.apid_pool_open(h, raw, ctypes.byref(out)))
        return Pool(out)

    def delete_pool(self, name: str, *, remove_profile: bool) -> None:
        """Delete a pool; say whether its profile directory goes too."""
        raw = _b(name, "pool name")
        with self._use() as h:
            _check(lib.apid_pool_delete(h, raw, _REMOVE_PROFILE if remove_profile else _KEEP_PROFILE))

    def identity(self, who: Union[int, str]) -> "Identity":
        """The pool identity with this uid, POSIX user, account name or SID."""
        out = c_void_p()
        if isinstance(who, int):
            with self._use() as h:
                _check(lib.apid_identity_from_uid(h, who, ctypes.byref(out)))
        elif who[:2] in ("S-", "s-"):
            sid = c_void_p()
            _check(lib.apid_sid_parse(_b(who, "SID"), ctypes.byref(sid)))
            with _Sid(sid) as s, s._use() as sh, self._use() as h:
                _check(lib.apid_identity_from_sid(h, sh, ctypes.byref(out)))
        else:
            raw = _b(who, "user")
            with self._use() as h:
                _check(lib.apid_identity_from_user(h, raw, ctypes.byref(out)))
        return Identity(out)

    def export_ldif(self, base: Optional[str] = None, *, user_ou: Optional[str] = None,
                    group_ou: Optional[str] = None) -> str:
        """The registry's identities as LDIF for a web farm's directory
        (``apppoolctl registry export --ldif``; docs/farm.md): a posixAccount
        with its sambaSID and a posixGroup per pool and built-in account,
        and the shared group. ``base`` defaults to ``dc=example,dc=org``,
        the containers to ``ou=People`` and ``ou=Group``."""
        raw = [None if v is None else _b(v, what)
               for v, what in ((base, "base"), (user_ou, "user_ou"), (group_ou, "group_ou"))]
        out = c_void_p()
        with self._use() as h:
            _check(lib.apid_registry_export_ldif(h, raw[0], raw[1], raw[2], ctypes.byref(out)))
        return _take_string(out)

    def import_ldif(self, path: StrPath) -> None:
        """Import the identities of an LDIF file (from :meth:`export_ldif` or
        ``ldapsearch -LLL``) so that this host uses the farm's ids
        (``apppoolctl registry import --ldif``). All or nothing: a refusal
        names the file and the entry's line, and imports nothing."""
        raw = _b(path, "path")
        with self._use() as h:
            _check(lib.apid_registry_import_ldif(h, raw))

    _log_fn: Optional[object] = None

    def _release(self, h: Optional[c_void_p]) -> None:
        # Pools and identities may keep the C context alive after this object
        # is gone: the C side must not keep the callback this object owns.
        if h is not None and self._log_fn is not None:
            lib.apid_ctx_set_log_fn(h, None, None)
        super()._release(h)

    def set_log(self, fn: Optional[Callable[[int, str], None]], level: Optional[int] = None) -> None:
        """Send the library's log messages for this context to ``fn(level,
        message)`` (None: no callback), those at ``level`` or more severe
        (LOG_ERROR, LOG_WARNING (the default), LOG_INFO, LOG_DEBUG). ``fn``
        runs on the thread of the call that logs and must not call back into
        the library with this context; an exception it raises goes to
        ``sys.unraisablehook`` and is otherwise ignored. Configure a context
        before sharing it between threads. Pools and identities made from the
        context log through it until the context is closed (then no more)."""
        callback = None
        if fn is not None:
            log = fn

            def call(lvl: int, msg: bytes, _: object) -> None:
                log(int(lvl), msg.decode("utf-8", "replace"))
            callback = LOG_FN(call)
        with self._use() as h:
            if level is not None:
                _check(lib.apid_ctx_set_log_level(h, level))
            _check(lib.apid_ctx_set_log_fn(h, callback, None))
            # Kept alive for as long as the C side may call it.
            self._log_fn = callback

    def registry_get(self, setting: str) -> str:
        """A registry setting's value as text (docs/pools.md has the table)."""
        raw = _b(setting, "setting")
        with self._use() as h:
            return _text_of(lib.apid_registry_get, h, raw)

    def registry_set(self, setting: str, value: Union[str, int]) -> None:
        """Set a registry setting; refused (naming it) when it cannot change
        now (a uid range while pools exist)."""
        raw_setting, raw_value = _b(setting, "setting"), _b(str(value), "value")
        with self._use() as h:
            _check(lib.apid_registry_set(h, raw_setting, raw_value))

    def export_registry(self, path: StrPath) -> None:
        """Write the registry (every pool and identity, the settings) to a file,
        for import_registry() on another host (``apppoolctl registry export``)."""
        raw = _b(path, "path")
        with self._use() as h:
            _check(lib.apid_registry_export(h, raw))

    def import_registry(self, path: StrPath) -> None:
        """Import a file from export_registry(): all or nothing."""
        raw = _b(path, "path")
        with self._use() as h:
            _check(lib.apid_registry_import(h, raw))

    def network_principal(self) -> str:
        """The host's identity on the network, which every pool uses there (IIS's
        machine account): the registry's networkPrincipal setting if set; else
        ``REALM\\HOST$`` where /etc/krb5.conf names a default realm; else the
        host name."""
        with self._use() as h:
            return _text_of(lib.apid_registry_network_principal, h)

    def account_to_sid(self, account: str) -> str:
        """The SID of an account name ("IIS APPPOOL\\web", "NT AUTHORITY\\SYSTEM"...)."""
        raw = _b(account, "account")
        out = c_void_p()
        with self._use() as h:
            _check(lib.apid_account_to_sid(h, raw, ctypes.byref(out)))
        with _Sid(out) as sid:
            return str(sid)

    def sid_to_account(self, sid: str) -> str:
        """The account name of a SID, as Windows prints it ("NT AUTHORITY\\SYSTEM"
        for S-1-5-18). Pool and service SIDs are one-way hashes of their names:
        :class:`NotFound` for them (use :attr:`Identity.account`)."""
        parsed = c_void_p()
        _check(lib.apid_sid_parse(_b(sid, "SID"), ctypes.byref(parsed)))
        with _Sid(parsed) as s, s._use() as sh, self._use() as h:
            return _text_of(lib.apid_sid_to_account, h, sh)

    def save_acls(self, path: StrPath, file: StrPath, *, recursive: bool = False,
                  max_depth: Optional[int] = None) -> None:
        """Save the ACLs of ``path`` (and of the tree below it) to ``file`` in
        the text getfacl -R prints and setfacl --restore reads (icacls /save).
        ``max_depth``: how many directory levels below ``path`` a recursive
        save enters (1 to :data:`MAX_DEPTH`; default 256); a deeper directory
        fails the save with :class:`Error` (status -9, APID_ERANGE) naming
        it, and ``file`` is left as it was."""
        raw_path, raw_file = _b(path, "path"), _b(file, "file")
        flags = RECURSIVE if recursive else 0
        depth = None if max_depth is None else _depth(max_depth)
        with self._use() as h:
            if depth is None:
                _check(lib.apid_acl_save(h, raw_path, raw_file, flags))
            else:
                _check(lib.apid_acl_save_depth(h, raw_path, raw_file, flags, depth))

    def restore_acls(self, file: StrPath, base_dir: StrPath, flags: int = 0) -> None:
        """Restore ACLs saved by save_acls() (or getfacl -R) below ``base_dir``
        (icacls /restore); ``flags``: CONTINUE, DRY_RUN."""
        raw_file, raw_base = _b(file, "file"), _b(base_dir, "base_dir")
        with self._use() as h:
            _check(lib.apid_acl_restore(h, raw_file, raw_base, flags))

    def acl_edit(self, *, max_depth: Optional[int] = None) -> "AclEdit":
        """A new, empty ACL edit (icacls). ``max_depth``: how many directory
        levels below the path a RECURSIVE apply enters (1 to MAX_DEPTH;
        default 256), as :meth:`AclEdit.set_max_depth`."""
        out = c_void_p()
        with self._use() as h:
            _check(lib.apid_acl_edit_new(h, ctypes.byref(out)))
        edit = AclEdit(out)
        if max_depth is not None:
            try:
                edit.set_max_depth(max_depth)
            except BaseException:
                edit.close()
                raise
        return edit


class Pool(_Handle):
    """An application pool. Settings use appcmd's names
    (``pool["processModel.maxProcesses"] = "4"``) and are written at once."""

    _free = lib.apid_pool_free
    _exclusive = True

    @property
    def name(self) -> str:
        """The name as it was created."""
        with self._use() as h:
            return _s(lib.apid_pool_get_name(h)) or ""

    def __getitem__(self, setting: str) -> str:
        """A setting's value, as text (``pool["processModel.maxProcesses"]``)."""
        raw = _b(setting, "setting")
        out = c_void_p()
        with self._use() as h:
            _check(lib.apid_pool_get(h, raw, ctypes.byref(out)))
        return _take_string(out)

    def __setitem__(self, setting: str, value: Union[str, int, bool]) -> None:
        """Set and store a setting; booleans become "true"/"false"."""
        if isinstance(value, bool):
            value = "true" if value else "false"
        raw_setting, raw_value = _b(setting, "setting"), _b(str(value), "value")
        with self._use() as h:
            _check(lib.apid_pool_set(h, raw_setting, raw_value))

    def settings(self) -> Dict[str, str]:
        """Every setting and its value."""
        names = []
        i = 0
        while (n := lib.apid_pool_setting_name(i)) is not None:
            names.append(n.decode())
            i += 1
        return {n: self[n] for n in names}

    @property
    def identity_type(self) -> str:
        """processModel.identityType: "ApplicationPoolIdentity", "NetworkService", ..."""
        with self._use() as h:
            return _IDENTITY_TYPES[_check(lib.apid_pool_get_identity_type(h))]

    @property
    def loads_profile(self) -> bool:
        """processModel.loadUserProfile: whether workers get a profile directory."""
        with self._use() as h:
            return bool(_check(lib.apid_pool_loads_profile(h)))

    def identity(self) -> "Identity":
        """The identity this pool's workers run as."""
        out = c_void_p()
        with self._use() as h:
            _check(lib.apid_pool_get_identity(h, ctypes.byref(out)))
        return Identity(out)


class Identity(_Handle):
    """A pool identity: Windows SID and account, POSIX user, uid, gid, profile.
    Immutable: may be used from several threads at once."""

    _free = lib.apid_identity_free

    @property
    def sid(self) -> str:
        """The SID, "S-1-5-82-..." for a pool."""
        out = c_void_p()
        with self._use() as h:  # the SID lives inside the identity
            _check(lib.apid_sid_to_string(lib.apid_identity_get_sid(h), ctypes.byref(out)))
        return _take_string(out)

    def _text(self, fn: Callable[[c_void_p], Optional[bytes]]) -> Optional[str]:
        with self._use() as h:
            return _s(fn(h))

    def _number(self, fn: Callable[[c_void_p], int]) -> int:
        with self._use() as h:
            return int(fn(h))

    @property
    def account(self) -> str:
        """'IIS APPPOOL\\\\name' (or the built-in account)."""
        return self._text(lib.apid_identity_get_account) or ""

    @property
    def pool_name(self) -> Optional[str]:
        """The pool's name."""
        return self._text(lib.apid_identity_get_pool_name)

    @property
    def user(self) -> str:
        """The POSIX user name."""
        return self._text(lib.apid_identity_get_user) or ""

    @property
    def uid(self) -> int:
        """The uid."""
        return self._number(lib.apid_identity_get_uid)

    @property
    def gid(self) -> int:
        """The gid."""
        return self._number(lib.apid_identity_get_gid)

    @property
    def pool_gid(self) -> int:
        """The pool's own group, which every worker of the pool carries whatever
        its identity type: grants to 'IIS AppPool\\name' are entries for it."""
        return self._number(lib.apid_identity_get_pool_gid)

    @property
    def pool_group(self) -> str:
        """The name of the pool's own group ('apppool-name')."""
        return self._text(lib.apid_identity_get_pool_group) or ""

    @property
    def shared_gid(self) -> Optional[int]:
        """The shared group every pool identity carries (IIS_IUSRS), or None
        when none is configured."""
        gid = self._number(lib.apid_identity_get_shared_gid)
        return None if gid == 0xFFFFFFFF else gid

    @property
    def uid_probe(self) -> int:
        """0 when the uid is the SID's first choice."""
        return self._number(lib.apid_identity_get_uid_probe)

    @property
    def profile(self) -> Optional[str]:
        """The profile directory, or None."""
        return self._text(lib.apid_identity_get_profile_dir)

    @property
    def identity_type(self) -> str:
        """"ApplicationPoolIdentity", "LocalSystem", ... (IIS's identityType)."""
        return _IDENTITY_TYPES[_check(self._number(lib.apid_identity_get_type))]

    def token(self) -> "Token":
        """A restricted token for this identity, every restriction on."""
        out = c_void_p()
        with self._use() as h:
            _check(lib.apid_token_new(h, ctypes.byref(out)))
        return Token(out)


class AclEdit(_Handle):
    """icacls for Linux: collect changes, then apply them to a path."""

    _free = lib.apid_acl_edit_free
    _exclusive = True

    def add(self, op: int, spec: str) -> "AclEdit":
        """Add a change: GRANT, GRANT_REPLACE, DENY with "trustee:rights", REMOVE with "trustee"."""
        raw = _b(spec, "ACL spec")
        with self._use() as h:
            _check(lib.apid_acl_edit_add(h, op, raw))
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

    def reset(self) -> "AclEdit":
        """Also reset each path to what it inherits (icacls /reset)."""
        with self._use() as h:
            _check(lib.apid_acl_edit_reset(h))
        return self

    def set_journal(self, path: Optional[StrPath]) -> "AclEdit":
        """Keep a journal of the old ACLs in ``path`` (None: none): an apply
        that is interrupted is rolled back by Context.restore_acls() of the
        journal, or finished by applying the same edit again."""
        raw = None if path is None else _b(path, "journal")
        with self._use() as h:
            _check(lib.apid_acl_edit_set_journal(h, raw))
        return self

    def set_max_depth(self, depth: int) -> "AclEdit":
        """How many directory levels below the path a RECURSIVE apply enters
        (1 to MAX_DEPTH; the library's default is 256). A directory deeper
        than that has its own ACL edited but is not entered: apply() then
        raises :class:`Error` (status -9, APID_ERANGE; with CONTINUE after the
        rest of the tree is done) whose message names the directory and the
        limit ("depth: nested deeper than the limit of 2 directory levels").
        The setting stays for later applies of this edit. A depth out of
        range raises :class:`InvalidArgument` naming it, and changes nothing."""
        value = _depth(depth)
        with self._use() as h:
            _check(lib.apid_acl_edit_set_max_depth(h, value))
        return self

    def apply(self, path: StrPath, flags: int = 0, *, max_depth: Optional[int] = None,
              report: Optional[Callable[[str, str, str], None]] = None,
              progress: Optional[Callable[[int, int], None]] = None) -> Dict[str, int]:
        """Apply to ``path`` (RECURSIVE, STRICT, CONTINUE, DRY_RUN,
        FOLLOW_HARDLINKS); returns the counts. ``max_depth``: as
        :meth:`set_max_depth` (set before this apply and kept for later ones).
        ``report(event, path, detail)``: each path changed, skipped or failed
        and each approximation, as it happens (event: "changed", "skipped",
        "failed", "approximated"; path relative to ``path``, "." for itself;
        detail: what happened, or ""). ``progress(visited, changed)``: about
        every 1000 paths. The callbacks hold for this apply only; an
        exception one raises is raised by apply() when the walk is over (the
        walk cannot be stopped half-way)."""
        raw = _b(path, "path")
        depth = None if max_depth is None else _depth(max_depth)
        errors: List[BaseException] = []

        def guarded(fn: Callable[..., None]) -> Callable[..., None]:
            def call(*args: object) -> None:
                if errors:
                    return
                try:
                    fn(*args)
                except BaseException as e:  # noqa: B036 - re-raised below
                    errors.append(e)
            return call

        on_report = on_progress = None
        if report is not None:
            rep = report
            on_report = REPORT_FN(guarded(
                lambda ev, p, detail, _: rep(_COUNTS[ev - 1], _s(p) or "", _s(detail) or "")))
        if progress is not None:
            prog = progress
            on_progress = PROGRESS_FN(guarded(lambda visited, changed, _: prog(int(visited), int(changed))))
        with self._use() as h:  # one call: the counts are this apply's
            if depth is not None:
                _check(lib.apid_acl_edit_set_max_depth(h, depth))
            _check(lib.apid_acl_edit_set_flags(h, flags))
            _check(lib.apid_acl_edit_set_report_fn(h, on_report, None))
            _check(lib.apid_acl_edit_set_progress_fn(h, on_progress, None))
            try:
                status = lib.apid_acl_edit_apply(h, raw)
            finally:
                # The C side must not keep pointers to callbacks about to be freed.
                _check(lib.apid_acl_edit_set_report_fn(h, None, None))
                _check(lib.apid_acl_edit_set_progress_fn(h, None, None))
            if errors:
                raise errors[0]
            _check(status)
            return self._counts(h)

    def counts(self) -> Dict[str, int]:
        """What the last apply did: changed, unchanged, skipped, failed, approximated."""
        with self._use() as h:
            return self._counts(h)

    @staticmethod
    def _counts(h: c_void_p) -> Dict[str, int]:
        return {n: int(lib.apid_acl_edit_count(h, i + 1)) for i, n in enumerate(_COUNTS)}


def _depth(depth: int) -> int:
    """A walk depth as C's unsigned int. What an unsigned cannot hold (a
    negative number, or past 2**32 - 1) ctypes would wrap silently (-1 would
    reach C as 4294967295): refused here, in the library's words and naming
    the value given. 0 and 4097 reach the library, which refuses them."""
    value = operator.index(depth)  # 2.5 or "3": TypeError
    if not 0 <= value <= 0xFFFFFFFF:
        raise InvalidArgument(_EINVAL, f"ACL walk depth {value}: not between 1 and {MAX_DEPTH}")
    return value


class Token(_Handle):
    """A restricted token (see docs/security.md)."""

    _free = lib.apid_token_free
    _exclusive = True

    def keep_cap(self, name: str) -> "Token":
        """Keep one capability, e.g. "CAP_NET_BIND_SERVICE"."""
        raw = _b(name, "capability")
        with self._use() as h:
            _check(lib.apid_token_keep_cap(h, raw))
        return self

    def setenv(self, name: str, value: Optional[str]) -> "Token":
        """Add, replace or (with None) remove a variable of the worker's environment."""
        raw_name = _b(name, "variable name")
        raw_value = None if value is None else _b(value, "variable value")
        with self._use() as h:
            _check(lib.apid_token_setenv(h, raw_name, raw_value))
        return self

    def set_seccomp(self, enable: bool) -> "Token":
        """Turn the seccomp filter on (the default) or off."""
        with self._use() as h:
            _check(lib.apid_token_set_seccomp(h, 1 if enable else 0))
        return self

    def deny_syscall(self, name: str) -> "Token":
        """Make a system call ("socket") fail with EPERM in the worker."""
        raw = _b(name, "system call")
        with self._use() as h:
            _check(lib.apid_token_deny_syscall(h, raw))
        return self

    def set_rlimit(self, resource: int, soft: int, hard: Optional[int] = None) -> "Token":
        """A resource limit for the worker: ``resource.RLIMIT_NOFILE`` etc.;
        ``resource.RLIM_INFINITY`` (or None for ``hard``: the same as ``soft``)."""
        def raw(v: int) -> int:
            if v == -1:  # resource.RLIM_INFINITY
                return 0xFFFFFFFFFFFFFFFF
            if not 0 <= v < 0xFFFFFFFFFFFFFFFF:
                raise InvalidArgument(_EINVAL, f"rlimit {resource}: limit {v} out of range")
            return v
        lo, hi = raw(soft), raw(soft if hard is None else hard)
        with self._use() as h:
            _check(lib.apid_token_set_rlimit(h, resource, lo, hi))
        return self

    def set_umask(self, mask: int) -> "Token":
        """The worker's umask (0o027 by default; at most 0o777)."""
        if mask < 0:
            raise InvalidArgument(_EINVAL, f"umask {mask:o}: must be at most 0777")  # the library's words
        with self._use() as h:
            _check(lib.apid_token_set_umask(h, mask))
        return self

    def set_shared_group(self, include: bool) -> "Token":
        """Whether the worker carries the shared group (on by default, when one
        is configured)."""
        with self._use() as h:
            _check(lib.apid_token_set_groups(h, 1 if include else 0))
        return self

    def apply_self(self) -> None:
        """Apply the token to this process, irreversibly (a pre-fork server
        dropping privileges in a child after ``os.fork()``). The process
        must have one thread; on a failure after the first step it is
        half-restricted and must exit."""
        with self._use() as h:
            _check(lib.apid_token_apply_self(h))

    def describe(self) -> str:
        """What a worker gets, one item a line."""
        out = c_void_p()
        with self._use() as h:
            _check(lib.apid_token_describe(h, ctypes.byref(out)))
        return _take_string(out)


class Process(_Handle):
    """A launched worker. ``fileno()`` is its pidfd, for select/poll/asyncio.

    wait() in one thread and send_signal() or close() in another is allowed;
    close() during wait() does not kill the worker until wait() returns (send
    a signal first to end it)."""

    _free = lib.apid_process_free

    @property
    def pid(self) -> int:
        """The process id."""
        with self._use() as h:
            return int(lib.apid_process_get_pid(h))

    def fileno(self) -> int:
        """The pidfd (owned by this handle; readable once the worker exits)."""
        with self._use() as h:
            return int(lib.apid_process_get_fd(h))

    def send_signal(self, sig: int) -> None:
        """Send a signal through the pidfd (no pid reuse race)."""
        with self._use() as h:
            _check(lib.apid_process_signal(h, sig))

    def wait(self, timeout: Optional[float] = None) -> Optional[int]:
        """Wait (seconds; None: forever). Returns the exit code, -N for signal N,
        or None if still running after the timeout."""
        ms = -1 if timeout is None else max(0, int(timeout * 1000))
        with self._use() as h:
            r = lib.apid_process_wait(h, ms)
            if r == _EBUSY:
                return None
            _check(r)
            code = lib.apid_process_exit_code(h)
            return int(code) if code >= 0 else -int(lib.apid_process_term_signal(h))


class _LaunchAttr(_Handle):
    _free = lib.apid_launch_attr_free
    _exclusive = True


def _open_cgroups(cgroup: Union[Cgroup, Sequence[Cgroup], None]) -> List[Tuple[int, Optional[str]]]:
    """(descriptor, path or None) for each cgroup given. A path is opened
    here (O_RDONLY | O_DIRECTORY: clone3 takes no O_PATH descriptor); a
    descriptor is used as it is. On failure what was opened is closed."""
    if cgroup is None:
        return []
    items = list(cgroup) if isinstance(cgroup, (list, tuple)) else [cast(Cgroup, cgroup)]
    out: List[Tuple[int, Optional[str]]] = []
    try:
        for item in items:
            if isinstance(item, bool):
                raise TypeError(f"cgroup {item!r}: give a path or a descriptor")
            if isinstance(item, int):
                out.append((item, None))
                continue
            path = _b(item, "cgroup")
            out.append((os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC), os.fsdecode(path)))
    except BaseException:
        _close_cgroups(out)
        raise
    return out


def _close_cgroups(cgroups: List[Tuple[int, Optional[str]]]) -> None:
    for fd, path in cgroups:
        if path is not None:
            os.close(fd)


def _check_cgroup(status: int, cgroups: List[Tuple[int, Optional[str]]]) -> int:
    """_check(), with the path of a cgroup the binding opened put before the
    library's message, which names only the descriptor ("cgroup 7: ...")."""
    try:
        return _check(status)
    except Error as e:
        for fd, path in cgroups:
            if path is not None and e.message.startswith(f"cgroup {fd}:"):
                raise type(e)(e.status, f"{path}: {e.message}", e.errno) from None
        raise


def launch(token: Token, argv: Sequence[StrPath], *, cwd: Optional[StrPath] = None,
           pass_fds: Optional[Mapping[int, int]] = None, terminal: Optional[int] = None,
           timeout: Optional[float] = None,
           cgroup: Union[Cgroup, Sequence[Cgroup], None] = None,
           parent_death_signal: Optional[int] = None) -> Process:
    """Launch ``argv`` under ``token``. ``pass_fds`` maps the worker's descriptor
    numbers to the caller's (``{1: pipe_w, 3: listening_socket}``).
    ``terminal``: a terminal descriptor (the slave of a pty the caller opened
    for this worker alone) that becomes the worker's 0, 1 and 2 (those not in
    ``pass_fds``) and its controlling terminal. ``timeout``: seconds the
    launch waits for the child to reach execve (default 5; at most 3600),
    after which the child is killed and the launch fails. ``cgroup``: the
    cgroup the worker is born in (clone3 CLONE_INTO_CGROUP), so its limits
    hold from its first instruction: the path of a cgroup directory or an
    open descriptor of one (O_RDONLY | O_DIRECTORY; not closed), or a list of
    them (one cgroup v2 directory at most, plus cgroup v1 hierarchies'). A
    path is opened for the launch and closed after it. Making the cgroup and
    setting its limits is the caller's part. A directory that is not a
    cgroup raises :class:`InvalidArgument` naming it (the path before the
    library's message, "/tmp/x: cgroup 7: not a directory of a cgroup file
    system"); a path that cannot be opened raises the ``OSError``.
    ``parent_death_signal``: the signal the worker gets when the thread that
    launched it exits (``signal.SIGTERM``; 0: none)."""
    if not argv:
        raise ValueError("argv must not be empty")
    timeout_ms = None
    if timeout is not None:
        if not (timeout > 0 and math.isfinite(timeout)):
            raise ValueError(f"timeout {timeout!r}: must be a number of seconds more than 0")
        # Whole milliseconds, rounded up, never 0 (which is the C default);
        # beyond 3600 s the library refuses, naming the value.
        timeout_ms = min(math.ceil(timeout * 1000), 0xFFFFFFFF)
    raw_argv = [_b(a, f"argv[{i}]") for i, a in enumerate(argv)]
    raw_cwd = None if cwd is None else _b(cwd, "cwd")
    fds = [(int(child_fd), int(parent_fd)) for child_fd, parent_fd in (pass_fds or {}).items()]
    cgroups = _open_cgroups(cgroup)
    try:
        return _launch(token, raw_argv, raw_cwd, fds, terminal, timeout_ms, cgroups, parent_death_signal)
    finally:
        _close_cgroups(cgroups)


def _set_common_attrs(ah: c_void_p, fds: List[Tuple[int, int]], raw_cwd: Optional[bytes],
                      terminal: Optional[int]) -> None:
    """The launch attributes launch() and launch_exec() share."""
    for child_fd, parent_fd in fds:
        _check(lib.apid_launch_attr_pass_fd(ah, parent_fd, child_fd))
    if raw_cwd is not None:
        _check(lib.apid_launch_attr_set_cwd(ah, raw_cwd))
    if terminal is not None:
        _check(lib.apid_launch_attr_set_terminal(ah, int(terminal)))


def _launch(token: Token, raw_argv: List[bytes], raw_cwd: Optional[bytes], fds: List[Tuple[int, int]],
            terminal: Optional[int], timeout_ms: Optional[int],
            cgroups: List[Tuple[int, Optional[str]]], pdeathsig: Optional[int]) -> Process:
    out = c_void_p()
    _check(lib.apid_launch_attr_new(ctypes.byref(out)))
    with _LaunchAttr(out) as attr, attr._use() as ah:
        _set_common_attrs(ah, fds, raw_cwd, terminal)
        if timeout_ms is not None:
            _check(lib.apid_launch_attr_set_timeout(ah, timeout_ms))
        if pdeathsig is not None:
            _check(lib.apid_launch_attr_set_parent_death_signal(ah, int(pdeathsig)))
        for cgroup_fd, _ in cgroups:
            _check_cgroup(lib.apid_launch_attr_add_cgroup(ah, cgroup_fd), cgroups)
        args = (c_char_p * (len(raw_argv) + 1))(*raw_argv, None)
        proc = c_void_p()
        with token._use() as th:
            _check_cgroup(lib.apid_launch(th, ah, raw_argv[0], args, ctypes.byref(proc)), cgroups)
        return Process(proc)


def launch_exec(token: Token, argv: Sequence[StrPath], *, cwd: Optional[StrPath] = None,
                pass_fds: Optional[Mapping[int, int]] = None, terminal: Optional[int] = None) -> NoReturn:
    """Become the worker: the steps of ``launch()`` in this process, then an
    exec in place (as ``os.execv``; ``apid_launch_exec()``). The process must
    be single-threaded and must not lead its process group (``Error`` with
    EBUSY: fork first). It raises only with nothing changed; once the first
    step has begun a failure cannot return: the message goes to descriptor 2
    and the process exits 127."""
    if not argv:
        raise ValueError("argv must not be empty")
    raw_argv = [_b(a, f"argv[{i}]") for i, a in enumerate(argv)]
    raw_cwd = None if cwd is None else _b(cwd, "cwd")
    fds = [(int(child_fd), int(parent_fd)) for child_fd, parent_fd in (pass_fds or {}).items()]
    out = c_void_p()
    _check(lib.apid_launch_attr_new(ctypes.byref(out)))
    with _LaunchAttr(out) as attr, attr._use() as ah:
        _set_common_attrs(ah, fds, raw_cwd, terminal)
        args = (c_char_p * (len(raw_argv) + 1))(*raw_argv, None)
        with token._use() as th:
            _check(lib.apid_launch_exec(th, ah, raw_argv[0], args))
    raise AssertionError("apid_launch_exec returned success")  # it never does
