/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Per-pool resource limits through cgroups: the host's policy (the library
 * only places a worker in the cgroups it is given, apid_launch_attr_add_cgroup()).
 *
 * Each pool with a limit gets `apppoolid/<pool user name>` under the host's
 * own cgroup (`apppoolid-XXXXXXXX/...` for a host on another state
 * directory than the default: limits_instance()) in every hierarchy it
 * needs: cgroup v2 (the unified hierarchy, always, when mounted: the worker is cloned into it, its cpu.stat measures
 * the pool, cgroup.kill ends it), and for each limit the controller's
 * hierarchy, v2 where the unified hierarchy has the controller, else v1
 * (memory, pids, cpu; cpuacct to measure when there is no v2).
 * The cgroups are removed when the host exits (atexit), after whatever is
 * left in them is killed.
 */
#ifndef APPPOOL_HOST_CGROUP_H
#define APPPOOL_HOST_CGROUP_H

#include <time.h>

#include <apppoolid.h>

#include "limits.h"

/* Before any limits_setup(): name the directory of this host's pools
 * after its state directory (apppoolid for the default one, else
 * apppoolid- and a hash of the path), so that hosts on different state
 * directories never share a pool's cgroup. */
void limits_instance(const char *state_dir, const char *default_state_dir);

/* That directory's name. */
const char *limits_top_name(void);

/* Create pool p's cgroups (name: its user name) and set its limits; nothing
 * when it has none. 0, or -1 after logging why through log. */
int limits_setup(int p, const char *name, const struct pool_limits *l,
                 void (*log)(const char *fmt, ...) __attribute__((format(printf, 1, 2))));

/* processModel.idleTimeoutAction = Suspend: freeze (on) or thaw pool p's
 * cgroup v2 (cgroup.freeze): every process in it, the workers and their
 * children, stops being scheduled. 0, or -1 with errno. */
int limits_freeze(int p, int on);

/* Give a worker of pool p its cgroups. */
int limits_attach(int p, apid_launch_attr *attr);

/* Why a worker of pool p that died of signal sig died, if a limit did it
 * ("killed by the kernel's OOM killer in the pool's cgroup: ..."), or NULL.
 * *failure: whether rapid-fail protection counts it (an OOM kill: yes, it
 * lost requests like a crash; a KillW3wp kill, the host's own act: no).
 * Call once per dead worker. */
const char *limits_exit_reason(int p, int sig, int *failure);

/* Every second: 1 when pool p's CPU use over its last cpu.resetInterval
 * passed cpu.limit and its cpu.action is KillW3wp (the caller then kills its
 * workers; why says by how much); the workers' later deaths by SIGKILL are
 * reported by limits_exit_reason(). */
int limits_tick(int p, time_t now, char *why, size_t size);

/* The caller is about to SIGKILL one of pool p's workers for KillW3wp. */
void limits_note_cpu_kill(int p);

/* SIGKILL every process left in pool p's cgroup (a killed worker's
 * children: IIS's job object ends them with the worker). */
void limits_kill_rest(int p);

/* Kill whatever is left in pool p's cgroups (a worker's stray children) and
 * remove them. */
void limits_teardown(int p);

#endif
