/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The escape worker: launched under a default token, it tries to get out in
 * every way the suite knows, and reports each attempt on fd 3 as
 * "blocked NAME" or "ESCAPED NAME: how". Exit status: the number of escapes.
 * Usage: escape PID_OF_OTHER_POOL PARENT_PID OTHER_POOL_FILE ROOT_FILE
 *               OTHER_POOL_PROFILE SETUID_ROOT_BINARY PARENT_SECRET_FD */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/keyctl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <dirent.h>
#include <linux/capability.h>
#include <linux/io_uring.h>
#include <sys/mman.h>
#include <sys/personality.h>

extern char **environ;
static FILE *out;
static int attempts, escapes;

static void result(const char *name, int escaped, const char *how)
{
        attempts++;
        if (escaped) {
                escapes++;
                fprintf(out, "ESCAPED %s: %s\n", name, how);
        } else {
                fprintf(out, "blocked %s\n", name);
        }
}

/* An attempt that must fail with a system call error. */
static void must_fail(const char *name, long r)
{
        char how[128];

        snprintf(how, sizeof(how), "returned %ld", r);
        result(name, r >= 0, how);
}

static char *status_field(const char *field)
{
        static char value[256];
        char line[256];
        FILE *f = fopen("/proc/self/status", "r");

        value[0] = '\0';
        while (f && fgets(line, sizeof(line), f))
                if (strncmp(line, field, strlen(field)) == 0 && line[strlen(field)] == ':') {
                        snprintf(value, sizeof(value), "%s", line + strlen(field) + 1 + strspn(line + strlen(field) + 1, " \t"));
                        value[strcspn(value, "\n")] = '\0';
                }
        if (f)
                fclose(f);
        return value;
}

/* ---- the allow-list filter: io_uring, memfd_secret, personality, new calls ---- */

/* A minimal io_uring with raw system calls (no liburing): one submission
 * at a time. Every operation in a ring runs without passing seccomp, so a
 * ring at all is a way around any filter. */
struct ring {
        int fd;
        unsigned *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
        struct io_uring_sqe *sqes;
        struct io_uring_cqe *cqes;
};

static int ring_setup(struct ring *r)
{
        struct io_uring_params p;
        size_t sq_size, cq_size;
        char *sq, *cq;

        memset(&p, 0, sizeof(p));
        r->fd = (int)syscall(SYS_io_uring_setup, 4, &p);
        if (r->fd < 0)
                return -1;
        sq_size = p.sq_off.array + p.sq_entries * sizeof(unsigned);
        cq_size = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
        if (p.features & IORING_FEAT_SINGLE_MMAP)
                sq_size = cq_size = sq_size > cq_size ? sq_size : cq_size;
        sq = mmap(NULL, sq_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQ_RING);
        cq = p.features & IORING_FEAT_SINGLE_MMAP ? sq
             : mmap(NULL, cq_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_CQ_RING);
        r->sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES);
        if (sq == MAP_FAILED || cq == MAP_FAILED || r->sqes == MAP_FAILED)
                return -1;
        r->sq_tail = (unsigned *)(void *)(sq + p.sq_off.tail);
        r->sq_mask = (unsigned *)(void *)(sq + p.sq_off.ring_mask);
        r->sq_array = (unsigned *)(void *)(sq + p.sq_off.array);
        r->cq_head = (unsigned *)(void *)(cq + p.cq_off.head);
        r->cq_tail = (unsigned *)(void *)(cq + p.cq_off.tail);
        r->cq_mask = (unsigned *)(void *)(cq + p.cq_off.ring_mask);
        r->cqes = (struct io_uring_cqe *)(void *)(cq + p.cq_off.cqes);
        return 0;
}

/* Submit one prepared SQE and wait for its completion: the result. */
static long ring_run(struct ring *r, const struct io_uring_sqe *sqe)
{
        unsigned tail = *r->sq_tail, head;
        long res;

        r->sqes[tail & *r->sq_mask] = *sqe;
        r->sq_array[tail & *r->sq_mask] = tail & *r->sq_mask;
        __atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
        if (syscall(SYS_io_uring_enter, r->fd, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0)
                return -errno;
        head = *r->cq_head;
        if (head == __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE))
                return -EAGAIN;
        res = r->cqes[head & *r->cq_mask].res;
        __atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
        return res;
}

/* io_uring: OPENAT, SOCKET and CONNECT through a ring, none of which
 * seccomp sees (a token that denies openat, socket and connect would be
 * bypassed). Each counts as an escape when the ring ran it. */
static void io_uring_attacks(const char *path)
{
        struct io_uring_sqe sqe;
        struct sockaddr_in sin;
        socklen_t len = sizeof(sin);
        struct ring r;
        char how[128];
        long res;
        int ok = ring_setup(&r) == 0, lst = -1, sock = -1;

        snprintf(how, sizeof(how), "a ring (fd %d)", r.fd);
        result("io_uring_setup", ok, how);
        /* OPENAT */
        memset(&sqe, 0, sizeof(sqe));
        sqe.opcode = IORING_OP_OPENAT;
        sqe.fd = AT_FDCWD;
        sqe.addr = (unsigned long)path;
        sqe.open_flags = O_RDONLY | O_CLOEXEC;
        res = ok ? ring_run(&r, &sqe) : -1;
        snprintf(how, sizeof(how), "opened %s as fd %ld without openat()", path, res);
        result("IORING_OP_OPENAT through a ring", res >= 0, how);
        if (res >= 0)
                close((int)res);
        /* SOCKET */
        memset(&sqe, 0, sizeof(sqe));
        sqe.opcode = IORING_OP_SOCKET;
        sqe.fd = AF_INET;
        sqe.off = SOCK_STREAM;
        res = ok ? ring_run(&r, &sqe) : -1;
        snprintf(how, sizeof(how), "a socket, fd %ld, without socket()", res);
        result("IORING_OP_SOCKET through a ring", res >= 0, how);
        sock = (int)res;
        /* CONNECT, to a listener of our own (socket() itself is allowed here) */
        memset(&sin, 0, sizeof(sin));
        sin.sin_family = AF_INET;
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        lst = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (lst < 0 && ok) {
                /* socket() denied: the listener comes from the ring too. */
                memset(&sqe, 0, sizeof(sqe));
                sqe.opcode = IORING_OP_SOCKET;
                sqe.fd = AF_INET;
                sqe.off = SOCK_STREAM;
                lst = (int)ring_run(&r, &sqe);
        }
        if (sock < 0)
                sock = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (lst >= 0 && (bind(lst, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(lst, 1) < 0 ||
                         getsockname(lst, (struct sockaddr *)&sin, &len) < 0))
                lst = -1;
        memset(&sqe, 0, sizeof(sqe));
        sqe.opcode = IORING_OP_CONNECT;
        sqe.fd = sock;
        sqe.addr = (unsigned long)&sin;
        sqe.off = sizeof(sin);
        res = ok && lst >= 0 && sock >= 0 ? ring_run(&r, &sqe) : -1;
        snprintf(how, sizeof(how), "connected to 127.0.0.1:%u without connect()", ntohs(sin.sin_port));
        result("IORING_OP_CONNECT through a ring", res == 0, how);
        if (sock >= 0)
                close(sock);
        if (lst >= 0)
                close(lst);
        if (ok)
                close(r.fd);
}

#ifndef SYS_listmount
#define SYS_listmount 458 /* Linux 6.8; the same number on every architecture */
#endif

static void allow_list_attacks(const char *path)
{
        char how[128];
        long r;
        int e;

        io_uring_attacks(path);
        /* Memory the kernel itself cannot read (nor root through /proc/PID/mem). */
        r = syscall(SYS_memfd_secret, 0);
        must_fail("memfd_secret", r);
        if (r >= 0)
                close((int)r);
        /* Executable heap and stack, and no address randomisation for what it runs next. */
        r = personality(READ_IMPLIES_EXEC | ADDR_NO_RANDOMIZE);
        e = personality(0xffffffff);
        snprintf(how, sizeof(how), "personality(%ld) now 0x%x", r, (unsigned)e);
        result("personality(READ_IMPLIES_EXEC | ADDR_NO_RANDOMIZE)",
               e != -1 && (e & (READ_IMPLIES_EXEC | ADDR_NO_RANDOMIZE)) != 0, how);
        if (e != -1 && e != PER_LINUX)
                personality(PER_LINUX);
        /* A system call newer than any list (listmount, Linux 6.8): no rule
         * names it, and it must fail with ENOSYS, as on an older kernel. */
        {
                struct { uint32_t size, spare; uint64_t mnt_id, param; } req = { 24, 0, (uint64_t)-1, 0 };
                uint64_t ids[16];

                errno = 0;
                r = syscall(SYS_listmount, &req, ids, 16, 0);
                e = errno;
                snprintf(how, sizeof(how), "returned %ld (errno %d)", r, e);
                result("listmount, newer than the filter (ENOSYS)", r >= 0 || e != ENOSYS, how);
        }
        /* A number no kernel has assigned: ENOSYS, and the worker lives on. */
        errno = 0;
        r = syscall(1023, 0, 0, 0);
        e = errno;
        snprintf(how, sizeof(how), "returned %ld (errno %d)", r, e);
        result("system call 1023, unassigned (ENOSYS)", r >= 0 || e != ENOSYS, how);
}

int main(int argc, char **argv)
{
        pid_t other, parent;
        int secret_fd, fd, s;
        char buf[256], path[512];
        struct sockaddr_in sin;
        struct rlimit rl;
        gid_t zero = 0;
        char **e;

        out = fdopen(3, "w");
        if (out && argc == 2 && strcmp(argv[1], "--io-uring") == 0) {
                /* Only the ring, for a token that denies openat, socket and connect. */
                setvbuf(out, NULL, _IOLBF, 0);
                io_uring_attacks(argv[0]);
                fprintf(out, "attempts %d escapes %d\n", attempts, escapes);
                fclose(out);
                return escapes;
        }
        if (!out || argc != 8)
                return 100;
        setvbuf(out, NULL, _IOLBF, 0);
        other = atoi(argv[1]);
        parent = atoi(argv[2]);
        secret_fd = atoi(argv[7]);

        /* Identity: no way back to root. */
        must_fail("setuid(0)", setuid(0));
        must_fail("setgid(0)", setgid(0));
        must_fail("setgroups([0])", setgroups(1, &zero));
        must_fail("raw setresuid(0,0,0)", syscall(SYS_setresuid, 0, 0, 0));
        {
                struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
                struct __user_cap_data_struct d[2] = { { ~0u, ~0u, ~0u }, { ~0u, ~0u, ~0u } };

                must_fail("capset(all)", syscall(SYS_capset, &h, d));
        }
        must_fail("prctl(PR_SET_SECUREBITS, 0)", prctl(PR_SET_SECUREBITS, 0, 0, 0, 0));
        must_fail("prctl(PR_CAP_AMBIENT_RAISE, CAP_SYS_ADMIN)", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, 21, 0, 0));
        /* A setuid-root binary must not make us root (no_new_privs). */
        snprintf(buf, sizeof(buf), "%s -u", argv[6]);
        {
                FILE *p = popen(buf, "r");
                char got[64] = "";

                if (p) {
                        if (!fgets(got, sizeof(got), p))
                                got[0] = '\0';
                        pclose(p);
                }
                got[strcspn(got, "\n")] = '\0';
                snprintf(path, sizeof(path), "setuid-root binary printed euid %s", got);
                result("exec a setuid-root binary", strcmp(got, "0") == 0, path);
        }

        /* Capabilities: none. */
        snprintf(path, sizeof(path), "/tmp/apid-escape-%d", getpid());
        fd = open(path, O_CREAT | O_WRONLY, 0600);
        must_fail("chown a file to root (CAP_CHOWN)", fd >= 0 ? fchown(fd, 0, 0) : 0);
        if (fd >= 0) {
                close(fd);
                unlink(path);
        }
        s = socket(AF_INET, SOCK_STREAM, 0);
        memset(&sin, 0, sizeof(sin));
        sin.sin_family = AF_INET;
        sin.sin_port = htons(80);
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        must_fail("bind 127.0.0.1:80 (CAP_NET_BIND_SERVICE)", s >= 0 ? bind(s, (struct sockaddr *)&sin, sizeof(sin)) : 0);
        if (s >= 0)
                close(s);
        getrlimit(RLIMIT_NOFILE, &rl);
        rl.rlim_max += 1;
        rl.rlim_cur = rl.rlim_max;
        must_fail("raise the RLIMIT_NOFILE hard limit (CAP_SYS_RESOURCE)", setrlimit(RLIMIT_NOFILE, &rl));
        must_fail("mount a tmpfs", mount("none", "/mnt", "tmpfs", 0, NULL));

        /* Files: another pool's, root's, the system's. */
        must_fail("read another pool's 0600 file", open(argv[3], O_RDONLY));
        must_fail("read root's 0600 file", open(argv[4], O_RDONLY));
        snprintf(path, sizeof(path), "%s/planted", argv[5]);
        must_fail("write into another pool's profile", open(path, O_CREAT | O_WRONLY, 0644));
        must_fail("open /etc/shadow", open("/etc/shadow", O_RDONLY));
        must_fail("write /etc/passwd", open("/etc/passwd", O_WRONLY | O_APPEND));

        /* Processes: another pool's worker, and the parent. */
        must_fail("ptrace(PTRACE_ATTACH) another pool's worker", ptrace(PTRACE_ATTACH, other, 0, 0));
        must_fail("kill another pool's worker", kill(other, SIGKILL));
        must_fail("kill the parent", kill(parent, SIGKILL));
        must_fail("ptrace(PTRACE_ATTACH) the parent", ptrace(PTRACE_ATTACH, parent, 0, 0));
        snprintf(path, sizeof(path), "/proc/%d/environ", other);
        must_fail("read another pool's worker's environment", open(path, O_RDONLY));
        snprintf(path, sizeof(path), "/proc/%d/mem", parent);
        must_fail("open the parent's memory", open(path, O_RDWR));

        /* Descriptors: only 0, 1, 2 and the one passed (3). */
        must_fail("use the parent's secret descriptor", fcntl(secret_fd, F_GETFD));
        {
                DIR *d = opendir("/proc/self/fd");
                struct dirent *de;
                int extra = 0;

                while (d && (de = readdir(d)))
                        if (de->d_name[0] != '.' && atoi(de->d_name) > 3 && atoi(de->d_name) != dirfd(d))
                                extra++;
                if (d)
                        closedir(d);
                snprintf(buf, sizeof(buf), "%d descriptors beyond 0-3", extra);
                result("find an inherited descriptor", extra > 0, buf);
        }

        /* Environment: nothing of the caller's. */
        result("find LD_PRELOAD", getenv("LD_PRELOAD") != NULL, "LD_PRELOAD is set");
        result("find the caller's secret", getenv("SECRET_TOKEN") != NULL, "SECRET_TOKEN is set");
        for (e = environ; *e; e++)
                if (strncmp(*e, "PATH=", 5) && strncmp(*e, "HOME=", 5) && strncmp(*e, "USER=", 5) &&
                    strncmp(*e, "LOGNAME=", 8) && strncmp(*e, "TMPDIR=", 7))
                        result("find any other variable", 1, *e);

        /* The seccomp deny list: calls an unprivileged process could otherwise make. */
        must_fail("keyctl (seccomp)", syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0));
        must_fail("unshare(CLONE_NEWUSER) (seccomp)", unshare(CLONE_NEWUSER));
        must_fail("userfaultfd (seccomp)", syscall(SYS_userfaultfd, 0));
        must_fail("ptrace(PTRACE_TRACEME) (seccomp)", ptrace(PTRACE_TRACEME, 0, 0, 0));
        must_fail("bpf (seccomp)", syscall(SYS_bpf, 0, NULL, 0));
        must_fail("perf_event_open (seccomp)", syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
        {
                /* A user namespace through clone() instead of unshare(). */
                long r = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);

                if (r == 0)
                        _exit(0); /* the child of an escape: it only proves it */
                must_fail("clone(CLONE_NEWUSER) (seccomp)", r);
                if (r > 0)
                        waitpid((pid_t)r, NULL, 0);
        }
        must_fail("clone3 (seccomp: flags unreadable, so ENOSYS)", syscall(SYS_clone3, NULL, 0));
        must_fail("fsopen, the new mount API (seccomp)", syscall(SYS_fsopen, "tmpfs", 0));
        must_fail("pidfd_getfd on the parent (seccomp)", syscall(SYS_pidfd_getfd, 3, 0, 0));
        allow_list_attacks(argv[0]);

        /* The working directory: never the caller's. The test launches from a
         * directory inside another pool's 0700 profile, holding a marker. */
        {
                DIR *d = opendir(".");
                struct dirent *de;
                int seen = 0;

                while (d && (de = readdir(d)))
                        seen |= strcmp(de->d_name, "beta-only-marker") == 0;
                if (d)
                        closedir(d);
                result("list the caller's working directory (inside another pool's 0700 profile)", seen,
                       "the marker is listed");
        }
        must_fail("read a file in the caller's working directory", open("beta-only-marker", O_RDONLY));

        /* What the kernel says about us. */
        result("CapEff", strcmp(status_field("CapEff"), "0000000000000000") != 0, status_field("CapEff"));
        result("CapPrm", strcmp(status_field("CapPrm"), "0000000000000000") != 0, status_field("CapPrm"));
        result("CapInh", strcmp(status_field("CapInh"), "0000000000000000") != 0, status_field("CapInh"));
        result("CapBnd", strcmp(status_field("CapBnd"), "0000000000000000") != 0, status_field("CapBnd"));
        result("CapAmb", strcmp(status_field("CapAmb"), "0000000000000000") != 0, status_field("CapAmb"));
        result("NoNewPrivs", strcmp(status_field("NoNewPrivs"), "1") != 0, status_field("NoNewPrivs"));
        result("Seccomp", strcmp(status_field("Seccomp"), "2") != 0, status_field("Seccomp"));
        result("uid", getuid() == 0 || geteuid() == 0, "root");

        fprintf(out, "attempts %d escapes %d\n", attempts, escapes);
        fclose(out);
        return escapes;
}
