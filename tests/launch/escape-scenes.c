/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Escape attempts that need the administrator's side set up by the test
 * (tests/test-launch.c): the worker is launched under a default token and
 * reports each attempt on fd 3 as "blocked NAME" or "ESCAPED NAME: how".
 *
 *   escape-scenes tty PTY_PATH
 *       the launcher's stdin, stdout and stderr are a pty (the administrator's
 *       terminal); the worker tries to use it, and leaves a process behind
 *       that reads what the administrator types once the launch is over.
 *   escape-scenes keyring KEY_SERIAL KEY_DESCRIPTION CALLER_SESSION_KEYRING
 *       the launcher holds a key in its session keyring (root's); the worker
 *       (run without the seccomp filter, which denies keyctl) tries to see,
 *       find and read it. */
#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static FILE *out;

static void result(const char *name, int escaped, const char *how)
{
        if (escaped)
                fprintf(out, "ESCAPED %s: %s\n", name, how);
        else
                fprintf(out, "blocked %s\n", name);
        fflush(out);
}

/* What the administrator types after the launch returned ("hunter2"), read
 * by a process the worker left behind. */
static void read_later(void)
{
        struct pollfd pfd[3];
        char buf[256], how[300];
        int n = 0, fd, got = 0;

        for (fd = 0; fd < 3; fd++)
                if (isatty(fd)) {
                        pfd[n].fd = fd;
                        pfd[n].events = POLLIN;
                        n++;
                }
        buf[0] = '\0';
        /* Wait for the typing (the test writes it after the launcher exits). */
        if (n && poll(pfd, (nfds_t)n, 20000) > 0) {
                int i;

                for (i = 0; i < n && !got; i++)
                        if (pfd[i].revents & POLLIN) {
                                ssize_t r = read(pfd[i].fd, buf, sizeof(buf) - 1);

                                buf[r > 0 ? r : 0] = '\0';
                                got = strstr(buf, "hunter2") != NULL;
                        }
        }
        buf[strcspn(buf, "\n")] = '\0';
        snprintf(how, sizeof(how), "read '%s' from the terminal after the launch", buf);
        result("read what the administrator types next (a process left behind)", got, how);
}

static int tty_scene(const char *pty)
{
        struct termios t;
        char how[256] = "";
        int fd, ttys = 0, echo_off = 0, sti = 0;
        pid_t pid;

        for (fd = 0; fd < 3; fd++) {
                if (!isatty(fd))
                        continue;
                ttys++;
                snprintf(how + strlen(how), sizeof(how) - strlen(how), "fd %d ", fd);
                if (tcgetattr(fd, &t) == 0) {
                        t.c_lflag &= ~(tcflag_t)ECHO;
                        echo_off += tcsetattr(fd, TCSANOW, &t) == 0;
                }
                sti += ioctl(fd, TIOCSTI, "x") == 0;
        }
        result("find a terminal on stdin, stdout or stderr", ttys > 0, how);
        result("tcsetattr (echo off, as a password sniffer) on an inherited terminal", echo_off > 0,
               "tcsetattr succeeded");
        result("TIOCSTI (inject a keystroke) into an inherited terminal", sti > 0, "TIOCSTI succeeded");
        fd = open("/dev/tty", O_RDWR | O_NOCTTY);
        result("open /dev/tty (a controlling terminal)", fd >= 0, "opened");
        if (fd >= 0)
                close(fd);
        fd = open(pty, O_RDWR | O_NOCTTY);
        result("open the administrator's terminal by name", fd >= 0, pty);
        if (fd >= 0)
                close(fd);
        pid = fork();
        if (pid == 0) {
                read_later();
                _exit(0);
        }
        if (pid < 0)
                result("read what the administrator types next (a process left behind)", 0, "");
        return 0;
}

static int keyring_scene(long serial, const char *desc, long caller_session)
{
        char line[512], buf[256], how[300];
        FILE *f = fopen("/proc/keys", "r");
        long r;
        int seen = 0;

        while (f && fgets(line, sizeof(line), f))
                seen |= strstr(line, desc) != NULL;
        if (f)
                fclose(f);
        result("see root's key in /proc/keys", seen, desc);
        r = syscall(SYS_keyctl, KEYCTL_SEARCH, KEY_SPEC_SESSION_KEYRING, "user", desc, 0);
        snprintf(how, sizeof(how), "found key %ld", r);
        result("keyctl(KEYCTL_SEARCH) the session keyring for root's key", r >= 0, how);
        r = syscall(SYS_keyctl, KEYCTL_READ, serial, buf, sizeof(buf) - 1);
        buf[r > 0 && r < (long)sizeof(buf) ? r : 0] = '\0';
        snprintf(how, sizeof(how), "read '%s'", buf);
        result("keyctl(KEYCTL_READ) root's key", r > 0, how);
        r = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
        snprintf(how, sizeof(how), "session keyring %ld is the caller's", r);
        result("share the caller's session keyring", r == caller_session, how);
        return 0;
}

int main(int argc, char **argv)
{
        out = fdopen(3, "w");
        if (!out)
                return 100;
        if (argc == 3 && strcmp(argv[1], "tty") == 0)
                return tty_scene(argv[2]);
        if (argc == 5 && strcmp(argv[1], "keyring") == 0)
                return keyring_scene(atol(argv[2]), argv[3], atol(argv[4]));
        fprintf(out, "unexpected: usage\n");
        return 100;
}
