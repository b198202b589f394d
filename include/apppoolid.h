/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file apppoolid.h
 * @brief libapppoolid: IIS application pool identities for Linux.
 *
 * The one header a program includes. Every public declaration lives in a
 * part under apppoolid/, one concept a file.
 */
#ifndef APPPOOLID_H
#define APPPOOLID_H

#include "apppoolid/common.h"
#include "apppoolid/version.h"
#include "apppoolid/error.h"
#include "apppoolid/context.h"
#include "apppoolid/name.h"
#include "apppoolid/sid.h"
#include "apppoolid/account.h"
#include "apppoolid/pool.h"
#include "apppoolid/identity.h"
#include "apppoolid/registry.h"
#include "apppoolid/acl.h"
#include "apppoolid/token.h"
#include "apppoolid/process.h"

#endif /* APPPOOLID_H */
