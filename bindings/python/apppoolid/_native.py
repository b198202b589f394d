# SPDX-License-Identifier: LGPL-2.1-or-later
"""Loading libapppoolid and declaring its functions for ctypes.

The library is found by its soname (``libapppoolid.so.1``) through the
dynamic loader. The environment variable ``APPPOOLID_LIBRARY`` names the file
to load instead (an uninstalled build). A package installed by ``meson
install`` also knows the directory its library went to (``_install.py``,
written by meson), tried when the loader does not know the soname yet (no
``ldconfig`` since the install, or a prefix outside the loader's path).
"""
from __future__ import annotations

import ctypes
import importlib
import os
from ctypes import (POINTER, c_char_p, c_int, c_size_t, c_uint, c_uint32, c_uint64,
                    c_void_p)
from typing import List

__all__ = ["lib", "SONAME", "REPORT_FN", "PROGRESS_FN", "LOG_FN"]

SONAME = "libapppoolid.so.1"


def _candidates() -> List[str]:
    override = os.environ.get("APPPOOLID_LIBRARY")
    if override:
        return [override]
    names = [SONAME]
    try:
        install = importlib.import_module("._install", __package__)
    except ImportError:  # not installed by meson (a wheel, or the source tree)
        pass
    else:
        names.append(os.path.join(str(install.LIBDIR), SONAME))
    return names


def _load() -> ctypes.CDLL:
    errors = []
    for path in _candidates():
        try:
            return ctypes.CDLL(path, use_errno=True)
        except OSError as e:
            errors.append(str(e))
    raise ImportError(
        f"cannot load libapppoolid ({'; '.join(errors)}): install it (and run "
        "ldconfig) or set APPPOOLID_LIBRARY to the built libapppoolid.so.1")


lib = _load()

# (name, return type, argument types). Every fallible function returns int.
_SIGNATURES = [
    ("apid_version", c_char_p, []),
    ("apid_version_at_least", c_int, [c_uint32, c_uint32, c_uint32]),
    ("apid_error_message", c_char_p, []),
    ("apid_error_errno", c_int, []),
    ("apid_free", None, [c_void_p]),
    ("apid_ctx_new", c_int, [POINTER(c_void_p)]),
    ("apid_ctx_unref", None, [c_void_p]),
    ("apid_ctx_set_state_dir", c_int, [c_void_p, c_char_p]),
    ("apid_ctx_get_state_dir", c_char_p, [c_void_p]),
    ("apid_pool_name_check", c_int, [c_char_p]),
    ("apid_pool_name_equal", c_int, [c_char_p, c_char_p]),
    ("apid_sid_for_pool", c_int, [c_char_p, POINTER(c_void_p)]),
    ("apid_sid_for_service", c_int, [c_char_p, POINTER(c_void_p)]),
    ("apid_sid_parse", c_int, [c_char_p, POINTER(c_void_p)]),
    ("apid_sid_to_string", c_int, [c_void_p, POINTER(c_void_p)]),
    ("apid_sid_free", None, [c_void_p]),
    ("apid_sid_from_bytes", c_int, [c_void_p, c_size_t, POINTER(c_void_p)]),
    ("apid_sid_from_parts", c_int, [c_uint64, POINTER(c_uint32), c_uint32, POINTER(c_void_p)]),
    ("apid_sid_byte_size", c_uint32, [c_void_p]),
    ("apid_sid_to_bytes", c_int, [c_void_p, c_void_p, c_size_t, POINTER(c_size_t)]),
    ("apid_sid_authority", c_uint64, [c_void_p]),
    ("apid_sid_subauthority_count", c_uint32, [c_void_p]),
    ("apid_sid_get_subauthority", c_int, [c_void_p, c_uint32, POINTER(c_uint32)]),
    ("apid_sid_compare", c_int, [c_void_p, c_void_p]),
    ("apid_sid_equal", c_int, [c_void_p, c_void_p]),
    ("apid_sid_is_pool", c_int, [c_void_p]),
    ("apid_sid_is_service", c_int, [c_void_p]),
    ("apid_sid_to_account", c_int, [c_void_p, c_void_p, POINTER(c_void_p)]),
    ("apid_account_to_sid", c_int, [c_void_p, c_char_p, POINTER(c_void_p)]),
    ("apid_registry_export_ldif", c_int, [c_void_p, c_char_p, c_char_p, c_char_p, POINTER(c_void_p)]),
    ("apid_registry_import_ldif", c_int, [c_void_p, c_char_p]),
    ("apid_pool_create", c_int, [c_void_p, c_char_p, POINTER(c_void_p)]),
    ("apid_pool_open", c_int, [c_void_p, c_char_p, POINTER(c_void_p)]),
    ("apid_pool_delete", c_int, [c_void_p, c_char_p, c_int]),
    ("apid_pool_free", None, [c_void_p]),
    ("apid_pool_get_name", c_char_p, [c_void_p]),
    ("apid_pool_get", c_int, [c_void_p, c_char_p, POINTER(c_void_p)]),
    ("apid_pool_set", c_int, [c_void_p, c_char_p, c_char_p]),
    ("apid_pool_setting_name", c_char_p, [c_uint32]),
    ("apid_pool_list_new", c_int, [c_void_p, POINTER(c_void_p)]),
    ("apid_pool_list_count", c_uint32, [c_void_p]),
    ("apid_pool_list_get", c_char_p, [c_void_p, c_uint32]),
    ("apid_pool_list_free", None, [c_void_p]),
    ("apid_pool_get_identity", c_int, [c_void_p, POINTER(c_void_p)]),
    ("apid_identity_from_sid", c_int, [c_void_p, c_void_p, POINTER(c_void_p)]),
    ("apid_identity_from_uid", c_int, [c_void_p, c_uint32, POINTER(c_void_p)]),
    ("apid_identity_from_user", c_int, [c_void_p, c_char_p, POINTER(c_void_p)]),
    ("apid_identity_free", None, [c_void_p]),
    ("apid_identity_get_sid", c_void_p, [c_void_p]),
    ("apid_identity_get_account", c_char_p, [c_void_p]),
    ("apid_identity_get_pool_name", c_char_p, [c_void_p]),
    ("apid_identity_get_user", c_char_p, [c_void_p]),
    ("apid_identity_get_type", c_int, [c_void_p]),
    ("apid_identity_get_uid", c_uint32, [c_void_p]),
    ("apid_identity_get_gid", c_uint32, [c_void_p]),
    ("apid_identity_get_uid_probe", c_uint32, [c_void_p]),
    ("apid_identity_get_pool_gid", c_uint32, [c_void_p]),
    ("apid_identity_get_pool_group", c_char_p, [c_void_p]),
    ("apid_identity_get_profile_dir", c_char_p, [c_void_p]),
    ("apid_acl_edit_new", c_int, [c_void_p, POINTER(c_void_p)]),
    ("apid_acl_edit_free", None, [c_void_p]),
    ("apid_acl_edit_add", c_int, [c_void_p, c_int, c_char_p]),
    ("apid_acl_edit_reset", c_int, [c_void_p]),
    ("apid_acl_edit_set_flags", c_int, [c_void_p, c_uint32]),
    ("apid_acl_edit_set_max_depth", c_int, [c_void_p, c_uint]),
    ("apid_acl_max_depth", c_uint, []),
    ("apid_acl_edit_set_report_fn", c_int, [c_void_p, c_void_p, c_void_p]),
    ("apid_acl_edit_set_progress_fn", c_int, [c_void_p, c_void_p, c_void_p]),
    ("apid_ctx_set_log_fn", c_int, [c_void_p, c_void_p, c_void_p]),
    ("apid_ctx_set_log_level", c_int, [c_void_p, c_int]),
    ("apid_acl_edit_apply", c_int, [c_void_p, c_char_p]),
    ("apid_acl_edit_count", c_uint64, [c_void_p, c_int]),
    ("apid_token_new", c_int, [c_void_p, POINTER(c_void_p)]),
    ("apid_token_free", None, [c_void_p]),
    ("apid_token_keep_cap", c_int, [c_void_p, c_char_p]),
    ("apid_token_setenv", c_int, [c_void_p, c_char_p, c_char_p]),
    ("apid_token_set_seccomp", c_int, [c_void_p, c_int]),
    ("apid_token_describe", c_int, [c_void_p, POINTER(c_void_p)]),
    ("apid_launch_attr_new", c_int, [POINTER(c_void_p)]),
    ("apid_launch_attr_free", None, [c_void_p]),
    ("apid_launch_attr_pass_fd", c_int, [c_void_p, c_int, c_int]),
    ("apid_launch_attr_set_cwd", c_int, [c_void_p, c_char_p]),
    ("apid_launch_attr_set_terminal", c_int, [c_void_p, c_int]),
    ("apid_launch_attr_set_timeout", c_int, [c_void_p, c_uint32]),
    ("apid_launch_attr_add_cgroup", c_int, [c_void_p, c_int]),
    ("apid_launch", c_int, [c_void_p, c_void_p, c_char_p, POINTER(c_char_p), POINTER(c_void_p)]),
    ("apid_launch_exec", c_int, [c_void_p, c_void_p, c_char_p, POINTER(c_char_p)]),
    ("apid_version_number", c_uint32, []),
    ("apid_ctx_default_state_dir", c_char_p, []),
    ("apid_pool_name_canonical", c_int, [c_char_p, POINTER(c_void_p)]),
    ("apid_account_for_pool", c_int, [c_char_p, POINTER(c_void_p)]),
    ("apid_account_for_service", c_int, [c_char_p, POINTER(c_void_p)]),
    ("apid_registry_get", c_int, [c_void_p, c_char_p, POINTER(c_void_p)]),
    ("apid_registry_set", c_int, [c_void_p, c_char_p, c_char_p]),
    ("apid_registry_export", c_int, [c_void_p, c_char_p]),
    ("apid_registry_import", c_int, [c_void_p, c_char_p]),
    ("apid_registry_network_principal", c_int, [c_void_p, POINTER(c_void_p)]),
    ("apid_pool_check_setting", c_int, [c_char_p, c_char_p]),
    ("apid_pool_get_identity_type", c_int, [c_void_p]),
    ("apid_pool_loads_profile", c_int, [c_void_p]),
    ("apid_identity_get_shared_gid", c_uint32, [c_void_p]),
    ("apid_acl_spec_check", c_int, [c_char_p]),
    ("apid_acl_edit_set_journal", c_int, [c_void_p, c_char_p]),
    ("apid_acl_save", c_int, [c_void_p, c_char_p, c_char_p, c_uint32]),
    ("apid_acl_save_depth", c_int, [c_void_p, c_char_p, c_char_p, c_uint32, c_uint]),
    ("apid_acl_restore", c_int, [c_void_p, c_char_p, c_char_p, c_uint32]),
    ("apid_token_set_groups", c_int, [c_void_p, c_int]),
    ("apid_token_deny_syscall", c_int, [c_void_p, c_char_p]),
    ("apid_token_set_rlimit", c_int, [c_void_p, c_int, c_uint64, c_uint64]),
    ("apid_token_set_umask", c_int, [c_void_p, c_uint32]),
    ("apid_token_apply_self", c_int, [c_void_p]),
    ("apid_launch_attr_set_parent_death_signal", c_int, [c_void_p, c_int]),
    ("apid_process_get_pid", c_int, [c_void_p]),
    ("apid_process_get_fd", c_int, [c_void_p]),
    ("apid_process_signal", c_int, [c_void_p, c_int]),
    ("apid_process_wait", c_int, [c_void_p, c_int]),
    ("apid_process_exit_code", c_int, [c_void_p]),
    ("apid_process_term_signal", c_int, [c_void_p]),
    ("apid_process_free", None, [c_void_p]),
]

#: The callbacks' C types (acl.h, context.h); passed as void pointers above.
REPORT_FN = ctypes.CFUNCTYPE(None, c_int, c_char_p, c_char_p, c_void_p)
PROGRESS_FN = ctypes.CFUNCTYPE(None, c_uint64, c_uint64, c_void_p)
LOG_FN = ctypes.CFUNCTYPE(None, c_int, c_char_p, c_void_p)

for _name, _restype, _argtypes in _SIGNATURES:
    _fn = getattr(lib, _name)
    _fn.restype = _restype
    _fn.argtypes = _argtypes

del _name, _restype, _argtypes, _fn
