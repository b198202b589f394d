/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* apppoolctl run POOL -- PROGRAM ARGS..., apppoolctl token show POOL: a
 * command as a pool's worker would run, and what such a worker gets.
 *
 * run never hands its own terminal to the worker: when its stdin, stdout or
 * stderr is a terminal, the worker gets a pty that apppoolctl owns (its
 * terminal, and its controlling terminal), and apppoolctl relays between the
 * two; the pty is gone when run returns, so nothing the worker left behind
 * can read what is typed next. Other stdio (pipes, files) is passed as is.
 *
 * Job control works as for any foreground job: ^Z stops the worker, and run
 * stops itself with it (the terminal back in its own modes), so the shell
 * shows the job stopped and gives its prompt back; fg resumes run, which puts
 * the terminal back to raw and continues the worker (sudo behaves the same
 * with its pty). The worker leads a session of its own, so the kernel drops
 * the SIGTSTP its terminal makes of ^Z (its process group is orphaned: no
 * parent in the session outside it); run stops it with SIGSTOP instead. A
 * job that a shell in the worker put in the foreground gets ^Z as typed, and
 * that shell handles it. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "apppoolctl.h"
#include "regular.h"

#define MAX_ENV 256

struct token_opts {
        const char *caps[64];
        int n_caps;
        const char *env[MAX_ENV];
        int n_env;
        char *owned[MAX_ENV]; /* lines read from --env-file */
        int n_owned;
        const char *cwd;
        int no_seccomp;
        int no_shared_group;
};

static void free_opts(struct token_opts *o)
{
        while (o->n_owned)
                free(o->owned[--o->n_owned]);
}

/* --env-file FILE: NAME=VALUE lines (blank lines and lines starting with #
 * skipped; no quoting: the value is the rest of the line). Keeps secrets out
 * of the command line, which every pool can read in /proc/PID/cmdline. */
static int read_env_file(struct token_opts *o, const char *path, const char *verb)
{
        const char *kind;
        int fd = apid__open_regular(path, 0, &kind);
        FILE *f = fd < 0 ? NULL : fdopen(fd, "r");
        char *line = NULL;
        size_t cap = 0;
        ssize_t len;
        int lineno = 0, r = 0;

        if (!f) {
                if (fd >= 0)
                        close(fd);
                if (kind)
                        return fail_usage("%s: --env-file %s: is %s, not a regular file", verb, path, kind);
                return fail_usage("%s: --env-file %s: %s", verb, path, strerror(errno));
        }
        while (!r && (len = getline(&line, &cap, f)) >= 0) {
                size_t name_len;

                lineno++;
                if (len && line[len - 1] == '\n')
                        line[--len] = '\0';
                if (len && line[len - 1] == '\r')
                        line[--len] = '\0';
                if (!len || line[0] == '#')
                        continue;
                name_len = strcspn(line, "=");
                if (strlen(line) != (size_t)len)
                        r = fail_usage("%s: %s:%d: a NUL byte in the line", verb, path, lineno);
                else if (line[name_len] != '=')
                        r = fail_usage("%s: %s:%d: '%.64s': expected NAME=VALUE", verb, path, lineno, line);
                else if (!name_len || isdigit((unsigned char)line[0]) ||
                         strspn(line, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") != name_len)
                        r = fail_usage("%s: %s:%d: '%.*s': a name is letters, digits and _, not starting with a digit",
                                       verb, path, lineno, (int)(name_len > 64 ? 64 : name_len), line);
                else if (o->n_env == MAX_ENV)
                        r = fail_usage("%s: %s:%d: more than %d variables", verb, path, lineno, MAX_ENV);
                else if (!(o->owned[o->n_owned] = strdup(line)))
                        r = fail_usage("out of memory");
                else
                        o->env[o->n_env++] = o->owned[o->n_owned++];
        }
        if (!r && ferror(f))
                r = fail_usage("%s: --env-file %s: %s", verb, path, strerror(errno));
        free(line);
        fclose(f);
        return r;
}

static int parse_token_opts(int argc, char **argv, struct token_opts *o, const char *verb)
{
        static const struct option options[] = {
                { "cap", required_argument, NULL, 'c' },
                { "env", required_argument, NULL, 'e' },
                { "env-file", required_argument, NULL, 'f' },
                { "cwd", required_argument, NULL, 'd' },
                { "no-seccomp", no_argument, NULL, 's' },
                { "no-shared-group", no_argument, NULL, 'g' },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        int c;

        while ((c = getopt_long(argc, argv, "+c:e:f:d:h", options, NULL)) != -1) {
                switch (c) {
                case 'c':
                        if (o->n_caps == 64)
                                return fail_usage("%s: too many --cap", verb);
                        o->caps[o->n_caps++] = optarg;
                        break;
                case 'e':
                        if (o->n_env == MAX_ENV || !strchr(optarg, '='))
                                return fail_usage("%s: --env takes NAME=VALUE ('%s')", verb, optarg);
                        o->env[o->n_env++] = optarg;
                        break;
                case 'f':
                        if (read_env_file(o, optarg, verb))
                                return EXIT_USAGE;
                        break;
                case 'd': o->cwd = optarg; break;
                case 's': o->no_seccomp = 1; break;
                case 'g': o->no_shared_group = 1; break;
                case 'h':
                        printf("Usage: %s run POOL [--cap NAME]... [--env NAME=VALUE]... [--env-file FILE]...\n"
                               "              [--cwd DIR] [--no-seccomp] [--no-shared-group] -- PROGRAM [ARGS...]\n"
                               "       %s token show POOL [same options]\n"
                               "\n"
                               "run starts PROGRAM as the pool's worker would run: the pool's identity, no\n"
                               "capabilities but those named, no_new_privs, the seccomp allow-list, a clean\n"
                               "environment, the pool's profile (else /) as its directory. Its exit status is\n"
                               "passed through (128+N when killed by signal N). A terminal is relayed through\n"
                               "a pty of run's own, never handed over; without one, run becomes the worker\n"
                               "(exec, as setpriv does). --env values are visible to every pool\n"
                               "in /proc/PID/cmdline while run runs: put secrets in an --env-file (NAME=VALUE\n"
                               "lines). token show prints what such a worker gets. Both need root.\n",
                               program_name, program_name);
                        exit(0);
                default:
                        return fail_usage("%s: bad option", verb);
                }
        }
        return 0;
}

static int make_token(apid_ctx *ctx, const char *pool_name, const struct token_opts *o, apid_token **out)
{
        apid_pool *pool = NULL;
        apid_identity *id = NULL;
        apid_token *t = NULL;
        int i, r = 0;

        if (apid_pool_open(ctx, pool_name, &pool) != APID_OK || apid_pool_get_identity(pool, &id) != APID_OK ||
            apid_token_new(id, &t) != APID_OK)
                r = fail_library();
        for (i = 0; !r && i < o->n_caps; i++)
                if (apid_token_keep_cap(t, o->caps[i]) != APID_OK)
                        r = fail_library();
        for (i = 0; !r && i < o->n_env; i++) {
                char *copy = strdup(o->env[i]), *eq = copy ? strchr(copy, '=') : NULL;

                if (!eq) {
                        free(copy);
                        r = fail_usage("out of memory");
                        break;
                }
                *eq = '\0';
                if (apid_token_setenv(t, copy, eq + 1) != APID_OK)
                        r = fail_library();
                free(copy);
        }
        if (!r && o->no_seccomp && apid_token_set_seccomp(t, 0) != APID_OK)
                r = fail_library();
        if (!r && o->no_shared_group && apid_token_set_groups(t, 0) != APID_OK)
                r = fail_library();
        apid_identity_free(id);
        apid_pool_free(pool);
        if (r) {
                apid_token_free(t);
                return r;
        }
        *out = t;
        return 0;
}

/* ---- the terminal relay ---- */

struct relay {
        int master, slave;       /* the pty run owns; -1 without a terminal */
        int out;                 /* where the worker's terminal output goes: 1, or 2 */
        int raw;                 /* stdin is a terminal put in raw mode */
        struct termios saved;
        int sigfd;
        sigset_t old_mask;
};

static void copy_winsize(int from, int to)
{
        struct winsize ws;

        if (ioctl(from, TIOCGWINSZ, &ws) == 0)
                ioctl(to, TIOCSWINSZ, &ws);
}

/* A pty for the worker when any of run's stdio is a terminal. */
static int relay_open(struct relay *rl)
{
        int tty = isatty(0) ? 0 : isatty(1) ? 1 : isatty(2) ? 2 : -1;
        struct termios tio;
        sigset_t mask;

        memset(rl, 0, sizeof(*rl));
        rl->master = rl->slave = rl->sigfd = -1;
        if (tty < 0)
                return 0;
        rl->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (rl->master < 0 || grantpt(rl->master) < 0 || unlockpt(rl->master) < 0 ||
            (rl->slave = open(ptsname(rl->master), O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
                fprintf(stderr, "%s: run: cannot open a pty for the worker: %s\n", program_name, strerror(errno));
                return EXIT_LIBRARY;
        }
        /* The worker's terminal starts as ours is: modes and size. */
        if (tcgetattr(tty, &tio) == 0)
                tcsetattr(rl->slave, TCSANOW, &tio);
        copy_winsize(tty, rl->slave);
        rl->out = isatty(1) ? 1 : 2;
        /* Signals come through a descriptor: a resize, and those that would end
         * run without restoring the terminal (they go on to the worker). */
        sigemptyset(&mask);
        sigaddset(&mask, SIGWINCH);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGQUIT);
        sigaddset(&mask, SIGCHLD); /* the worker stopped (job control) */
        sigprocmask(SIG_BLOCK, &mask, &rl->old_mask);
        rl->sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
        /* Keys go to the worker's terminal as typed (its line discipline does
         * the editing and ^C), so ours is raw while it runs. */
        if (isatty(0) && tcgetattr(0, &rl->saved) == 0) {
                tio = rl->saved;
                cfmakeraw(&tio);
                rl->raw = tcsetattr(0, TCSANOW, &tio) == 0;
        }
        return 0;
}

static void relay_close(struct relay *rl)
{
        if (rl->raw)
                tcsetattr(0, TCSANOW, &rl->saved);
        if (rl->master >= 0) {
                close(rl->master); /* hangs up what the worker left on the pty */
                sigprocmask(SIG_SETMASK, &rl->old_mask, NULL);
        }
        if (rl->slave >= 0)
                close(rl->slave);
        if (rl->sigfd >= 0)
                close(rl->sigfd);
}

static int write_all(int fd, const char *buf, ssize_t n)
{
        while (n > 0) {
                ssize_t w = write(fd, buf, (size_t)n);

                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        return -1;
                buf += w;
                n -= w;
        }
        return 0;
}

/* The worker stopped (^Z on its terminal, or any stop signal): stop run
 * too, as the job the shell knows, with the terminal in its own modes; once
 * continued (fg), raw again and the worker's foreground job continued. Where
 * run cannot stop (SIGTSTP ignored, an orphaned process group), the worker
 * is continued at once: it never stays stopped behind a running run. */
static void relay_follow_stop(struct relay *rl, apid_process *proc)
{
        siginfo_t info;
        pid_t fg;

        memset(&info, 0, sizeof(info));
        /* WSTOPPED alone: reports a stop, never reaps. */
        if (waitid((idtype_t)P_PIDFD, (id_t)apid_process_get_fd(proc), &info, WSTOPPED | WNOHANG) < 0 ||
            info.si_pid == 0 || info.si_code != CLD_STOPPED)
                return;
        if (rl->raw)
                tcsetattr(0, TCSADRAIN, &rl->saved);
        kill(getpid(), SIGTSTP);
        /* Continued. */
        if (rl->raw) {
                struct termios tio = rl->saved;

                cfmakeraw(&tio);
                tcsetattr(0, TCSADRAIN, &tio);
        }
        copy_winsize(isatty(0) ? 0 : rl->out, rl->master);
        /* The worker's terminal's foreground job (the worker, or the job its
         * shell put there), else the worker itself. */
        fg = tcgetpgrp(rl->master);
        if ((fg <= 0 || kill(-fg, SIGCONT) < 0) && apid_process_signal(proc, SIGCONT) != APID_OK)
                return; /* it has exited meanwhile: the loop sees that */
}

/* The suspend character when ^Z is run's to act on: the worker's terminal
 * makes signals of keys (ISIG) and the worker's own, orphaned, process group
 * is in the foreground; else -1 (the byte goes through as typed). */
static int suspend_char(struct relay *rl, apid_process *proc)
{
        struct termios tio;

        if (tcgetattr(rl->master, &tio) < 0 || !(tio.c_lflag & ISIG) || tio.c_cc[VSUSP] == _POSIX_VDISABLE ||
            tcgetpgrp(rl->master) != apid_process_get_pid(proc))
                return -1;
        return tio.c_cc[VSUSP];
}

/* Keys to the worker's terminal; each ^Z it cannot act on stops the worker
 * (relay_follow_stop() then stops run). */
static void relay_input(struct relay *rl, apid_process *proc, const char *buf, ssize_t n)
{
        int susp = suspend_char(rl, proc);
        const char *z;

        while (susp >= 0 && n > 0 && (z = memchr(buf, susp, (size_t)n))) {
                write_all(rl->master, buf, z - buf);
                kill(-apid_process_get_pid(proc), SIGSTOP);
                n -= z - buf + 1;
                buf = z + 1;
        }
        write_all(rl->master, buf, n);
}

/* Copy keys to the worker's terminal and its output back, until it exits. */
static void relay_run(struct relay *rl, apid_process *proc)
{
        struct pollfd pfd[4];
        char buf[4096];
        int in_open = isatty(0), out_open = 1, exited = 0;

        while (!exited) {
                ssize_t n;

                pfd[0] = (struct pollfd){ apid_process_get_fd(proc), POLLIN, 0 };
                pfd[1] = (struct pollfd){ out_open ? rl->master : -1, POLLIN, 0 };
                pfd[2] = (struct pollfd){ rl->sigfd, POLLIN, 0 };
                pfd[3] = (struct pollfd){ in_open ? 0 : -1, POLLIN, 0 };
                if (poll(pfd, 4, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (pfd[1].revents & POLLIN) {
                        n = read(rl->master, buf, sizeof(buf));
                        if (n > 0)
                                write_all(rl->out, buf, n);
                } else if (pfd[1].revents & (POLLHUP | POLLERR)) {
                        out_open = 0; /* the worker closed its terminal; wait for its exit alone */
                }
                if (pfd[3].revents & (POLLIN | POLLHUP)) {
                        n = read(0, buf, sizeof(buf));
                        if (n > 0)
                                relay_input(rl, proc, buf, n);
                        else
                                in_open = 0;
                }
                if (pfd[2].revents & POLLIN) {
                        struct signalfd_siginfo si;

                        if (read(rl->sigfd, &si, sizeof(si)) == sizeof(si)) {
                                if (si.ssi_signo == SIGWINCH)
                                        copy_winsize(isatty(0) ? 0 : rl->out, rl->master);
                                else if (si.ssi_signo == SIGCHLD)
                                        relay_follow_stop(rl, proc);
                                else if (apid_process_signal(proc, (int)si.ssi_signo) != APID_OK)
                                        exited = 1;
                        }
                }
                if (pfd[0].revents & POLLIN)
                        exited = 1;
        }
        /* What the worker wrote before it exited; not what something it left
         * behind may still write (no waiting for it). */
        fcntl(rl->master, F_SETFL, O_NONBLOCK);
        for (;;) {
                ssize_t n = read(rl->master, buf, sizeof(buf));

                if (n <= 0 || write_all(rl->out, buf, n) < 0)
                        break;
        }
}

/* The worker's stdio: the pty for run's terminals, the rest as is. */
static int relay_attr(struct relay *rl, apid_launch_attr *attr)
{
        int fd;

        if (rl->master < 0)
                return APID_OK;
        if (apid_launch_attr_set_terminal(attr, rl->slave) != APID_OK)
                return -1;
        for (fd = 0; fd < 3; fd++)
                if (!isatty(fd) && fcntl(fd, F_GETFD) >= 0 && apid_launch_attr_pass_fd(attr, fd, fd) != APID_OK)
                        return -1;
        return APID_OK;
}

int cmd_run(int argc, char **argv)
{
        struct token_opts o;
        struct relay rl;
        apid_launch_attr *attr = NULL;
        apid_process *proc = NULL;
        apid_token *t = NULL;
        apid_ctx *ctx = NULL;
        int r;

        memset(&o, 0, sizeof(o));
        if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
                return parse_token_opts(argc, argv, &o, "run");
        if (argc < 2 || argv[1][0] == '-')
                return fail_usage("run: POOL comes first: run POOL [options] -- PROGRAM [ARGS...]");
        /* run POOL [options] -- PROGRAM ARGS: the options follow the pool. */
        r = parse_token_opts(argc - 1, argv + 1, &o, "run");
        if (!r && optind >= argc - 1)
                r = fail_usage("run: a PROGRAM (after --) is needed");
        if (!r && apid_ctx_new(&ctx) != APID_OK)
                r = fail_library();
        if (!r)
                r = make_token(ctx, argv[1], &o, &t);
        free_opts(&o);
        if (!r && (apid_launch_attr_new(&attr) != APID_OK || apid_launch_attr_set_cwd(attr, o.cwd) != APID_OK))
                r = fail_library();
        if (!r && (r = relay_open(&rl)) != 0)
                relay_close(&rl);
        /* No terminal to relay: once the worker runs, run has nothing left to
         * do but wait and pass its status on, so it becomes the worker (as
         * setpriv does; issue 17). It returns only with nothing changed; as
         * a shell's job (a process group leader: no setsid) it launches and
         * waits instead. */
        if (!r && rl.master < 0 &&
            apid_launch_exec(t, attr, argv[1 + optind], (const char *const *)&argv[1 + optind]) != APID_EBUSY) {
                relay_close(&rl);
                r = fail_library();
        }
        if (!r && (relay_attr(&rl, attr) != APID_OK ||
                   apid_launch(t, attr, argv[1 + optind], (const char *const *)&argv[1 + optind], &proc) != APID_OK)) {
                relay_close(&rl);
                r = fail_library();
        }
        if (!r && rl.master >= 0) {
                close(rl.slave); /* the worker's now */
                rl.slave = -1;
                relay_run(&rl, proc);
        }
        if (!r) {
                relay_close(&rl);
                if (apid_process_wait(proc, -1) != APID_OK)
                        r = fail_library();
        }
        if (!r)
                r = apid_process_exit_code(proc) >= 0 ? apid_process_exit_code(proc)
                                                      : 128 + apid_process_term_signal(proc);
        apid_process_free(proc);
        apid_launch_attr_free(attr);
        apid_token_free(t);
        apid_ctx_unref(ctx);
        return r;
}

int cmd_token(int argc, char **argv)
{
        struct token_opts o;
        apid_token *t = NULL;
        apid_ctx *ctx = NULL;
        char *text = NULL;
        int r;

        memset(&o, 0, sizeof(o));
        if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
                return parse_token_opts(argc, argv, &o, "token");
        if (argc < 3 || strcmp(argv[1], "show") != 0 || argv[2][0] == '-')
                return fail_usage("token: expected 'token show POOL [options]'");
        r = parse_token_opts(argc - 2, argv + 2, &o, "token show");
        if (!r && optind != argc - 2)
                r = fail_usage("token show: exactly one POOL is needed");
        if (!r && apid_ctx_new(&ctx) != APID_OK)
                r = fail_library();
        if (!r)
                r = make_token(ctx, argv[2], &o, &t);
        free_opts(&o);
        if (!r && apid_token_describe(t, &text) != APID_OK)
                r = fail_library();
        if (!r)
                fputs(text, stdout);
        apid_free(text);
        apid_token_free(t);
        apid_ctx_unref(ctx);
        return r;
}
