// SPDX-License-Identifier: LGPL-2.1-or-later
// Tests of the C# bindings against the real libapppoolid, run with mono.
// Prints one line per test and closes with "N passed, N failed".
// Usage: mono Tests.exe VECTORS_TSV
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using AppPoolId;

static class Tests
{
    static int passed, failed;

    [System.Runtime.InteropServices.DllImport("libc")]
    static extern uint geteuid();

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
                if (!output.Contains("user:" + id.Uid + ":r-x"))
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

        Directory.Delete(dir, true);
        Console.WriteLine(passed + " passed, " + failed + " failed");
        return failed == 0 ? 0 : 1;
    }
}
