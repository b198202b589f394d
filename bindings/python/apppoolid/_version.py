# SPDX-License-Identifier: LGPL-2.1-or-later
"""The package's version: the version of libapppoolid it was released with.
meson.build refuses to configure when it differs from the project's version,
and the tests check it against apid_version() of the library loaded."""
__version__ = "1.0.0"
