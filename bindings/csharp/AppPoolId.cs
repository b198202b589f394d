// SPDX-License-Identifier: LGPL-2.1-or-later
// AppPoolId: C# bindings over libapppoolid through P/Invoke. All logic is in
// the C library. Every handle is a SafeHandle whose ReleaseHandle calls the
// C destructor; strings cross as UTF-8; failures throw AppPoolIdException
// with the status and the library's message.
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Text;

namespace AppPoolId
{
    /// <summary>A libapppoolid failure: the status (a negative APID_E* value),
    /// the errno the system reported (or 0), and the library's message.</summary>
    public class AppPoolIdException : Exception
    {
        public int Status { get; }
        public int Errno { get; }

        public AppPoolIdException(int status, string message, int errno) : base(message)
        {
            Status = status;
            Errno = errno;
        }
    }

    internal static class Native
    {
        const string Lib = "libapppoolid.so.1";

        [DllImport(Lib)] internal static extern IntPtr apid_version();
        [DllImport(Lib)] internal static extern IntPtr apid_error_message();
        [DllImport(Lib)] internal static extern int apid_error_errno();
        [DllImport(Lib)] internal static extern void apid_free(IntPtr p);
        [DllImport(Lib)] internal static extern int apid_ctx_new(out IntPtr ctx);
        [DllImport(Lib)] internal static extern void apid_ctx_unref(IntPtr ctx);
        [DllImport(Lib)] internal static extern int apid_ctx_set_state_dir(ContextHandle ctx, byte[] path);
        [DllImport(Lib)] internal static extern int apid_sid_for_pool(byte[] name, out IntPtr sid);
        [DllImport(Lib)] internal static extern int apid_sid_for_service(byte[] name, out IntPtr sid);
        [DllImport(Lib)] internal static extern int apid_sid_to_string(IntPtr sid, out IntPtr text);
        [DllImport(Lib)] internal static extern void apid_sid_free(IntPtr sid);
        [DllImport(Lib)] internal static extern int apid_pool_create(ContextHandle ctx, byte[] name, out IntPtr pool);
        [DllImport(Lib)] internal static extern int apid_pool_open(ContextHandle ctx, byte[] name, out IntPtr pool);
        [DllImport(Lib)] internal static extern int apid_pool_delete(ContextHandle ctx, byte[] name, int flags);
        [DllImport(Lib)] internal static extern void apid_pool_free(IntPtr pool);
        [DllImport(Lib)] internal static extern IntPtr apid_pool_get_name(PoolHandle pool);
        [DllImport(Lib)] internal static extern int apid_pool_get(PoolHandle pool, byte[] setting, out IntPtr value);
        [DllImport(Lib)] internal static extern int apid_pool_set(PoolHandle pool, byte[] setting, byte[] value);
        [DllImport(Lib)] internal static extern int apid_pool_get_identity(PoolHandle pool, out IntPtr identity);
        [DllImport(Lib)] internal static extern void apid_identity_free(IntPtr identity);
        [DllImport(Lib)] internal static extern IntPtr apid_identity_get_sid(IdentityHandle identity);
        [DllImport(Lib)] internal static extern IntPtr apid_identity_get_account(IdentityHandle identity);
        [DllImport(Lib)] internal static extern IntPtr apid_identity_get_user(IdentityHandle identity);
        [DllImport(Lib)] internal static extern uint apid_identity_get_uid(IdentityHandle identity);
        [DllImport(Lib)] internal static extern uint apid_identity_get_gid(IdentityHandle identity);
        [DllImport(Lib)] internal static extern int apid_acl_edit_new(ContextHandle ctx, out IntPtr edit);
        [DllImport(Lib)] internal static extern void apid_acl_edit_free(IntPtr edit);
        [DllImport(Lib)] internal static extern int apid_acl_edit_add(AclEditHandle edit, int op, byte[] spec);
        [DllImport(Lib)] internal static extern int apid_acl_edit_set_flags(AclEditHandle edit, uint flags);
        [DllImport(Lib)] internal static extern int apid_acl_edit_apply(AclEditHandle edit, byte[] path);
        [DllImport(Lib)] internal static extern ulong apid_acl_edit_count(AclEditHandle edit, int ev);
        [DllImport(Lib)] internal static extern int apid_token_new(IdentityHandle identity, out IntPtr token);
        [DllImport(Lib)] internal static extern void apid_token_free(IntPtr token);
        [DllImport(Lib)] internal static extern int apid_token_keep_cap(TokenHandle token, byte[] name);
        [DllImport(Lib)] internal static extern int apid_launch_attr_new(out IntPtr attr);
        [DllImport(Lib)] internal static extern void apid_launch_attr_free(IntPtr attr);
        [DllImport(Lib)] internal static extern int apid_launch_attr_pass_fd(IntPtr attr, int parentFd, int childFd);
        [DllImport(Lib)] internal static extern int apid_launch(TokenHandle token, IntPtr attr, byte[] path, IntPtr[] argv, out IntPtr process);
        [DllImport(Lib)] internal static extern void apid_process_free(IntPtr process);
        [DllImport(Lib)] internal static extern int apid_process_get_pid(ProcessHandle process);
        [DllImport(Lib)] internal static extern int apid_process_wait(ProcessHandle process, int timeoutMs);
        [DllImport(Lib)] internal static extern int apid_process_exit_code(ProcessHandle process);
        [DllImport(Lib)] internal static extern int apid_process_term_signal(ProcessHandle process);

        internal static byte[] Utf8(string s)
        {
            if (s == null)
                return null;
            byte[] b = Encoding.UTF8.GetBytes(s);
            Array.Resize(ref b, b.Length + 1); // NUL-terminated
            return b;
        }

        internal static string FromUtf8(IntPtr p)
        {
            if (p == IntPtr.Zero)
                return null;
            int n = 0;
            while (Marshal.ReadByte(p, n) != 0)
                n++;
            byte[] b = new byte[n];
            Marshal.Copy(p, b, 0, n);
            return Encoding.UTF8.GetString(b);
        }

        /// A string the library allocated for the caller: copied, then apid_free()d.
        internal static string Take(IntPtr p)
        {
            try { return FromUtf8(p); } finally { apid_free(p); }
        }

        internal static int Check(int status)
        {
            if (status < 0)
                throw new AppPoolIdException(status, FromUtf8(apid_error_message()), apid_error_errno());
            return status;
        }
    }

    /// Every handle: owned, released once by its C destructor.
    internal abstract class ApidHandle : SafeHandle
    {
        protected ApidHandle(IntPtr h) : base(IntPtr.Zero, true) { SetHandle(h); }
        public override bool IsInvalid => handle == IntPtr.Zero;
    }

    internal sealed class ContextHandle : ApidHandle
    {
        internal ContextHandle(IntPtr h) : base(h) { }
        protected override bool ReleaseHandle() { Native.apid_ctx_unref(handle); return true; }
    }

    internal sealed class PoolHandle : ApidHandle
    {
        internal PoolHandle(IntPtr h) : base(h) { }
        protected override bool ReleaseHandle() { Native.apid_pool_free(handle); return true; }
    }

    internal sealed class IdentityHandle : ApidHandle
    {
        internal IdentityHandle(IntPtr h) : base(h) { }
        protected override bool ReleaseHandle() { Native.apid_identity_free(handle); return true; }
    }

    internal sealed class AclEditHandle : ApidHandle
    {
        internal AclEditHandle(IntPtr h) : base(h) { }
        protected override bool ReleaseHandle() { Native.apid_acl_edit_free(handle); return true; }
    }

    internal sealed class TokenHandle : ApidHandle
    {
        internal TokenHandle(IntPtr h) : base(h) { }
        protected override bool ReleaseHandle() { Native.apid_token_free(handle); return true; }
    }

    internal sealed class ProcessHandle : ApidHandle
    {
        internal ProcessHandle(IntPtr h) : base(h) { }
        protected override bool ReleaseHandle() { Native.apid_process_free(handle); return true; }
    }

    /// <summary>The SIDs Windows derives from names.</summary>
    public static class Sids
    {
        static string Derive(int status, IntPtr sid)
        {
            Native.Check(status);
            try
            {
                Native.Check(Native.apid_sid_to_string(sid, out IntPtr text));
                return Native.Take(text);
            }
            finally { Native.apid_sid_free(sid); }
        }

        /// <summary>The SID of "IIS APPPOOL\name" (S-1-5-82-...).</summary>
        public static string ForPool(string name)
        {
            int r = Native.apid_sid_for_pool(Native.Utf8(name), out IntPtr sid);
            return Derive(r, sid);
        }

        /// <summary>The service SID of "NT SERVICE\name" (S-1-5-80-...), as sc showsid prints it.</summary>
        public static string ForService(string name)
        {
            int r = Native.apid_sid_for_service(Native.Utf8(name), out IntPtr sid);
            return Derive(r, sid);
        }
    }

    /// <summary>The library context: the state directory, where the pool registry lives.</summary>
    public sealed class Context : IDisposable
    {
        internal readonly ContextHandle Handle;

        public Context(string stateDir = null)
        {
            Native.Check(Native.apid_ctx_new(out IntPtr h));
            Handle = new ContextHandle(h);
            if (stateDir != null)
                Native.Check(Native.apid_ctx_set_state_dir(Handle, Native.Utf8(stateDir)));
        }

        public static string Version => Native.FromUtf8(Native.apid_version());

        public Pool CreatePool(string name)
        {
            Native.Check(Native.apid_pool_create(Handle, Native.Utf8(name), out IntPtr p));
            return new Pool(new PoolHandle(p));
        }

        public Pool OpenPool(string name)
        {
            Native.Check(Native.apid_pool_open(Handle, Native.Utf8(name), out IntPtr p));
            return new Pool(new PoolHandle(p));
        }

        public void DeletePool(string name, bool removeProfile)
        {
            Native.Check(Native.apid_pool_delete(Handle, Native.Utf8(name), removeProfile ? 2 : 1));
        }

        public AclEdit NewAclEdit()
        {
            Native.Check(Native.apid_acl_edit_new(Handle, out IntPtr e));
            return new AclEdit(new AclEditHandle(e));
        }

        public void Dispose() => Handle.Dispose();
    }

    /// <summary>An application pool; settings have appcmd's names.</summary>
    public sealed class Pool : IDisposable
    {
        readonly PoolHandle handle;

        internal Pool(PoolHandle h) { handle = h; }

        public string Name => Native.FromUtf8(Native.apid_pool_get_name(handle));

        public string this[string setting]
        {
            get
            {
                Native.Check(Native.apid_pool_get(handle, Native.Utf8(setting), out IntPtr v));
                return Native.Take(v);
            }
            set => Native.Check(Native.apid_pool_set(handle, Native.Utf8(setting), Native.Utf8(value)));
        }

        public Identity GetIdentity()
        {
            Native.Check(Native.apid_pool_get_identity(handle, out IntPtr i));
            return new Identity(new IdentityHandle(i));
        }

        public void Dispose() => handle.Dispose();
    }

    /// <summary>A pool identity: Windows SID and account, POSIX user, uid, gid.</summary>
    public sealed class Identity : IDisposable
    {
        internal readonly IdentityHandle Handle;

        internal Identity(IdentityHandle h) { Handle = h; }

        public string Sid
        {
            get
            {
                Native.Check(Native.apid_sid_to_string(Native.apid_identity_get_sid(Handle), out IntPtr t));
                return Native.Take(t);
            }
        }

        public string Account => Native.FromUtf8(Native.apid_identity_get_account(Handle));
        public string User => Native.FromUtf8(Native.apid_identity_get_user(Handle));
        public uint Uid => Native.apid_identity_get_uid(Handle);
        public uint Gid => Native.apid_identity_get_gid(Handle);

        public Token NewToken()
        {
            Native.Check(Native.apid_token_new(Handle, out IntPtr t));
            return new Token(new TokenHandle(t));
        }

        public void Dispose() => Handle.Dispose();
    }

    /// <summary>icacls for Linux: collect grants, then apply them as POSIX ACLs.</summary>
    public sealed class AclEdit : IDisposable
    {
        public const int Grant = 1, GrantReplace = 2, Deny = 3, Remove = 4;
        public const uint Recursive = 1, Strict = 2, Continue = 4, DryRun = 8;
        readonly AclEditHandle handle;

        internal AclEdit(AclEditHandle h) { handle = h; }

        public AclEdit Add(int op, string spec)
        {
            Native.Check(Native.apid_acl_edit_add(handle, op, Native.Utf8(spec)));
            return this;
        }

        /// <summary>Apply to a path; returns how many paths changed.</summary>
        public ulong Apply(string path, uint flags = 0)
        {
            Native.Check(Native.apid_acl_edit_set_flags(handle, flags));
            Native.Check(Native.apid_acl_edit_apply(handle, Native.Utf8(path)));
            return Native.apid_acl_edit_count(handle, 1);
        }

        public ulong Unchanged => Native.apid_acl_edit_count(handle, 2);

        public void Dispose() => handle.Dispose();
    }

    /// <summary>A restricted token (no capabilities, no_new_privs, seccomp, clean environment).</summary>
    public sealed class Token : IDisposable
    {
        internal readonly TokenHandle Handle;

        internal Token(TokenHandle h) { Handle = h; }

        public Token KeepCapability(string name)
        {
            Native.Check(Native.apid_token_keep_cap(Handle, Native.Utf8(name)));
            return this;
        }

        /// <summary>Launch a program under this token; fds maps the worker's
        /// descriptor numbers to the caller's (null: stdio inherited).</summary>
        public Process Launch(string[] argv, IDictionary<int, int> fds = null)
        {
            if (argv == null || argv.Length == 0)
                throw new ArgumentException("argv must not be empty");
            Native.Check(Native.apid_launch_attr_new(out IntPtr attr));
            var pinned = new List<IntPtr>();
            try
            {
                if (fds != null)
                    foreach (var kv in fds)
                        Native.Check(Native.apid_launch_attr_pass_fd(attr, kv.Value, kv.Key));
                var args = new IntPtr[argv.Length + 1];
                for (int i = 0; i < argv.Length; i++)
                {
                    byte[] b = Native.Utf8(argv[i]);
                    args[i] = Marshal.AllocHGlobal(b.Length);
                    Marshal.Copy(b, 0, args[i], b.Length);
                    pinned.Add(args[i]);
                }
                Native.Check(Native.apid_launch(Handle, attr, Native.Utf8(argv[0]), args, out IntPtr p));
                return new Process(new ProcessHandle(p));
            }
            finally
            {
                foreach (IntPtr p in pinned)
                    Marshal.FreeHGlobal(p);
                Native.apid_launch_attr_free(attr);
            }
        }

        public void Dispose() => Handle.Dispose();
    }

    /// <summary>A launched worker.</summary>
    public sealed class Process : IDisposable
    {
        readonly ProcessHandle handle;

        internal Process(ProcessHandle h) { handle = h; }

        public int Pid => Native.apid_process_get_pid(handle);

        /// <summary>Wait for it to exit; the exit code, or -N when signal N killed it.</summary>
        public int Wait()
        {
            Native.Check(Native.apid_process_wait(handle, -1));
            int code = Native.apid_process_exit_code(handle);
            return code >= 0 ? code : -Native.apid_process_term_signal(handle);
        }

        public void Dispose() => handle.Dispose();
    }
}
