// SPDX-License-Identifier: LGPL-2.1-or-later
// Tests of the C# bindings against the real libapppoolid, run with mono.
// Prints one line per test and closes with "N passed, N failed".
// Usage: mono Tests.exe VECTORS_TSV
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;
using AppPoolId;

static class Tests
{
    static int passed, failed;

    [System.Runtime.InteropServices.DllImport("libc")]
    static extern uint geteuid();
    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    static extern int pipe(int[] fds);
    [System.Runtime.InteropServices.DllImport("libc")]
    static extern IntPtr write(int fd, byte[] buf, IntPtr count);
    [System.Runtime.InteropServices.DllImport("libc")]
    static extern int close(int fd);
    [System.Runtime.InteropServices.DllImport("libc")]
    static extern int gettid();
    [System.Runtime.InteropServices.DllImport("libc")]
    static extern IntPtr read(int fd, byte[] buf, IntPtr count);
    [System.Runtime.InteropServices.DllImport("libc")]
    static extern int openpty(out int master, out int slave, IntPtr name, IntPtr termp, IntPtr winp);
    [System.Runtime.InteropServices.DllImport("libc")]
    static extern IntPtr ttyname(int fd);
    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    static extern int mkdir(string path, uint mode);
    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    static extern int rmdir(string path);
    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    static extern IntPtr opendir(string path);
    [System.Runtime.InteropServices.DllImport("libc")]
    static extern int dirfd(IntPtr dir);
    [System.Runtime.InteropServices.DllImport("libc")]
    static extern int closedir(IntPtr dir);
    [System.Runtime.InteropServices.DllImport("libc")]
    static extern int fcntl(int fd, int cmd);

    /// Run /bin/sh -c script under a token with the options; its stdout (exit 0 checked).
    static string Run(Token token, LaunchOptions options, string script)
    {
        var fds = new int[2];
        if (pipe(fds) != 0)
            throw new Exception("pipe");
        options.Fds = new Dictionary<int, int> { { 1, fds[1] } };
        try
        {
            using (var proc = token.Launch(options, "/bin/sh", "-c", script))
            {
                close(fds[1]);
                fds[1] = -1;
                string output = ReadAll(fds[0]);
                Equal(0, proc.Wait(), "exit of " + script);
                return output;
            }
        }
        finally
        {
            close(fds[0]);
            if (fds[1] >= 0)
                close(fds[1]);
        }
    }

    /// getfacl's entries of a path, numeric ids, no header.
    static string Getfacl(string path)
    {
        var p = System.Diagnostics.Process.Start(new ProcessStartInfo("getfacl", "-cn " + path)
                                                 { RedirectStandardOutput = true, UseShellExecute = false });
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new Exception("getfacl " + path + ": exit " + p.ExitCode);
        return output;
    }

    /// The mount point of cgroup v2 and our cgroup's path in it ("/x"), or
    /// null and why not.
    static string[] Cgroup2Own(out string why)
    {
        string mount = null;
        foreach (string line in File.ReadAllLines("/proc/self/mountinfo"))
        {
            string[] halves = line.Split(new[] { " - " }, StringSplitOptions.None);
            if (halves.Length == 2 && halves[1].Split(' ')[0] == "cgroup2")
            {
                mount = halves[0].Split(' ')[4];
                break;
            }
        }
        why = "no cgroup v2 file system mounted";
        if (mount == null)
            return null;
        foreach (string line in File.ReadAllLines("/proc/self/cgroup"))
            if (line.StartsWith("0::"))
                return new[] { mount, line.Substring(3) };
        why = "this process is in no cgroup v2";
        return null;
    }

    /// Everything until EOF from a descriptor, as text.
    static string ReadAll(int fd)
    {
        var all = new List<byte>();
        var buf = new byte[4096];
        long n;
        while ((n = (long)read(fd, buf, (IntPtr)buf.Length)) > 0)
            for (long i = 0; i < n; i++)
                all.Add(buf[i]);
        return System.Text.Encoding.UTF8.GetString(all.ToArray());
    }

    /// Wait for a real condition (no fixed sleep); gives up after 60 s.
    static void WaitFor(Func<bool> condition)
    {
        for (int i = 0; i < 60000; i++)
        {
            if (condition())
                return;
            Thread.Sleep(1);
        }
        throw new Exception("condition never became true");
    }

    static bool BlockedIn(int tid, string wchan)
    {
        try { return File.ReadAllText("/proc/self/task/" + tid + "/wchan") == wchan; }
        catch (IOException) { return false; }
    }

    static T ThrowsOf<T>(Action a) where T : Exception
    {
        try { a(); } catch (T e) { return e; }
        throw new Exception("no " + typeof(T).Name);
    }

    static void Check(string name, Action test)
    {
        try
        {
            test();
            passed++;
            Console.WriteLine("ok     " + name);
        }
        catch (Exception e)
        {
            failed++;
            Console.WriteLine("FAILED " + name + ": " + e.Message);
        }
    }

    static void Equal<T>(T expected, T actual, string what)
    {
        if (!EqualityComparer<T>.Default.Equals(expected, actual))
            throw new Exception(what + ": expected " + expected + ", got " + actual);
    }

    static AppPoolIdException Throws(Action a)
    {
        try { a(); } catch (AppPoolIdException e) { return e; }
        throw new Exception("no AppPoolIdException");
    }

    static string TempDir()
    {
        string d = Path.Combine(Path.GetTempPath(), "apid-cs-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(d);
        return d;
    }

    static int Main(string[] args)
    {
        foreach (string line in File.ReadAllLines(args[0]))
        {
            if (line.StartsWith("#") || line.Trim().Length == 0)
                continue;
            string[] f = line.Split('\t');
            Check("SID of " + f[0] + " " + f[1], () =>
                Equal(f[2], f[0] == "pool" ? Sids.ForPool(f[1]) : Sids.ForService(f[1]), "SID"));
        }

        Check("bad name throws with the library's message", () =>
        {
            var e = Throws(() => Sids.ForPool("a/b"));
            Equal("pool name 'a/b': character '/' is not allowed", e.Message, "message");
            Equal(-1, e.Status, "status");
        });

        string dir = TempDir();
        Check("pools and identities in a real registry", () =>
        {
            using (var ctx = new Context(Path.Combine(dir, "state")))
            using (var pool = ctx.CreatePool("DefaultAppPool"))
            using (var id = pool.GetIdentity())
            {
                Equal(Sids.ForPool("DefaultAppPool"), id.Sid, "sid");
                Equal("IIS APPPOOL\\DefaultAppPool", id.Account, "account");
                Equal("apppool-defaultapppool", id.User, "user");
                Equal(id.Uid, id.Gid, "gid");
                if (id.Uid < 0x70000000u || id.Uid >= 0x71000000u)
                    throw new Exception("uid out of range: " + id.Uid);
                Equal("1", pool["processModel.maxProcesses"], "default");
                pool["processModel.maxProcesses"] = "4";
                using (var again = ctx.OpenPool("defaultapppool"))
                    Equal("4", again["processModel.maxProcesses"], "persisted");
                Equal(-4, Throws(() => ctx.CreatePool("DEFAULTAPPPOOL")).Status, "EEXISTS");
                Equal(-3, Throws(() => ctx.OpenPool("missing")).Status, "ENOTFOUND");
            }
        });

        Check("a grant is a real POSIX ACL", () =>
        {
            string www = Path.Combine(dir, "www");
            Directory.CreateDirectory(www);
            File.WriteAllText(Path.Combine(www, "index.html"), "hi");
            using (var ctx = new Context(Path.Combine(dir, "state")))
            using (var pool = ctx.CreatePool("web"))
            using (var id = pool.GetIdentity())
            using (var edit = ctx.NewAclEdit())
            {
                edit.Add(AclEdit.Grant, "IIS AppPool\\web:(OI)(CI)RX");
                Equal(2UL, edit.Apply(www, AclEdit.Recursive), "changed");
                var p = System.Diagnostics.Process.Start(new ProcessStartInfo("getfacl", "-cn " + Path.Combine(www, "index.html"))
                                      { RedirectStandardOutput = true, UseShellExecute = false });
                string output = p.StandardOutput.ReadToEnd();
                p.WaitForExit();
                if (!output.Contains("group:" + id.Uid + ":r-x")) // the pool's group (gid == uid)
                    throw new Exception("getfacl shows no entry for " + id.Uid + ":\n" + output);
            }
        });

        Check("launch a worker and wait", () =>
        {
            if (geteuid() != 0)
            {
                Console.WriteLine("       (skipped: launching needs root)");
                return;
            }
            using (var ctx = new Context(Path.Combine(dir, "state")))
            using (var pool = ctx.CreatePool("runner"))
            using (var id = pool.GetIdentity())
            using (var token = id.NewToken())
            {
                using (var proc = token.Launch(new[] { "/bin/sh", "-c", "test $(id -u) = " + id.Uid }))
                    Equal(0, proc.Wait(), "exit code");
                using (var proc = token.Launch(new[] { "/bin/sh", "-c", "kill -TERM $$" }))
                    Equal(-15, proc.Wait(), "killed by SIGTERM");
                var e = Throws(() => token.Launch(new[] { "/nonexistent" }));
                Equal("execve(/nonexistent): No such file or directory", e.Message, "step message");
            }
        });

        Check("an embedded NUL is refused and deletes nothing", () =>
        {
            var e = ThrowsOf<ArgumentException>(() => Sids.ForPool("a\0b"));
            Equal("name", e.ParamName, "parameter");
            ThrowsOf<ArgumentException>(() => Sids.ForService("a\0b"));
            string state = Path.Combine(dir, "nul");
            using (var ctx = new Context(state))
            {
                using (var web = ctx.CreatePool("web"))
                    web["processModel.maxProcesses"] = "3";
                ThrowsOf<ArgumentException>(() => ctx.DeletePool("web\0x", true));
                ThrowsOf<ArgumentException>(() => ctx.OpenPool("web\0x"));
                ThrowsOf<ArgumentException>(() => ctx.CreatePool("other\0"));
                using (var web = ctx.OpenPool("web"))
                {
                    ThrowsOf<ArgumentException>(() => web["processModel.maxProcesses"] = "4\0");
                    ThrowsOf<ArgumentException>(() => { var v = web["processModel.maxProcesses\0"]; });
                }
                using (var edit = ctx.NewAclEdit())
                {
                    ThrowsOf<ArgumentException>(() => edit.Add(AclEdit.Grant, "IIS AppPool\\web\0:R"));
                    ThrowsOf<ArgumentException>(() => edit.Apply(dir + "\0/etc"));
                }
            }
            ThrowsOf<ArgumentException>(() => new Context(state + "\0/x"));
            using (var again = new Context(state))
            using (var web = again.OpenPool("web"))
                Equal("3", web["processModel.maxProcesses"], "web survives, unchanged");
        });

        Check("Dispose during Wait on another thread is deferred until Wait returns", () =>
        {
            if (geteuid() != 0)
            {
                Console.WriteLine("       (skipped: launching needs root)");
                return;
            }
            var fds = new int[2];
            Equal(0, pipe(fds), "pipe");
            using (var ctx = new Context(Path.Combine(dir, "state")))
            using (var pool = ctx.CreatePool("waiter"))
            using (var id = pool.GetIdentity())
            using (var token = id.NewToken())
            {
                var proc = token.Launch(new[] { "/bin/sh", "-c", "read x; exit 7" },
                                        new Dictionary<int, int> { { 0, fds[0] } });
                close(fds[0]);
                object result = null;
                int tid = 0;
                var t = new Thread(() =>
                {
                    tid = gettid();
                    try { result = proc.Wait(); }
                    catch (Exception e) { result = e; }
                });
                t.Start();
                WaitFor(() => tid != 0 && BlockedIn(tid, "do_wait"));   // inside waitid()
                proc.Dispose();
                proc.Dispose();   // a second Dispose must not drop the call's reference
                ThrowsOf<ObjectDisposedException>(() => proc.Signal(15));
                ThrowsOf<ObjectDisposedException>(() => { var pid = proc.Pid; });
                write(fds[1], new byte[] { (byte)'\n' }, (IntPtr)1);
                close(fds[1]);
                t.Join();
                Equal("7", result.ToString(), "Wait's result (not killed, not freed under it)");
                ThrowsOf<ObjectDisposedException>(() => proc.Wait());
            }
        });

        Check("threads reading an identity and a pool while they are disposed", () =>
        {
            using (var ctx = new Context(Path.Combine(dir, "state")))
            {
                var pool = ctx.CreatePool("racer");
                var id = pool.GetIdentity();
                string sid = Sids.ForPool("racer");
                var errors = new List<Exception>();
                var start = new Barrier(4);
                Action<Action> hammer = f =>
                {
                    start.SignalAndWait();
                    try
                    {
                        for (int i = 0; i < 2000; i++)
                            f();
                    }
                    catch (ObjectDisposedException) { }
                    catch (Exception e) { lock (errors) errors.Add(e); }
                };
                var threads = new[]
                {
                    new Thread(() => hammer(() => Equal(sid, id.Sid, "sid"))),
                    new Thread(() => hammer(() => Equal("apppool-racer", id.User, "user"))),
                    new Thread(() => hammer(() => Equal("racer", pool.Name, "name"))),
                };
                foreach (var t in threads)
                    t.Start();
                start.SignalAndWait();
                id.Dispose();
                pool.Dispose();
                foreach (var t in threads)
                    t.Join();
                if (errors.Count > 0)
                    throw errors[0];
            }
        });

        Check("a grant to a pool reaches its workers whatever the identity type", () =>
        {
            // IIS AppPool\X is the pool's own group, which every worker of X
            // carries (the pool SID, injected): A and B share NetworkService,
            // yet only A's worker reads A's file, also after A changes type.
            if (geteuid() != 0)
            {
                Console.WriteLine("       (skipped: launching needs root)");
                return;
            }
            string tree = Path.Combine(dir, "inject");
            Directory.CreateDirectory(tree);
            var kinds = new Dictionary<string, string>
                { { "A", "NetworkService" }, { "B", "NetworkService" }, { "C", "ApplicationPoolIdentity" } };
            using (var ctx = new Context(Path.Combine(dir, "state-inject")))
            {
                foreach (var k in kinds)
                {
                    using (var pool = ctx.CreatePool(k.Key))
                        pool["processModel.identityType"] = k.Value;
                    string f = Path.Combine(tree, k.Key);
                    File.WriteAllText(f, "content");
                    using (var sh = System.Diagnostics.Process.Start("/bin/sh", "-c 'chown 65534:65534 \"$0\" && chmod 600 \"$0\"' " + f))
                        sh.WaitForExit();
                    using (var edit = ctx.NewAclEdit())
                        edit.Add(AclEdit.Grant, "IIS AppPool\\" + k.Key + ":R").Apply(f);
                }
                Action onlyOwnersRead = () =>
                {
                    foreach (var p in kinds.Keys)
                        foreach (var f in kinds.Keys)
                            using (var pool = ctx.OpenPool(p))
                            using (var id = pool.GetIdentity())
                            using (var token = id.NewToken())
                            using (var proc = token.Launch(new[] { "/bin/sh", "-c", "cat \"$1\" >/dev/null 2>&1 || exit 13", "sh",
                                                                   Path.Combine(tree, f) }))
                                Equal(p == f ? 0 : 13, proc.Wait(), p + "'s worker reading " + f + "'s file");
                };
                onlyOwnersRead();
                foreach (var kind in new[] { "ApplicationPoolIdentity", "LocalService", "NetworkService" })
                {
                    using (var pool = ctx.OpenPool("A"))
                        pool["processModel.identityType"] = kind;
                    onlyOwnersRead();
                }
            }
        });

        Check("LDIF export, and its import on a host joining the farm", () =>
        {
            // Host A's identities as LDIF (what ldapadd loads); host B, from an
            // empty state directory, imports them: same users, uids, gids, SIDs.
            using (var a = new Context(Path.Combine(dir, "ldif-a")))
            using (var b = new Context(Path.Combine(dir, "ldif-b")))
            {
                var names = new[] { "web", "Ünïcode Pool" };
                foreach (var n in names)
                    a.CreatePool(n).Dispose();
                string ldif = a.ExportLdif("dc=farm,dc=test");
                using (var pool = a.OpenPool("web"))
                using (var id = pool.GetIdentity())
                {
                    string entry = ldif.Split(new[] { "dn: uid=" + id.User + ",ou=People,dc=farm,dc=test\n" }, StringSplitOptions.None)[1]
                        .Split(new[] { "\n\n" }, StringSplitOptions.None)[0];
                    foreach (var line in new[] { "uidNumber: " + id.Uid, "sambaSID: " + Sids.ForPool("web"), "gecos: IIS APPPOOL\\web" })
                        if (!(entry + "\n").Contains(line + "\n"))
                            throw new Exception("no '" + line + "' in web's entry:\n" + entry);
                    if (!a.ExportLdif("dc=x", "ou=Users", "ou=Groups").Contains("dn: cn=" + id.User + ",ou=Groups,dc=x\n"))
                        throw new Exception("the OUs given are not used");
                }
                if (!ldif.Contains("\ncn:: "))
                    throw new Exception("the non-ASCII name is not base64");
                string path = Path.Combine(dir, "farm.ldif");
                File.WriteAllText(path, ldif);
                b.ImportLdif(path);
                foreach (var n in names)
                    using (var pa = a.OpenPool(n))
                    using (var ia = pa.GetIdentity())
                    using (var pb = b.OpenPool(n))
                    using (var ib = pb.GetIdentity())
                        Equal(ia.User + " " + ia.Uid + " " + ia.Gid + " " + ia.Sid, ib.User + " " + ib.Uid + " " + ib.Gid + " " + ib.Sid, n);
                Equal(ldif, b.ExportLdif("dc=farm,dc=test"), "B's export");
            }
        });

        Check("LDIF refusals name the value and change nothing", () =>
        {
            using (var a = new Context(Path.Combine(dir, "ldif-r")))
            using (var c = new Context(Path.Combine(dir, "ldif-c")))
            {
                a.CreatePool("web").Dispose();
                a.CreatePool("other").Dispose();
                var e = Throws(() => a.ExportLdif("nodn"));
                if (e.Status != -1 || !e.Message.Contains("nodn"))
                    throw new Exception("bad base: " + e.Status + " " + e.Message);
                // web's entry carrying other's SID.
                string ldif = a.ExportLdif();
                int at = ldif.IndexOf(Sids.ForPool("web"));
                string path = Path.Combine(dir, "forged.ldif");
                File.WriteAllText(path, ldif.Substring(0, at) + Sids.ForPool("other") + ldif.Substring(at + Sids.ForPool("web").Length));
                e = Throws(() => c.ImportLdif(path));
                if (!System.Text.RegularExpressions.Regex.IsMatch(e.Message, System.Text.RegularExpressions.Regex.Escape(path) + @", line \d+"))
                    throw new Exception("the refusal does not name the file and line: " + e.Message);
                Equal(-3, Throws(() => c.OpenPool("other")).Status, "nothing imported");
            }
        });

        Check("PoolGid and PoolGroup whatever the identity type", () =>
        {
            using (var ctx = new Context(Path.Combine(dir, "state-group")))
            using (var pool = ctx.CreatePool("grouped"))
            {
                uint uid;
                string user;
                using (var own = pool.GetIdentity())
                {
                    Equal(own.Uid + " " + own.User, own.PoolGid + " " + own.PoolGroup, "own");
                    uid = own.Uid;
                    user = own.User;
                }
                pool["processModel.identityType"] = "NetworkService";
                using (var shared = pool.GetIdentity())
                {
                    if (shared.Uid == uid)
                        throw new Exception("NetworkService runs as the pool's own uid");
                    Equal(uid + " " + user, shared.PoolGid + " " + shared.PoolGroup, "NetworkService");
                }
            }
        });

        Check("launch with a terminal", () =>
        {
            if (geteuid() != 0)
            {
                Console.WriteLine("       (skipped: launching needs root)");
                return;
            }
            // The pty slave given as terminal is the worker's stdin and stderr
            // (stdout is our pipe) and its controlling terminal (/dev/tty opens).
            Equal(0, openpty(out int master, out int slave, IntPtr.Zero, IntPtr.Zero, IntPtr.Zero), "openpty");
            var fds = new int[2];
            Equal(0, pipe(fds), "pipe");
            string probe = "[ -t 0 ] && echo tty0; [ -t 2 ] && echo tty2; tty; (exec 3</dev/tty) 2>/dev/null && echo ctty";
            try
            {
                using (var ctx = new Context(Path.Combine(dir, "state-tty")))
                using (var pool = ctx.CreatePool("tty"))
                using (var id = pool.GetIdentity())
                using (var token = id.NewToken())
                {
                    using (var proc = token.Launch(
                            new LaunchOptions { Fds = new Dictionary<int, int> { { 1, fds[1] } }, Terminal = slave },
                            "/bin/sh", "-c", probe))
                    {
                        close(fds[1]);
                        fds[1] = -1;
                        Equal(0, proc.Wait(), "exit");
                        Equal("tty0\ntty2\n" + Marshal.PtrToStringAnsi(ttyname(slave)) + "\nctty\n", ReadAll(fds[0]), "output");
                    }
                    var e = Throws(() => token.Launch(new LaunchOptions { Terminal = fds[0] }, "true"));
                    Equal(-1, e.Status, "a pipe as the terminal");
                }
            }
            finally
            {
                foreach (int fd in new[] { master, slave, fds[0], fds[1] })
                    if (fd >= 0)
                        close(fd);
            }
        });

        Check("the launch timeout reaches the library", () =>
        {
            if (geteuid() != 0)
            {
                Console.WriteLine("       (skipped: launching needs root)");
                return;
            }
            using (var ctx = new Context(Path.Combine(dir, "state-timeout")))
            using (var pool = ctx.CreatePool("timed"))
            using (var id = pool.GetIdentity())
            using (var token = id.NewToken())
            {
                using (var proc = token.Launch(new LaunchOptions { Timeout = TimeSpan.FromSeconds(2.5) }, "true"))
                    Equal(0, proc.Wait(), "exit");
                // The options overload must not make Launch(argv, null) ambiguous.
                using (var proc = token.Launch(new[] { "true" }, null))
                    Equal(0, proc.Wait(), "exit, null descriptors");
                ThrowsOf<ArgumentOutOfRangeException>(() => token.Launch(new LaunchOptions { Timeout = TimeSpan.Zero }, "true"));
                // The library's own bound (1 h), its message naming the value.
                var e = Throws(() => token.Launch(new LaunchOptions { Timeout = TimeSpan.FromSeconds(3601) }, "true"));
                if (e.Status != -1 || !e.Message.Contains("3601000"))
                    throw new Exception("3601 s: " + e.Status + " " + e.Message);
            }
        });

        Check("MaxDepth stops a recursive grant, and the exception names the depth", () =>
        {
            // top/d1/d2/d3/d4, a file at each level: depth 2 enters d1 and d2,
            // edits d3 itself without entering it; d3/f, d4, d4/f unchanged.
            var dirs = new List<string> { Path.Combine(dir, "top") };
            for (int i = 1; i <= 4; i++)
                dirs.Add(Path.Combine(dirs[i - 1], "d" + i));
            Directory.CreateDirectory(dirs[4]);
            var before = new Dictionary<string, string>();
            foreach (string d in dirs)
            {
                File.WriteAllText(Path.Combine(d, "f"), "x");
                before[d] = Getfacl(d);
                before[Path.Combine(d, "f")] = Getfacl(Path.Combine(d, "f"));
            }
            using (var ctx = new Context(Path.Combine(dir, "state-depth")))
            using (var pool = ctx.CreatePool("deep"))
            using (var id = pool.GetIdentity())
            using (var edit = ctx.NewAclEdit(maxDepth: 2))
            {
                string entry = "group:" + id.Uid + ":r-x";
                edit.Add(AclEdit.Grant, "IIS AppPool\\deep:(OI)(CI)RX");
                var e = Throws(() => edit.Apply(dirs[0], AclEdit.Recursive | AclEdit.Continue));
                Equal(-9, e.Status, "status (APID_ERANGE)");
                if (!e.Message.Contains("d1/d2/d3") || !e.Message.Contains("limit of 2 directory levels"))
                    throw new Exception("message: " + e.Message);
                Equal(1UL, edit.Failed, "failed");
                foreach (string p in new[] { dirs[0], dirs[1], dirs[2], dirs[3], Path.Combine(dirs[0], "f"),
                                             Path.Combine(dirs[1], "f"), Path.Combine(dirs[2], "f") })
                    if (!Getfacl(p).Contains(entry))
                        throw new Exception("no " + entry + " on " + p);
                foreach (string p in new[] { Path.Combine(dirs[3], "f"), dirs[4], Path.Combine(dirs[4], "f") })
                    Equal(before[p], Getfacl(p), "getfacl " + p);
                // Apply(maxDepth:) changes the setting: 4 reaches the rest.
                Equal(3UL, edit.Apply(dirs[0], AclEdit.Recursive, maxDepth: 4), "changed at depth 4");
                Equal(0UL, edit.Failed, "failed at depth 4");
            }
        });

        Check("a bad MaxDepth throws naming it and changes nothing", () =>
        {
            string t = Path.Combine(dir, "shallow");
            Directory.CreateDirectory(Path.Combine(t, "a", "b"));
            string acl = Getfacl(Path.Combine(t, "a", "b"));
            using (var ctx = new Context(Path.Combine(dir, "state-depth")))
            using (var pool = ctx.CreatePool("shallow"))
            using (var edit = ctx.NewAclEdit())
            {
                edit.Add(AclEdit.Grant, "IIS AppPool\\shallow:R");
                // 0 and 4097: the library's refusals; -1: the binding's, in its words.
                string zero = Throws(() => edit.SetMaxDepth(0)).Message;
                Equal("ACL walk depth 0: not between 1 and 4096", zero, "message");
                foreach (int bad in new[] { 0, AclEdit.MaxDepthLimit + 1, -1 })
                {
                    string expected = zero.Replace("depth 0:", "depth " + bad + ":");
                    var e = Throws(() => edit.SetMaxDepth(bad));
                    Equal(-1, e.Status, "status");
                    Equal(expected, e.Message, "message");
                    Equal(expected, Throws(() => ctx.NewAclEdit(maxDepth: bad)).Message, "NewAclEdit");
                    Equal(expected, Throws(() => edit.Apply(t, AclEdit.Recursive, maxDepth: bad)).Message, "Apply");
                }
                Equal(acl, Getfacl(Path.Combine(t, "a", "b")), "getfacl, nothing applied");
                // The default (256) is still in force; 1 stops at a/b.
                if (!Throws(() => edit.SetMaxDepth(1).Apply(t, AclEdit.Recursive)).Message.Contains("limit of 1 directory levels"))
                    throw new Exception("depth 1 did not stop the walk");
            }
        });

        Check("AclEdit.MaxDepthLimit is the library's (apid_acl_max_depth), taken and one more refused", () =>
        {
            Equal(4096, AclEdit.MaxDepthLimit, "MaxDepthLimit");
            using (var ctx = new Context(Path.Combine(dir, "state-limit")))
            using (var pool = ctx.CreatePool("limit"))
            using (var edit = ctx.NewAclEdit())
            {
                edit.SetMaxDepth(AclEdit.MaxDepthLimit);
                Equal("ACL walk depth " + (AclEdit.MaxDepthLimit + 1) + ": not between 1 and " + AclEdit.MaxDepthLimit,
                      Throws(() => edit.SetMaxDepth(AclEdit.MaxDepthLimit + 1)).Message, "library's refusal");
            }
        });

        Check("SaveAcls with a maxDepth: a deeper directory fails the save and the file stays", () =>
        {
            string t = Path.Combine(dir, "savedepth");
            string bottom = Path.Combine(t, "d1", "d2", "d3");
            Directory.CreateDirectory(bottom);
            File.WriteAllText(Path.Combine(bottom, "bottom"), "x");
            string saved = Path.Combine(dir, "savedepth.acl");
            File.WriteAllText(saved, "old\n");
            using (var ctx = new Context(Path.Combine(dir, "state-savedepth")))
            {
                var e = Throws(() => ctx.SaveAcls(t, saved, true, 2));
                Equal(-9, e.Status, "status");
                if (!e.Message.Contains("savedepth/d1/d2/d3: depth: nested deeper than the limit of 2 directory levels"))
                    throw new Exception("message: " + e.Message);
                Equal("old\n", File.ReadAllText(saved), "file kept");
                ctx.SaveAcls(t, saved, true, 3);
                if (!File.ReadAllText(saved).Contains("/d3/bottom\n"))
                    throw new Exception("depth 3 did not save the bottom file");
                foreach (int bad in new[] { 0, AclEdit.MaxDepthLimit + 1, -1 })
                {
                    var b = Throws(() => ctx.SaveAcls(t, Path.Combine(dir, "bad.acl"), true, bad));
                    Equal(-1, b.Status, "status");
                    Equal("ACL walk depth " + bad + ": not between 1 and 4096", b.Message, "message");
                }
                if (File.Exists(Path.Combine(dir, "bad.acl")))
                    throw new Exception("a refused save wrote its file");
            }
        });

        Check("launch into a real cgroup", () =>
        {
            if (geteuid() != 0)
            {
                Console.WriteLine("       (skipped: launching needs root)");
                return;
            }
            string why;
            string[] own = Cgroup2Own(out why);
            if (own == null)
            {
                Console.WriteLine("       (skipped: " + why + ")");
                return;
            }
            string rel = own[1].TrimEnd('/') + "/apid-cs-" + System.Diagnostics.Process.GetCurrentProcess().Id;
            string path = own[0] + rel;
            if (mkdir(path, Convert.ToUInt32("755", 8)) != 0)
            {
                Console.WriteLine("       (skipped: cgroup v2 is not writable here: mkdir " + path + ": errno " +
                                  Marshal.GetLastWin32Error() + ")");
                return;
            }
            try
            {
                using (var ctx = new Context(Path.Combine(dir, "state-cgroup")))
                using (var pool = ctx.CreatePool("grouped"))
                using (var id = pool.GetIdentity())
                using (var token = id.NewToken())
                {
                    // By path, then by a descriptor the caller holds (CgroupFds).
                    IntPtr held = opendir(path);
                    if (held == IntPtr.Zero)
                        throw new Exception("opendir " + path + ": errno " + Marshal.GetLastWin32Error());
                    try
                    {
                        for (int how = 0; how < 2; how++)
                        {
                            var fds = new int[2];
                            Equal(0, pipe(fds), "pipe");
                            // The worker waits on our pipe: it is running while we look.
                            var options = new LaunchOptions { Fds = new Dictionary<int, int> { { 0, fds[0] } } };
                            if (how == 0)
                                options.Cgroups.Add(path);
                            else
                                options.CgroupFds.Add(dirfd(held));
                            try
                            {
                                using (var proc = token.Launch(options, "/bin/sh", "-c", "cat >/dev/null"))
                                {
                                    string cg = File.ReadAllText("/proc/" + proc.Pid + "/cgroup");
                                    if (!cg.Contains("0::" + rel + "\n"))
                                        throw new Exception("/proc/" + proc.Pid + "/cgroup: " + cg + " (how " + how + ")");
                                    if (Array.IndexOf(File.ReadAllText(Path.Combine(path, "cgroup.procs")).Split('\n'), proc.Pid.ToString()) < 0)
                                        throw new Exception("not in " + path + "/cgroup.procs (how " + how + ")");
                                    close(fds[1]);
                                    fds[1] = -1;
                                    Equal(0, proc.Wait(), "exit");
                                }
                            }
                            finally
                            {
                                close(fds[0]);
                                if (fds[1] >= 0)
                                    close(fds[1]); // the worker's cat reads EOF and ends
                            }
                        }
                        Equal(true, fcntl(dirfd(held), 1 /* F_GETFD */) >= 0, "a descriptor given stays open");
                    }
                    finally
                    {
                        closedir(held);
                    }
                }
            }
            finally
            {
                // Removed once the kernel says the cgroup holds no process.
                WaitFor(() => File.ReadAllText(Path.Combine(path, "cgroup.events")).Contains("populated 0"));
                if (rmdir(path) != 0)
                    throw new Exception("rmdir " + path + ": errno " + Marshal.GetLastWin32Error());
            }
        });

        Check("a cgroup that is not one throws naming it", () =>
        {
            string plain = Path.Combine(dir, "plain");
            Directory.CreateDirectory(plain);
            using (var ctx = new Context(Path.Combine(dir, "state-cgroup-bad")))
            using (var pool = ctx.CreatePool("not-grouped"))
            using (var id = pool.GetIdentity())
            using (var token = id.NewToken())
            {
                var e = Throws(() => token.Launch(new LaunchOptions { Cgroups = { plain } }, "true"));
                Equal(-1, e.Status, "status");
                if (!e.Message.StartsWith(plain + ": cgroup ") || !e.Message.EndsWith(": not a directory of a cgroup file system"))
                    throw new Exception("message: " + e.Message);
                var nf = ThrowsOf<DirectoryNotFoundException>(() =>
                    token.Launch(new LaunchOptions { Cgroups = { Path.Combine(dir, "missing") } }, "true"));
                if (!nf.Message.Contains(Path.Combine(dir, "missing")))
                    throw new Exception("message: " + nf.Message);
                ThrowsOf<IOException>(() => token.Launch(new LaunchOptions { Cgroups = { "/proc/self/cgroup" } }, "true"));
                // By descriptor: the library's message names it; it stays open.
                IntPtr held = opendir(plain);
                try
                {
                    int fd = dirfd(held);
                    var d = Throws(() => token.Launch(new LaunchOptions { CgroupFds = { fd } }, "true"));
                    Equal(-1, d.Status, "status");
                    Equal("cgroup " + fd + ": not a directory of a cgroup file system", d.Message, "message");
                    Equal(true, fcntl(fd, 1 /* F_GETFD */) >= 0, "still open");
                }
                finally
                {
                    closedir(held);
                }
                var neg = Throws(() => token.Launch(new LaunchOptions { CgroupFds = { -1 } }, "true"));
                if (!neg.Message.StartsWith("cgroup -1: give an open descriptor"))
                    throw new Exception("message: " + neg.Message);
            }
        });

        Check("pool names, accounts, versions, checks", () =>
        {
            PoolNames.Check("DefaultAppPool");
            Equal("pool name 'a/b': character '/' is not allowed", Throws(() => PoolNames.Check("a/b")).Message, "message");
            Equal(true, PoolNames.Equal("DefaultAppPool", "DEFAULTAPPPOOL"), "equal");
            Equal(false, PoolNames.Equal("web", "web2"), "not equal");
            Equal(PoolNames.Canonical("Web"), PoolNames.Canonical("WEB"), "canonical");
            Equal("IIS APPPOOL\\web", Accounts.ForPool("web"), "pool account");
            Equal("NT SERVICE\\TrustedInstaller", Accounts.ForService("TrustedInstaller"), "service account");
            string[] v = Context.Version.Split('.');
            Equal(uint.Parse(v[0]) * 10000 + uint.Parse(v[1]) * 100 + uint.Parse(v[2]), Context.VersionNumber, "number");
            Equal(true, Context.VersionAtLeast(uint.Parse(v[0])), "at least");
            Equal(false, Context.VersionAtLeast(uint.Parse(v[0]) + 1), "not yet");
            Equal(true, Path.IsPathRooted(Context.DefaultStateDir), "default state dir");
            Pool.CheckSetting("processModel.maxProcesses", "4");
            if (!Throws(() => Pool.CheckSetting("processModel.maxProcesses", "-2")).Message.Contains("-2"))
                throw new Exception("setting check does not name the value");
            AclEdit.CheckSpec("IIS AppPool\\web:(OI)(CI)RX");
            if (!Throws(() => AclEdit.CheckSpec("IIS AppPool\\web:(OI")).Message.Contains("at character"))
                throw new Exception("spec check does not point at the character");
            using (var ctx = new Context(Path.Combine(dir, "state-names")))
            {
                Equal(Path.Combine(dir, "state-names"), ctx.StateDir, "state dir");
                Equal(Sids.ForPool("nope"), ctx.AccountToSid("IIS APPPOOL\\nope"), "account to SID");
                Equal("NT AUTHORITY\\SYSTEM", ctx.SidToAccount("S-1-5-18"), "SID to account");
                Equal(-3, Throws(() => ctx.SidToAccount(Sids.ForPool("web"))).Status, "a pool SID has no name");
            }
        });

        Check("SIDs as values", () =>
        {
            string text = Sids.ForPool("DefaultAppPool");
            var sid = Sid.Parse(text);
            Equal(text, sid.ToString(), "text");
            Equal(5UL, sid.Authority, "authority");
            string[] parts = text.Split('-');
            var expected = new uint[parts.Length - 3];
            for (int i = 3; i < parts.Length; i++)
                expected[i - 3] = uint.Parse(parts[i]);
            Equal(string.Join(",", expected), string.Join(",", sid.SubAuthorities), "sub-authorities");
            // The binary form by hand: revision, count, 48-bit big-endian authority, subs little-endian.
            var raw = new List<byte> { 1, (byte)expected.Length, 0, 0, 0, 0, 0, 5 };
            foreach (uint x in expected)
                raw.AddRange(BitConverter.GetBytes(x));
            Equal(Convert.ToBase64String(raw.ToArray()), Convert.ToBase64String(sid.ToBytes()), "bytes");
            Equal(true, Sid.FromBytes(raw.ToArray()) == sid, "from bytes");
            Equal(true, Sid.FromParts(5, expected).Equals(sid), "from parts");
            Equal(sid.GetHashCode(), Sid.Parse(text.ToLowerInvariant()).GetHashCode(), "hash");
            Equal(true, sid.IsPool && !sid.IsService, "is pool");
            var svc = Sid.Parse(Sids.ForService("TrustedInstaller"));
            Equal(true, svc.IsService && !svc.IsPool, "is service");
            Equal(-1, svc.CompareTo(sid), "80 orders before 82");
            raw.RemoveAt(raw.Count - 1);
            Equal(-1, Throws(() => Sid.FromBytes(raw.ToArray())).Status, "short bytes");
            Equal(-1, Throws(() => Sid.FromParts(5, new uint[16])).Status, "16 sub-authorities");
            Equal(-1, Throws(() => Sid.Parse("S-1-x")).Status, "bad text");
        });

        Check("registry, pool list and settings, identity lookups", () =>
        {
            using (var ctx = new Context(Path.Combine(dir, "state-registry")))
            {
                Equal("1879048192", ctx.RegistryGet("idRangeStart"), "idRangeStart");
                string profiles = Path.Combine(dir, "profiles");
                ctx.RegistrySet("profileRoot", profiles);
                Equal(profiles, ctx.RegistryGet("profileRoot"), "profileRoot");
                if (!Throws(() => ctx.RegistryGet("noSuchSetting")).Message.Contains("noSuchSetting"))
                    throw new Exception("unknown setting not named");
                ctx.RegistrySet("networkPrincipal", "CONTOSO\\WEB01$");
                Equal("CONTOSO\\WEB01$", ctx.NetworkPrincipal, "network principal");
                using (var web = ctx.CreatePool("web"))
                {
                    web["processModel.identityType"] = "NetworkService";
                    web["processModel.loadUserProfile"] = "false";
                    Equal("NetworkService", web.IdentityType, "pool identity type");
                    Equal(false, web.LoadsProfile, "loads profile");
                    Equal("false", web.Settings["processModel.loadUserProfile"], "settings");
                }
                using (var own = ctx.CreatePool("own"))
                using (var id = own.GetIdentity())
                {
                    Equal("own", id.PoolName, "pool name");
                    Equal("ApplicationPoolIdentity", id.IdentityType, "identity type");
                    Equal(0u, id.UidProbe, "uid probe");
                    Equal(false, id.SharedGid.HasValue, "no shared group");
                    Equal(null, id.Profile, "no profile yet");
                    using (var byUid = ctx.GetIdentity(id.Uid))
                    using (var bySid = ctx.GetIdentity(id.Sid))
                    using (var byUser = ctx.GetIdentity(id.User))
                        Equal("own own own", byUid.PoolName + " " + bySid.PoolName + " " + byUser.PoolName, "lookups");
                }
                Equal("own,web", string.Join(",", ctx.ListPools()), "pools");
                string dump = Path.Combine(dir, "registry.tsv");
                ctx.ExportRegistry(dump);
                using (var other = new Context(Path.Combine(dir, "state-registry-2")))
                {
                    other.ImportRegistry(dump);
                    Equal("own,web", string.Join(",", other.ListPools()), "imported pools");
                    using (var web = other.OpenPool("web"))
                        Equal("NetworkService", web.IdentityType, "imported identity type");
                }
            }
        });

        Check("ACL journal, save and restore, reset, report, progress, log", () =>
        {
            string tree = Path.Combine(dir, "acltree");
            Directory.CreateDirectory(Path.Combine(tree, "sub", "deeper"));
            for (int i = 0; i < 2100; i++)
                File.WriteAllText(Path.Combine(tree, "f" + i), "");
            string f = Path.Combine(tree, "f0");
            string before = Getfacl(f), beforeSub = Getfacl(Path.Combine(tree, "sub"));
            using (var ctx = new Context(Path.Combine(dir, "state-acl")))
            {
                var logs = new List<string>();
                ctx.SetLog((level, message) => logs.Add(level + " " + message), LogLevel.Info);
                using (var pool = ctx.CreatePool("web"))
                using (var id = pool.GetIdentity())
                {
                    if (!logs.Exists(l => l.StartsWith("Info ") && l.Contains("web")))
                        throw new Exception("no Info log naming the pool: " + string.Join(" | ", logs));
                    string saved = Path.Combine(dir, "saved.acl");
                    ctx.SaveAcls(tree, saved, recursive: true);
                    string journal = Path.Combine(dir, "journal");
                    var events = new List<string>();
                    var progress = new List<ulong>();
                    using (var edit = ctx.NewAclEdit())
                    {
                        edit.Add(AclEdit.Grant, "IIS AppPool\\web:(OI)(CI)RX").SetJournal(journal);
                        var e = Throws(() => edit.Apply(tree, AclEdit.Recursive | AclEdit.Continue, maxDepth: 1,
                                                        report: (ev, rel, detail) => events.Add(ev + " " + rel + " " + detail),
                                                        progress: (visited, changed) => progress.Add(visited)));
                        if (!e.Message.Contains("limit of 1 directory levels"))
                            throw new Exception("message: " + e.Message);
                        if (!events.Contains("Failed sub/deeper sub/deeper: depth: nested deeper than the limit of 1 directory levels; not entered"))
                            throw new Exception("report: " + string.Join(" | ", events.FindAll(x => !x.StartsWith("Changed f"))));
                        Equal(2100 + 3, events.FindAll(x => x.StartsWith("Changed ")).Count, "changed reported");
                        if (progress.Count < 2 || progress[progress.Count - 1] < 2000)
                            throw new Exception("progress: " + string.Join(",", progress));
                    }
                    using (var edit = ctx.NewAclEdit())
                    {
                        // A callback's exception comes out of Apply(), after the walk.
                        edit.Add(AclEdit.Grant, "IIS AppPool\\web:F");
                        var boom = ThrowsOf<InvalidOperationException>(() =>
                            edit.Apply(tree, AclEdit.Recursive, report: (ev, rel, detail) => { throw new InvalidOperationException("from the report"); }));
                        Equal("from the report", boom.Message, "the callback's exception");
                        if (!Getfacl(Path.Combine(tree, "f2099")).Contains("group:" + id.Uid + ":rwx"))
                            throw new Exception("the walk stopped at the exception");
                    }
                    if (new FileInfo(journal).Length == 0)
                        throw new Exception("empty journal");
                    if (!Getfacl(f).Contains("group:" + id.Uid + ":rwx"))
                        throw new Exception("not granted");
                    ctx.RestoreAcls(saved, "/");
                    Equal(before, Getfacl(f), "restored file");
                    Equal(beforeSub, Getfacl(Path.Combine(tree, "sub")), "restored directory");
                    using (var edit = ctx.NewAclEdit())
                        edit.Add(AclEdit.Grant, "IIS AppPool\\web:R").Apply(f);
                    using (var edit = ctx.NewAclEdit())
                        edit.Reset().Apply(f);
                    if (Getfacl(f).Contains("group:" + id.Uid + ":"))
                        throw new Exception("reset left the grant");
                }
                ctx.SetLog(null);
                logs.Clear();
                using (ctx.CreatePool("quiet")) { }
                Equal(0, logs.Count, "no log after SetLog(null)");
            }
        });

        Check("token settings, working directory, parent-death signal, pidfd reach the worker", () =>
        {
            if (geteuid() != 0)
            {
                Console.WriteLine("       (skipped: launching needs root)");
                return;
            }
            using (var ctx = new Context(Path.Combine(dir, "state-token")))
            using (var pool = ctx.CreatePool("tuned"))
            using (var id = pool.GetIdentity())
            using (var token = id.NewToken())
            {
                token.SetUmask(Convert.ToUInt32("077", 8)).SetRlimit(7, 64).SetSharedGroup(false)
                     .SetEnvironmentVariable("GREETING", "hello");
                Equal("0077\n64\nhello\n/\n", Run(token, new LaunchOptions { WorkingDirectory = "/" },
                                                  "umask; ulimit -n; echo $GREETING; pwd"), "worker");
                Equal("/tmp\n", Run(token, new LaunchOptions { WorkingDirectory = "/tmp" }, "pwd"), "cwd");
                if (!token.Describe().Contains("umask: 0077"))
                    throw new Exception("describe: " + token.Describe());
                if (!Throws(() => token.SetUmask(Convert.ToUInt32("1000", 8))).Message.Contains("umask 1000"))
                    throw new Exception("umask 01000 not named");
                string probe = "/usr/bin/python3 -c 'import socket; socket.socket()' 2>/dev/null && echo allowed || echo denied";
                Equal("allowed\n", Run(token, new LaunchOptions(), probe), "socket allowed");
                token.DenySyscall("socket");
                Equal("denied\n", Run(token, new LaunchOptions(), probe), "socket denied");
                if (!Throws(() => token.DenySyscall("nosuchcall")).Message.Contains("nosuchcall"))
                    throw new Exception("unknown syscall not named");
                token.SetSeccomp(false);
                if (!token.Describe().Contains("seccomp: off"))
                    throw new Exception("seccomp still on");
                // The parent-death signal: the launching thread exits, the worker gets SIGTERM.
                AppPoolId.Process orphan = null;
                var t = new Thread(() => orphan = token.Launch(new LaunchOptions { ParentDeathSignal = 15 }, "sleep", "60"));
                t.Start();
                t.Join();
                using (orphan)
                {
                    if (orphan.Fd < 0)
                        throw new Exception("no pidfd");
                    Equal(-15, orphan.Wait(), "killed when its launcher exited");
                }
            }
        });

        Directory.Delete(dir, true);
        Console.WriteLine(passed + " passed, " + failed + " failed");
        return failed == 0 ? 0 : 1;
    }
}
