# SPDX-License-Identifier: LGPL-2.1-or-later
"""``python3 -m apppoolid``: the SIDs of pools and services from the shell.

    python3 -m apppoolid sid DefaultAppPool            # S-1-5-82-...
    python3 -m apppoolid sid --service TrustedInstaller  # S-1-5-80-...
    python3 -m apppoolid version

One SID a line, in the order of the names. Exit status 0; 1 when a name is
refused (the library's message on stderr); 2 for a usage error.
"""
from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from . import Error, __version__, pool_sid, service_sid, version


def main(argv: Optional[List[str]] = None) -> int:
    """Run the command line ``argv`` (default: sys.argv[1:]); returns the exit status."""
    parser = argparse.ArgumentParser(prog="python3 -m apppoolid",
                                     description="IIS application pool identities for Linux.")
    commands = parser.add_subparsers(dest="command", required=True)
    sid = commands.add_parser("sid", help="print the SID of pools (or, with --service, services)")
    sid.add_argument("--service", action="store_true",
                     help="the service SID of NT SERVICE\\NAME (S-1-5-80-...)")
    sid.add_argument("names", metavar="NAME", nargs="+")
    commands.add_parser("version", help="print the package's and the library's versions")
    args = parser.parse_args(argv)

    if args.command == "version":
        print(f"apppoolid {__version__} (libapppoolid {version()})")
        return 0
    derive = service_sid if args.service else pool_sid
    status = 0
    for name in args.names:
        try:
            print(derive(name))
        except (Error, ValueError) as e:
            print(f"apppoolid: {e}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
