/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Settings: the names, defaults and value rules of pool settings (appcmd's
 * names and IIS's defaults) and of registry-wide settings. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

static const char *const identity_types[] = {
        "LocalSystem", "LocalService", "NetworkService", "SpecificUser", "ApplicationPoolIdentity", NULL,
};
static const char *const start_modes[] = { "OnDemand", "AlwaysRunning", NULL };
static const char *const pipeline_modes[] = { "Integrated", "Classic", NULL };

#define U32MAX 4294967295u
#define I32MAX 2147483647u

/* Defaults: the IIS configuration reference for applicationPools/add and its
 * processModel, failure and recycling children (docs/pools.md). */
const struct apid__setting apid__pool_settings[] = {
        { "autoStart", APID__S_BOOL, "true", 0, 0, NULL },
        { "startMode", APID__S_ENUM, "OnDemand", 0, 0, start_modes },
        { "managedPipelineMode", APID__S_ENUM, "Integrated", 0, 0, pipeline_modes },
        { "queueLength", APID__S_UINT, "1000", 10, 65535, NULL },
        { "processModel.identityType", APID__S_ENUM, "ApplicationPoolIdentity", 0, 0, identity_types },
        { "processModel.userName", APID__S_USER, "", 0, 0, NULL },
        { "processModel.loadUserProfile", APID__S_BOOL, "false", 0, 0, NULL },
        { "processModel.setProfileEnvironment", APID__S_BOOL, "true", 0, 0, NULL },
        { "processModel.manualGroupMembership", APID__S_BOOL, "false", 0, 0, NULL },
        { "processModel.maxProcesses", APID__S_UINT, "1", 0, I32MAX, NULL },
        { "processModel.idleTimeout", APID__S_TIMESPAN, "00:20:00", 0, 0, NULL },
        { "processModel.pingingEnabled", APID__S_BOOL, "true", 0, 0, NULL },
        { "processModel.pingInterval", APID__S_TIMESPAN, "00:00:30", 0, 0, NULL },
        { "processModel.pingResponseTime", APID__S_TIMESPAN, "00:01:30", 0, 0, NULL },
        { "processModel.shutdownTimeLimit", APID__S_TIMESPAN, "00:01:30", 0, 0, NULL },
        { "processModel.startupTimeLimit", APID__S_TIMESPAN, "00:01:30", 0, 0, NULL },
        { "failure.rapidFailProtection", APID__S_BOOL, "true", 0, 0, NULL },
        { "failure.rapidFailProtectionInterval", APID__S_TIMESPAN, "00:05:00", 0, 0, NULL },
        { "failure.rapidFailProtectionMaxCrashes", APID__S_UINT, "5", 1, I32MAX, NULL },
        { "recycling.disallowOverlappingRotation", APID__S_BOOL, "false", 0, 0, NULL },
        { "recycling.periodicRestart.time", APID__S_TIMESPAN, "1.05:00:00", 0, 0, NULL },
        { "recycling.periodicRestart.requests", APID__S_UINT, "0", 0, U32MAX, NULL },
        { "recycling.periodicRestart.memory", APID__S_UINT, "0", 0, U32MAX, NULL },
        { "recycling.periodicRestart.privateMemory", APID__S_UINT, "0", 0, U32MAX, NULL },
        { NULL, 0, NULL, 0, 0, NULL },
};

const struct apid__setting apid__registry_settings[] = {
        { "idRangeStart", APID__S_UINT, "1879048192", 65536, I32MAX, NULL },
        { "idRangeSize", APID__S_UINT, "16777216", 1, 2147418112u, NULL },
        { "sharedGroup", APID__S_USER, "", 0, 0, NULL },
        { "localSystemUser", APID__S_USER, "root", 0, 0, NULL },
        { "localServiceUser", APID__S_USER, "apppool-localservice", 0, 0, NULL },
        { "networkServiceUser", APID__S_USER, "apppool-networkservice", 0, 0, NULL },
        { "profileRoot", APID__S_PATH, "", 0, 0, NULL },
        { "networkPrincipal", APID__S_TEXT, "", 0, 0, NULL },
        { NULL, 0, NULL, 0, 0, NULL },
};

int apid__setting_find(const struct apid__setting *table, const char *name, const char *what)
{
        char q[256];
        int i;

        if (!name)
                return apid__fail(APID_EINVAL, 0, "%s: NULL name", what);
        for (i = 0; table[i].name; i++)
                if (strcasecmp(table[i].name, name) == 0)
                        return i;
        apid__quote(q, sizeof(q), name, 100);
        return apid__fail(APID_EINVAL, 0, "%s '%s': no such setting", what, q);
}

/* "[d.]hh:mm:ss" -> seconds; -1 if malformed. */
static int64_t parse_timespan(const char *v)
{
        unsigned long d = 0, h, m, s;
        int n = 0;
        const char *dot = strchr(v, '.');
        const char *p;

        for (p = v; *p; p++)
                if (!((*p >= '0' && *p <= '9') || *p == ':' || *p == '.'))
                        return -1;
        if (dot) {
                if (sscanf(v, "%lu.%2lu:%2lu:%2lu%n", &d, &h, &m, &s, &n) != 4 || v[n] || d > 10675199)
                        return -1;
        } else if (sscanf(v, "%2lu:%2lu:%2lu%n", &h, &m, &s, &n) != 3 || v[n]) {
                return -1;
        }
        if (h > 23 || m > 59 || s > 59)
                return -1;
        return (int64_t)(((d * 24 + h) * 60 + m) * 60 + s);
}

/* A directory path that becomes part of the passwd line's home field (the
 * profile root): absolute, at most APID__PATH_SETTING_MAX bytes, no control
 * character, no ':' (the passwd separator), no empty, "." or ".." component.
 * A trailing '/' is dropped. */
static int normalize_path(const struct apid__setting *s, const char *value, const char *q, char **out)
{
        size_t len = strlen(value), i;

        while (len > 1 && value[len - 1] == '/')
                len--;
        if (len > APID__PATH_SETTING_MAX)
                return apid__fail(APID_EINVAL, 0, "%s '%s': %zu bytes, at most %d", s->name, q, len,
                                  APID__PATH_SETTING_MAX);
        if (value[0] && value[0] != '/')
                return apid__fail(APID_EINVAL, 0, "%s '%s': must be an absolute path", s->name, q);
        if (value[0] && len == 1)
                return apid__fail(APID_EINVAL, 0, "%s '%s': must name a directory below /", s->name, q);
        for (i = 0; i < len; i++) {
                if ((unsigned char)value[i] < 0x20 || value[i] == 0x7f)
                        return apid__fail(APID_EINVAL, 0, "%s '%s': control character", s->name, q);
                if (value[i] == ':')
                        return apid__fail(APID_EINVAL, 0, "%s '%s': ':' cannot appear in a passwd line's home "
                                          "directory", s->name, q);
        }
        for (i = 0; i < len; i++) {
                size_t n;

                if (value[i] != '/')
                        continue;
                n = strcspn(value + i + 1, "/");
                if (i + 1 + n > len)
                        n = len - i - 1;
                if (n == 0)
                        return apid__fail(APID_EINVAL, 0, "%s '%s': empty path component", s->name, q);
                if ((n == 1 && value[i + 1] == '.') || (n == 2 && value[i + 1] == '.' && value[i + 2] == '.'))
                        return apid__fail(APID_EINVAL, 0, "%s '%s': '.' and '..' components are not allowed",
                                          s->name, q);
        }
        *out = strndup(value, len);
        return *out ? APID_OK : apid__fail_oom();
}

int apid__setting_normalize(const struct apid__setting *s, const char *value, char **out)
{
        char q[256], buf[64];
        const char *result = buf;
        int i;

        if (!value)
                return apid__fail(APID_EINVAL, 0, "%s: NULL value", s->name);
        apid__quote(q, sizeof(q), value, 100);
        switch (s->kind) {
        case APID__S_BOOL:
                if (strcasecmp(value, "true") != 0 && strcasecmp(value, "false") != 0)
                        return apid__fail(APID_EINVAL, 0, "%s '%s': not true or false", s->name, q);
                result = strcasecmp(value, "true") == 0 ? "true" : "false";
                break;
        case APID__S_UINT: {
                unsigned long long v;
                char *end;

                errno = 0;
                v = strtoull(value, &end, 10);
                if (!value[0] || *end || value[0] == '-' || value[0] == '+' || value[0] == ' ' || errno ||
                    v < s->min || v > s->max)
                        return apid__fail(APID_EINVAL, 0, "%s '%s': not a whole number from %llu to %llu", s->name,
                                          q, (unsigned long long)s->min, (unsigned long long)s->max);
                snprintf(buf, sizeof(buf), "%llu", v);
                break;
        }
        case APID__S_TIMESPAN: {
                int64_t t = parse_timespan(value);

                if (t < 0)
                        return apid__fail(APID_EINVAL, 0, "%s '%s': not a time span [d.]hh:mm:ss", s->name, q);
                if (t >= 86400)
                        snprintf(buf, sizeof(buf), "%lld.%02lld:%02lld:%02lld", (long long)(t / 86400),
                                 (long long)(t / 3600 % 24), (long long)(t / 60 % 60), (long long)(t % 60));
                else
                        snprintf(buf, sizeof(buf), "%02lld:%02lld:%02lld", (long long)(t / 3600),
                                 (long long)(t / 60 % 60), (long long)(t % 60));
                break;
        }
        case APID__S_ENUM:
                for (i = 0; s->values[i]; i++)
                        if (strcasecmp(value, s->values[i]) == 0)
                                break;
                if (!s->values[i]) {
                        char all[256] = "";

                        for (i = 0; s->values[i]; i++)
                                snprintf(all + strlen(all), sizeof(all) - strlen(all), "%s%s", i ? ", " : "",
                                         s->values[i]);
                        return apid__fail(APID_EINVAL, 0, "%s '%s': not one of %s", s->name, q, all);
                }
                result = s->values[i];
                break;
        case APID__S_USER:
                if (value[0] && !apid__posix_name_valid(value))
                        return apid__fail(APID_EINVAL, 0,
                                          "%s '%s': not a valid user or group name (lower case, at most 32, "
                                          "^[a-z_][a-z0-9_-]*$)", s->name, q);
                result = value;
                break;
        case APID__S_PATH:
                return normalize_path(s, value, q, out);
        default: /* APID__S_TEXT */
                for (i = 0; value[i]; i++)
                        if ((unsigned char)value[i] < 0x20 || value[i] == 0x7f)
                                return apid__fail(APID_EINVAL, 0, "%s '%s': control character", s->name, q);
                result = value;
        }
        *out = strdup(result);
        return *out ? APID_OK : apid__fail_oom();
}

int apid__identity_type_from_name(const char *name)
{
        int i;

        for (i = 0; identity_types[i]; i++)
                if (strcmp(identity_types[i], name) == 0)
                        return i;
        return APID_EINVAL;
}

int apid__config(struct sqlite3 *db, const char *name, char **value)
{
        int i = apid__setting_find(apid__registry_settings, name, "registry setting");
        int r;

        if (i < 0)
                return i;
        r = apid__reg_config_get(db, apid__registry_settings[i].name, value);
        if (r != APID_ENOTFOUND)
                return r;
        *value = strdup(apid__registry_settings[i].def);
        return *value ? APID_OK : apid__fail_oom();
}
