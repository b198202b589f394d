/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* No build-time seccomp program (a cross build: lib/meson.build); every
 * token's filter is compiled at run time. */
#ifndef APID_FILTER_DEFAULT_H
#define APID_FILTER_DEFAULT_H

#define APID__PREBUILT_LEN 0

#endif
