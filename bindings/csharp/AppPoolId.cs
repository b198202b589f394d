// SPDX-License-Identifier: LGPL-2.1-or-later
// AppPoolId: C# bindings over libapppoolid through P/Invoke. All logic is in
// the C library. Every handle is a SafeHandle whose ReleaseHandle calls the
// C destructor; strings cross as UTF-8; failures throw AppPoolIdException
// with the status and the library's message.
//
// Threads: the marshaller adds a reference to a SafeHandle argument for the
// length of the call, so Dispose() from another thread meanwhile only marks
// the handle closed and the C destructor runs when the call returns. Where
// one operation makes several calls, or reads memory the handle owns after
// the call (a string inside an identity), Native.With holds the reference
// across all of it (DangerousAddRef/DangerousRelease).
//
// Strings with an embedded NUL are refused (ArgumentException): C would see
// only the part before it ("web\0x" would name the pool "web").
using System;
using System.Collections.Generic;
using System.IO;
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
        [DllImport(Lib)] internal static extern IntPtr apid_pool_get_name(IntPtr pool);
        [DllImport(Lib)] internal static extern int apid_pool_get(PoolHandle pool, byte[] setting, out IntPtr value);
        [DllImport(Lib)] internal static extern int apid_pool_set(PoolHandle pool, byte[] setting, byte[] value);
        [DllImport(Lib)] internal static extern int apid_pool_get_identity(PoolHandle pool, out IntPtr identity);
        [DllImport(Lib)] internal static extern void apid_identity_free(IntPtr identity);
        [DllImport(Lib)] internal static extern IntPtr apid_identity_get_sid(IntPtr identity);
        [DllImport(Lib)] internal static extern IntPtr apid_identity_get_account(IntPtr identity);
        [DllImport(Lib)] internal static extern IntPtr apid_identity_get_user(IntPtr identity);
        [DllImport(Lib)] internal static extern uint apid_identity_get_uid(IdentityHandle identity);
        [DllImport(Lib)] internal static extern uint apid_identity_get_gid(IdentityHandle identity);
        [DllImport(Lib)] internal static extern uint apid_identity_get_pool_gid(IdentityHandle identity);
        [DllImport(Lib)] internal static extern IntPtr apid_identity_get_pool_group(IntPtr identity);
        [DllImport(Lib)] internal static extern int apid_registry_export_ldif(ContextHandle ctx, byte[] baseDn, byte[] userOu,
                                                                             byte[] groupOu, out IntPtr ldif);
        [DllImport(Lib)] internal static extern int apid_registry_import_ldif(ContextHandle ctx, byte[] path);
        [DllImport(Lib)] internal static extern int apid_acl_edit_new(ContextHandle ctx, out IntPtr edit);
        [DllImport(Lib)] internal static extern void apid_acl_edit_free(IntPtr edit);
        [DllImport(Lib)] internal static extern int apid_acl_edit_add(AclEditHandle edit, int op, byte[] spec);
        [DllImport(Lib)] internal static extern int apid_acl_edit_set_flags(IntPtr edit, uint flags);
        [DllImport(Lib)] internal static extern int apid_acl_edit_set_max_depth(IntPtr edit, uint depth);
        [DllImport(Lib)] internal static extern uint apid_acl_max_depth();
        [DllImport(Lib)] internal static extern int apid_acl_edit_apply(IntPtr edit, byte[] path);
        [DllImport(Lib)] internal static extern ulong apid_acl_edit_count(IntPtr edit, int ev);
        [DllImport(Lib)] internal static extern ulong apid_acl_edit_count(AclEditHandle edit, int ev);
        [DllImport(Lib)] internal static extern int apid_token_new(IdentityHandle identity, out IntPtr token);
        [DllImport(Lib)] internal static extern void apid_token_free(IntPtr token);
        [DllImport(Lib)] internal static extern int apid_token_keep_cap(TokenHandle token, byte[] name);
        [DllImport(Lib)] internal static extern int apid_launch_attr_new(out IntPtr attr);
        [DllImport(Lib)] internal static extern void apid_launch_attr_free(IntPtr attr);
        [DllImport(Lib)] internal static extern int apid_launch_attr_pass_fd(IntPtr attr, int parentFd, int childFd);
        [DllImport(Lib)] internal static extern int apid_launch_attr_set_terminal(IntPtr attr, int ttyFd);
        [DllImport(Lib)] internal static extern int apid_launch_attr_set_timeout(IntPtr attr, uint timeoutMs);
        [DllImport(Lib)] internal static extern int apid_launch_attr_add_cgroup(IntPtr attr, int dirFd);
        [DllImport(Lib)] internal static extern int apid_launch(TokenHandle token, IntPtr attr, byte[] path, IntPtr[] argv, out IntPtr process);
        [DllImport(Lib)] internal static extern void apid_process_free(IntPtr process);
        [DllImport(Lib)] internal static extern int apid_process_get_pid(IntPtr process);
        [DllImport(Lib)] internal static extern int apid_process_signal(IntPtr process, int signal);
        [DllImport(Lib)] internal static extern int apid_process_wait(IntPtr process, int timeoutMs);
        [DllImport(Lib)] internal static extern int apid_process_exit_code(IntPtr process);
        [DllImport(Lib)] internal static extern int apid_process_term_signal(IntPtr process);

        [DllImport(Lib)] internal static extern uint apid_version_number();
        [DllImport(Lib)] internal static extern int apid_version_at_least(uint major, uint minor, uint patch);
        [DllImport(Lib)] internal static extern IntPtr apid_ctx_get_state_dir(ContextHandle ctx);
        [DllImport(Lib)] internal static extern IntPtr apid_ctx_default_state_dir();
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void LogFn(int level, IntPtr message, IntPtr userdata);
        [DllImport(Lib)] internal static extern int apid_ctx_set_log_fn(IntPtr ctx, LogFn fn, IntPtr userdata);
        [DllImport(Lib)] internal static extern int apid_ctx_set_log_level(ContextHandle ctx, int level);
        [DllImport(Lib)] internal static extern int apid_pool_name_check(byte[] name);
        [DllImport(Lib)] internal static extern int apid_pool_name_equal(byte[] a, byte[] b);
        [DllImport(Lib)] internal static extern int apid_pool_name_canonical(byte[] name, out IntPtr text);
        [DllImport(Lib)] internal static extern int apid_account_for_pool(byte[] name, out IntPtr text);
        [DllImport(Lib)] internal static extern int apid_account_for_service(byte[] name, out IntPtr text);
        [DllImport(Lib)] internal static extern int apid_account_to_sid(ContextHandle ctx, byte[] account, out IntPtr sid);
        [DllImport(Lib)] internal static extern int apid_sid_to_account(ContextHandle ctx, IntPtr sid, out IntPtr text);
        [DllImport(Lib)] internal static extern int apid_sid_parse(byte[] text, out IntPtr sid);
        [DllImport(Lib)] internal static extern int apid_sid_from_bytes(byte[] data, UIntPtr size, out IntPtr sid);
        [DllImport(Lib)] internal static extern int apid_sid_from_parts(ulong authority, uint[] subs, uint count, out IntPtr sid);
        [DllImport(Lib)] internal static extern uint apid_sid_byte_size(IntPtr sid);
        [DllImport(Lib)] internal static extern int apid_sid_to_bytes(IntPtr sid, byte[] buf, UIntPtr size, out UIntPtr written);
        [DllImport(Lib)] internal static extern ulong apid_sid_authority(IntPtr sid);
        [DllImport(Lib)] internal static extern uint apid_sid_subauthority_count(IntPtr sid);
        [DllImport(Lib)] internal static extern int apid_sid_get_subauthority(IntPtr sid, uint index, out uint value);
        [DllImport(Lib)] internal static extern int apid_sid_compare(IntPtr a, IntPtr b);
        [DllImport(Lib)] internal static extern int apid_sid_equal(IntPtr a, IntPtr b);
        [DllImport(Lib)] internal static extern int apid_sid_is_pool(IntPtr sid);
        [DllImport(Lib)] internal static extern int apid_sid_is_service(IntPtr sid);
        [DllImport(Lib)] internal static extern int apid_registry_get(ContextHandle ctx, byte[] setting, out IntPtr value);
        [DllImport(Lib)] internal static extern int apid_registry_set(ContextHandle ctx, byte[] setting, byte[] value);
        [DllImport(Lib)] internal static extern int apid_registry_export(ContextHandle ctx, byte[] path);
        [DllImport(Lib)] internal static extern int apid_registry_import(ContextHandle ctx, byte[] path);
        [DllImport(Lib)] internal static extern int apid_registry_network_principal(ContextHandle ctx, out IntPtr name);
        [DllImport(Lib)] internal static extern int apid_pool_list_new(ContextHandle ctx, out IntPtr list);
        [DllImport(Lib)] internal static extern uint apid_pool_list_count(IntPtr list);
        [DllImport(Lib)] internal static extern IntPtr apid_pool_list_get(IntPtr list, uint index);
        [DllImport(Lib)] internal static extern void apid_pool_list_free(IntPtr list);
        [DllImport(Lib)] internal static extern IntPtr apid_pool_setting_name(uint index);
        [DllImport(Lib)] internal static extern int apid_pool_check_setting(byte[] setting, byte[] value);
        [DllImport(Lib)] internal static extern int apid_pool_get_identity_type(PoolHandle pool);
        [DllImport(Lib)] internal static extern int apid_pool_loads_profile(PoolHandle pool);
        [DllImport(Lib)] internal static extern int apid_identity_from_sid(ContextHandle ctx, IntPtr sid, out IntPtr identity);
        [DllImport(Lib)] internal static extern int apid_identity_from_uid(ContextHandle ctx, uint uid, out IntPtr identity);
        [DllImport(Lib)] internal static extern int apid_identity_from_user(ContextHandle ctx, byte[] user, out IntPtr identity);
        [DllImport(Lib)] internal static extern IntPtr apid_identity_get_pool_name(IntPtr identity);
        [DllImport(Lib)] internal static extern IntPtr apid_identity_get_profile_dir(IntPtr identity);
        [DllImport(Lib)] internal static extern int apid_identity_get_type(IdentityHandle identity);
        [DllImport(Lib)] internal static extern uint apid_identity_get_uid_probe(IdentityHandle identity);
        [DllImport(Lib)] internal static extern uint apid_identity_get_shared_gid(IdentityHandle identity);
        [DllImport(Lib)] internal static extern int apid_acl_spec_check(byte[] spec);
        [DllImport(Lib)] internal static extern int apid_acl_edit_reset(AclEditHandle edit);
        [DllImport(Lib)] internal static extern int apid_acl_edit_set_journal(AclEditHandle edit, byte[] path);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void ReportFn(int ev, IntPtr path, IntPtr detail, IntPtr userdata);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void ProgressFn(ulong visited, ulong changed, IntPtr userdata);
        [DllImport(Lib)] internal static extern int apid_acl_edit_set_report_fn(IntPtr edit, ReportFn fn, IntPtr userdata);
        [DllImport(Lib)] internal static extern int apid_acl_edit_set_progress_fn(IntPtr edit, ProgressFn fn, IntPtr userdata);
        [DllImport(Lib)] internal static extern int apid_acl_save(ContextHandle ctx, byte[] path, byte[] file, uint flags);
        [DllImport(Lib)] internal static extern int apid_acl_save_depth(ContextHandle ctx, byte[] path, byte[] file, uint flags, uint maxDepth);
        [DllImport(Lib)] internal static extern int apid_acl_restore(ContextHandle ctx, byte[] file, byte[] baseDir, uint flags);
        [DllImport(Lib)] internal static extern int apid_token_setenv(TokenHandle token, byte[] name, byte[] value);
        [DllImport(Lib)] internal static extern int apid_token_describe(TokenHandle token, out IntPtr text);
        [DllImport(Lib)] internal static extern int apid_token_set_seccomp(TokenHandle token, int enable);
        [DllImport(Lib)] internal static extern int apid_token_deny_syscall(TokenHandle token, byte[] name);
        [DllImport(Lib)] internal static extern int apid_token_set_rlimit(TokenHandle token, int resource, ulong soft, ulong hard);
        [DllImport(Lib)] internal static extern int apid_token_set_umask(TokenHandle token, uint mask);
        [DllImport(Lib)] internal static extern int apid_token_set_groups(TokenHandle token, int includeShared);
        [DllImport(Lib)] internal static extern int apid_launch_attr_set_cwd(IntPtr attr, byte[] path);
        [DllImport(Lib)] internal static extern int apid_launch_attr_set_parent_death_signal(IntPtr attr, int signal);
        [DllImport(Lib)] internal static extern int apid_process_get_fd(IntPtr process);

        // A cgroup directory is opened with opendir() (O_RDONLY | O_DIRECTORY |
        // O_CLOEXEC, whatever those flags' values on this architecture) and
        // its descriptor taken with dirfd(); closedir() after the launch.
        [DllImport("libc", SetLastError = true)] internal static extern IntPtr opendir(byte[] path);
        [DllImport("libc")] internal static extern int dirfd(IntPtr dir);
        [DllImport("libc")] internal static extern int closedir(IntPtr dir);
        [DllImport("libc")] internal static extern IntPtr strerror(int errnum);

        /// UTF-8, NUL-terminated; a string with a NUL inside is refused.
        internal static byte[] Utf8(string s, string paramName)
        {
            if (s == null)
                return null;
            if (s.IndexOf('\0') >= 0)
                throw new ArgumentException(paramName + ": embedded null character", paramName);
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

        /// Run f on the raw handle while holding a reference on it: a
        /// Dispose() meanwhile is deferred until f returns, as for a single
        /// P/Invoke call taking the SafeHandle.
        internal static T With<T>(ApidHandle h, Func<IntPtr, T> f)
        {
            bool added = false;
            // Mono's marshaller still adds a reference to a handle disposed
            // while another call holds one; refuse it the same on every runtime.
            if (h.Disposed)
                throw new ObjectDisposedException(h.GetType().Name);
            try
            {
                h.DangerousAddRef(ref added);
                return f(h.DangerousGetHandle());
            }
            finally
            {
                if (added)
                    h.DangerousRelease();
            }
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
        int disposed;

        protected ApidHandle(IntPtr h) : base(IntPtr.Zero, true) { SetHandle(h); }
        public override bool IsInvalid => handle == IntPtr.Zero;
        internal bool Disposed => System.Threading.Volatile.Read(ref disposed) != 0;

        protected override void Dispose(bool disposing)
        {
            System.Threading.Interlocked.Exchange(ref disposed, 1);
            base.Dispose(disposing);
        }
    }

    internal sealed class ContextHandle : ApidHandle
    {
        /// The log callback the C context holds, kept alive with the handle.
        internal Native.LogFn Log;

        internal ContextHandle(IntPtr h) : base(h) { }

        protected override bool ReleaseHandle()
        {
            // Pools and identities may keep the C context alive after this
            // handle: it must not keep a callback that is about to be collected.
            if (Log != null)
                Native.apid_ctx_set_log_fn(handle, null, IntPtr.Zero);
            Native.apid_ctx_unref(handle);
            return true;
        }
    }

    internal sealed class SidHandle : ApidHandle
    {
        internal SidHandle(IntPtr h) : base(h) { }
        protected override bool ReleaseHandle() { Native.apid_sid_free(handle); return true; }
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
            int r = Native.apid_sid_for_pool(Native.Utf8(name, "name"), out IntPtr sid);
            return Derive(r, sid);
        }

        /// <summary>The service SID of "NT SERVICE\name" (S-1-5-80-...), as sc showsid prints it.</summary>
        public static string ForService(string name)
        {
            int r = Native.apid_sid_for_service(Native.Utf8(name, "name"), out IntPtr sid);
            return Derive(r, sid);
        }
    }

    /// <summary>Pool names as IIS compares and checks them.</summary>
    public static class PoolNames
    {
        /// <summary>Check a pool name as IIS does; throws AppPoolIdException with
        /// the library's message naming what is wrong.</summary>
        public static void Check(string name) => Native.Check(Native.apid_pool_name_check(Native.Utf8(name, "name")));

        /// <summary>Whether two names name the same pool (compared ignoring case, as IIS does).</summary>
        public static bool Equal(string a, string b) =>
            Native.Check(Native.apid_pool_name_equal(Native.Utf8(a, "a"), Native.Utf8(b, "b"))) == 1;

        /// <summary>The form two equal names share (what the SID is derived from).</summary>
        public static string Canonical(string name)
        {
            Native.Check(Native.apid_pool_name_canonical(Native.Utf8(name, "name"), out IntPtr text));
            return Native.Take(text);
        }
    }

    /// <summary>Windows account names of pools and services.</summary>
    public static class Accounts
    {
        /// <summary>"IIS APPPOOL\name".</summary>
        public static string ForPool(string name)
        {
            Native.Check(Native.apid_account_for_pool(Native.Utf8(name, "name"), out IntPtr text));
            return Native.Take(text);
        }

        /// <summary>"NT SERVICE\name".</summary>
        public static string ForService(string name)
        {
            Native.Check(Native.apid_account_for_service(Native.Utf8(name, "name"), out IntPtr text));
            return Native.Take(text);
        }
    }

    /// <summary>A SID as a value: Sid.Parse("S-1-5-82-..."), Sid.FromBytes() (the binary
    /// form of LDAP's objectSid and of security descriptors), Sid.FromParts(5, ...).
    /// Immutable; equal SIDs are Equal and hash alike; ordered as the library orders
    /// them. ToString() is its canonical text. Elsewhere SIDs cross as text.</summary>
    public sealed class Sid : IEquatable<Sid>, IComparable<Sid>
    {
        readonly string text;

        Sid(string canonical) { text = canonical; }

        static Sid Of(int status, IntPtr handle)
        {
            Native.Check(status);
            using (var h = new SidHandle(handle))
                return new Sid(Native.With(h, p =>
                {
                    Native.Check(Native.apid_sid_to_string(p, out IntPtr t));
                    return Native.Take(t);
                }));
        }

        /// <summary>Parse "S-1-..." (throws AppPoolIdException naming a malformed one).</summary>
        public static Sid Parse(string text)
        {
            int r = Native.apid_sid_parse(Native.Utf8(text ?? throw new ArgumentNullException("text"), "text"), out IntPtr h);
            return Of(r, h);
        }

        /// <summary>The SID in its binary form: exactly 8 + 4 * count bytes.</summary>
        public static Sid FromBytes(byte[] data)
        {
            if (data == null)
                throw new ArgumentNullException("data");
            int r = Native.apid_sid_from_bytes(data, (UIntPtr)data.Length, out IntPtr h);
            return Of(r, h);
        }

        /// <summary>S-1-authority-sub-...: at most 15 sub-authorities.</summary>
        public static Sid FromParts(ulong authority, params uint[] subAuthorities)
        {
            uint[] subs = subAuthorities ?? new uint[0];
            int r = Native.apid_sid_from_parts(authority, subs.Length == 0 ? new uint[1] : subs, (uint)subs.Length, out IntPtr h);
            return Of(r, h);
        }

        T With<T>(Func<IntPtr, T> f)
        {
            Native.Check(Native.apid_sid_parse(Native.Utf8(text, "text"), out IntPtr h));
            using (var sid = new SidHandle(h))
                return Native.With(sid, f);
        }

        public override string ToString() => text;

        /// <summary>The binary form (revision, count, authority, sub-authorities little-endian).</summary>
        public byte[] ToBytes() => With(h =>
        {
            var buf = new byte[Native.apid_sid_byte_size(h)];
            Native.Check(Native.apid_sid_to_bytes(h, buf, (UIntPtr)buf.Length, out UIntPtr written));
            Array.Resize(ref buf, (int)written);
            return buf;
        });

        /// <summary>The identifier authority (5 for NT AUTHORITY).</summary>
        public ulong Authority => With(h => Native.apid_sid_authority(h));

        /// <summary>The sub-authorities, in order.</summary>
        public uint[] SubAuthorities => With(h =>
        {
            var subs = new uint[Native.apid_sid_subauthority_count(h)];
            for (uint i = 0; i < subs.Length; i++)
                Native.Check(Native.apid_sid_get_subauthority(h, i, out subs[i]));
            return subs;
        });

        /// <summary>An application pool's SID (S-1-5-82-...).</summary>
        public bool IsPool => With(h => Native.apid_sid_is_pool(h) == 1);
        /// <summary>A service SID (S-1-5-80-...).</summary>
        public bool IsService => With(h => Native.apid_sid_is_service(h) == 1);

        int Cmp(Sid other, Func<IntPtr, IntPtr, int> f) => With(a => other.With(b => f(a, b)));

        public bool Equals(Sid other) => !ReferenceEquals(other, null) && Cmp(other, Native.apid_sid_equal) == 1;
        public override bool Equals(object obj) => Equals(obj as Sid);
        public override int GetHashCode() => text.GetHashCode(); // canonical: equal SIDs, equal text
        public int CompareTo(Sid other) => ReferenceEquals(other, null) ? 1 : Math.Sign(Cmp(other, Native.apid_sid_compare));
        public static bool operator ==(Sid a, Sid b) => ReferenceEquals(a, null) ? ReferenceEquals(b, null) : a.Equals(b);
        public static bool operator !=(Sid a, Sid b) => !(a == b);
    }

    /// <summary>The levels of the library's log, as syslog's.</summary>
    public enum LogLevel { Error = 3, Warning = 4, Info = 6, Debug = 7 }

    /// <summary>What happened to one path in an ACL apply.</summary>
    public enum AclEvent { Changed = 1, Unchanged = 2, Skipped = 3, Failed = 4, Approximated = 5 }

    /// <summary>The library context: the state directory, where the pool registry lives.</summary>
    public sealed class Context : IDisposable
    {
        internal readonly ContextHandle Handle;

        public Context(string stateDir = null)
        {
            Native.Check(Native.apid_ctx_new(out IntPtr h));
            Handle = new ContextHandle(h);
            if (stateDir != null)
                Native.Check(Native.apid_ctx_set_state_dir(Handle, Native.Utf8(stateDir, "stateDir")));
        }

        public static string Version => Native.FromUtf8(Native.apid_version());
        /// <summary>The loaded library's version as MAJOR * 10000 + MINOR * 100 + PATCH.</summary>
        public static uint VersionNumber => Native.apid_version_number();
        /// <summary>Whether the loaded library is at least this version.</summary>
        public static bool VersionAtLeast(uint major, uint minor = 0, uint patch = 0) =>
            Native.apid_version_at_least(major, minor, patch) == 1;
        /// <summary>The state directory used when neither the API nor APPPOOLID_STATE_DIR sets one.</summary>
        public static string DefaultStateDir => Native.FromUtf8(Native.apid_ctx_default_state_dir());

        /// <summary>This context's state directory.</summary>
        public string StateDir => Native.With(Handle, h => Native.FromUtf8(Native.apid_ctx_get_state_dir(Handle)));

        /// <summary>Send the library's log messages for this context to fn(level,
        /// message) (null: none), those at level or more severe (null: keep the
        /// current level, Warning by default). fn runs on the thread of the call
        /// that logs and must not call back into the library with this context;
        /// an exception it throws is dropped. Configure a context before sharing
        /// it between threads. Pools and identities made from the context log
        /// through it until the context is disposed.</summary>
        public void SetLog(Action<LogLevel, string> fn, LogLevel? level = null)
        {
            Native.LogFn callback = null;
            if (fn != null)
                callback = (lvl, message, _) =>
                {
                    try { fn((LogLevel)lvl, Native.FromUtf8(message)); }
                    catch (Exception) { } // never across the C frames
                };
            if (level.HasValue)
                Native.Check(Native.apid_ctx_set_log_level(Handle, (int)level.Value));
            Native.With(Handle, h =>
            {
                Native.Check(Native.apid_ctx_set_log_fn(h, callback, IntPtr.Zero));
                Handle.Log = callback; // alive as long as the handle
                return 0;
            });
        }

        /// <summary>The names of all pools, sorted by their canonical form.</summary>
        public string[] ListPools()
        {
            Native.Check(Native.apid_pool_list_new(Handle, out IntPtr list));
            try
            {
                var names = new string[Native.apid_pool_list_count(list)];
                for (uint i = 0; i < names.Length; i++)
                    names[i] = Native.FromUtf8(Native.apid_pool_list_get(list, i));
                return names;
            }
            finally { Native.apid_pool_list_free(list); }
        }

        /// <summary>The pool identity with this uid.</summary>
        public Identity GetIdentity(uint uid)
        {
            Native.Check(Native.apid_identity_from_uid(Handle, uid, out IntPtr i));
            return new Identity(new IdentityHandle(i));
        }

        /// <summary>The pool identity with this SID ("S-1-5-82-..."), POSIX user or account name.</summary>
        public Identity GetIdentity(string who)
        {
            if (who == null)
                throw new ArgumentNullException("who");
            IntPtr i;
            if (who.StartsWith("S-", StringComparison.OrdinalIgnoreCase))
            {
                Native.Check(Native.apid_sid_parse(Native.Utf8(who, "who"), out IntPtr sid));
                using (var s = new SidHandle(sid))
                    i = Native.With(s, p =>
                    {
                        Native.Check(Native.apid_identity_from_sid(Handle, p, out IntPtr id));
                        return id;
                    });
            }
            else
                Native.Check(Native.apid_identity_from_user(Handle, Native.Utf8(who, "who"), out i));
            return new Identity(new IdentityHandle(i));
        }

        /// <summary>The SID of an account name ("IIS APPPOOL\web", "NT AUTHORITY\SYSTEM"...).</summary>
        public string AccountToSid(string account)
        {
            Native.Check(Native.apid_account_to_sid(Handle, Native.Utf8(account ?? throw new ArgumentNullException("account"), "account"), out IntPtr sid));
            using (var s = new SidHandle(sid))
                return Native.With(s, p =>
                {
                    Native.Check(Native.apid_sid_to_string(p, out IntPtr t));
                    return Native.Take(t);
                });
        }

        /// <summary>The account name of a SID ("NT AUTHORITY\SYSTEM" for S-1-5-18).
        /// Pool and service SIDs are one-way hashes of their names: Status -3 (not
        /// found) for them; Identity.Account has a pool's.</summary>
        public string SidToAccount(string sid)
        {
            Native.Check(Native.apid_sid_parse(Native.Utf8(sid ?? throw new ArgumentNullException("sid"), "sid"), out IntPtr h));
            using (var s = new SidHandle(h))
                return Native.With(s, p =>
                {
                    Native.Check(Native.apid_sid_to_account(Handle, p, out IntPtr t));
                    return Native.Take(t);
                });
        }

        /// <summary>A registry setting's value as text (docs/pools.md has the table).</summary>
        public string RegistryGet(string setting)
        {
            Native.Check(Native.apid_registry_get(Handle, Native.Utf8(setting ?? throw new ArgumentNullException("setting"), "setting"), out IntPtr v));
            return Native.Take(v);
        }

        /// <summary>Set a registry setting; refused, naming it, when it cannot change now.</summary>
        public void RegistrySet(string setting, string value) =>
            Native.Check(Native.apid_registry_set(Handle, Native.Utf8(setting ?? throw new ArgumentNullException("setting"), "setting"),
                                                  Native.Utf8(value ?? throw new ArgumentNullException("value"), "value")));

        /// <summary>Write the registry to a file for ImportRegistry() on another host.</summary>
        public void ExportRegistry(string path) =>
            Native.Check(Native.apid_registry_export(Handle, Native.Utf8(path ?? throw new ArgumentNullException("path"), "path")));

        /// <summary>Import a file from ExportRegistry(): all or nothing.</summary>
        public void ImportRegistry(string path) =>
            Native.Check(Native.apid_registry_import(Handle, Native.Utf8(path ?? throw new ArgumentNullException("path"), "path")));

        /// <summary>The host's identity on the network, which every pool uses there (IIS's
        /// machine account): the networkPrincipal setting; else REALM\HOST$ from
        /// /etc/krb5.conf's default realm; else the host name.</summary>
        public string NetworkPrincipal
        {
            get
            {
                Native.Check(Native.apid_registry_network_principal(Handle, out IntPtr name));
                return Native.Take(name);
            }
        }

        /// <summary>Save the ACLs of a path (and the tree below it) to a file in the
        /// text getfacl -R prints and setfacl --restore reads (icacls /save).</summary>
        public void SaveAcls(string path, string file, bool recursive = false) =>
            Native.Check(Native.apid_acl_save(Handle, Native.Utf8(path ?? throw new ArgumentNullException("path"), "path"),
                                              Native.Utf8(file ?? throw new ArgumentNullException("file"), "file"),
                                              recursive ? AclEdit.Recursive : 0));

        /// <summary>SaveAcls() with a limit on how many directory levels below the path a
        /// recursive save enters (1 to AclEdit.MaxDepthLimit; SaveAcls() enters 256). A
        /// deeper directory fails the save (AppPoolIdException, Status -9) naming it, and
        /// the file is left as it was. A depth out of range throws (Status -1) naming it,
        /// before anything is written.</summary>
        public void SaveAcls(string path, string file, bool recursive, int maxDepth)
        {
            uint d = AclEdit.Depth(maxDepth);
            Native.Check(Native.apid_acl_save_depth(Handle, Native.Utf8(path ?? throw new ArgumentNullException("path"), "path"),
                                                    Native.Utf8(file ?? throw new ArgumentNullException("file"), "file"),
                                                    recursive ? AclEdit.Recursive : 0, d));
        }

        /// <summary>Restore ACLs saved by SaveAcls() (or getfacl -R) below baseDir
        /// (icacls /restore); flags: AclEdit.Continue, AclEdit.DryRun.</summary>
        public void RestoreAcls(string file, string baseDir, uint flags = 0) =>
            Native.Check(Native.apid_acl_restore(Handle, Native.Utf8(file ?? throw new ArgumentNullException("file"), "file"),
                                                 Native.Utf8(baseDir ?? throw new ArgumentNullException("baseDir"), "baseDir"), flags));

        public Pool CreatePool(string name)
        {
            Native.Check(Native.apid_pool_create(Handle, Native.Utf8(name, "name"), out IntPtr p));
            return new Pool(new PoolHandle(p));
        }

        public Pool OpenPool(string name)
        {
            Native.Check(Native.apid_pool_open(Handle, Native.Utf8(name, "name"), out IntPtr p));
            return new Pool(new PoolHandle(p));
        }

        public void DeletePool(string name, bool removeProfile)
        {
            Native.Check(Native.apid_pool_delete(Handle, Native.Utf8(name, "name"), removeProfile ? 2 : 1));
        }

        /// <summary>The registry's identities as LDIF for a web farm's directory
        /// (apppoolctl registry export --ldif; docs/farm.md): a posixAccount with
        /// its sambaSID and a posixGroup per pool and built-in account, and the
        /// shared group. Null: dc=example,dc=org, ou=People, ou=Group.</summary>
        public string ExportLdif(string baseDn = null, string userOu = null, string groupOu = null)
        {
            Native.Check(Native.apid_registry_export_ldif(Handle, Native.Utf8(baseDn, "baseDn"), Native.Utf8(userOu, "userOu"),
                                                          Native.Utf8(groupOu, "groupOu"), out IntPtr ldif));
            return Native.Take(ldif);
        }

        /// <summary>Import the identities of an LDIF file (ExportLdif() or ldapsearch
        /// -LLL output) so that this host uses the farm's ids. All or nothing; a
        /// refusal names the file and the entry's line.</summary>
        public void ImportLdif(string path)
        {
            Native.Check(Native.apid_registry_import_ldif(Handle, Native.Utf8(path ?? throw new ArgumentNullException("path"), "path")));
        }

        /// <summary>A new, empty ACL edit (icacls). maxDepth: how many directory
        /// levels below the path a Recursive apply enters, as AclEdit.SetMaxDepth()
        /// (null: the library's 256).</summary>
        public AclEdit NewAclEdit(int? maxDepth = null)
        {
            Native.Check(Native.apid_acl_edit_new(Handle, out IntPtr e));
            var edit = new AclEdit(new AclEditHandle(e));
            if (maxDepth.HasValue)
            {
                try { edit.SetMaxDepth(maxDepth.Value); }
                catch { edit.Dispose(); throw; }
            }
            return edit;
        }

        public void Dispose() => Handle.Dispose();
    }

    /// <summary>An application pool; settings have appcmd's names.</summary>
    public sealed class Pool : IDisposable
    {
        readonly PoolHandle handle;

        internal Pool(PoolHandle h) { handle = h; }

        public string Name => Native.With(handle, h => Native.FromUtf8(Native.apid_pool_get_name(h)));

        public string this[string setting]
        {
            get
            {
                Native.Check(Native.apid_pool_get(handle, Native.Utf8(setting, "setting"), out IntPtr v));
                return Native.Take(v);
            }
            set => Native.Check(Native.apid_pool_set(handle, Native.Utf8(setting, "setting"), Native.Utf8(value, "value")));
        }

        /// <summary>processModel.identityType ("ApplicationPoolIdentity", "NetworkService", ...).</summary>
        public string IdentityType => Identity.TypeName(Native.Check(Native.apid_pool_get_identity_type(handle)));

        /// <summary>processModel.loadUserProfile: whether workers get a profile directory.</summary>
        public bool LoadsProfile => Native.Check(Native.apid_pool_loads_profile(handle)) == 1;

        /// <summary>Every setting and its value.</summary>
        public IDictionary<string, string> Settings
        {
            get
            {
                var all = new SortedDictionary<string, string>(StringComparer.Ordinal);
                IntPtr n;
                for (uint i = 0; (n = Native.apid_pool_setting_name(i)) != IntPtr.Zero; i++)
                {
                    string name = Native.FromUtf8(n);
                    all[name] = this[name];
                }
                return all;
            }
        }

        /// <summary>Check a setting's name and the form of a value without changing
        /// anything; throws AppPoolIdException naming the setting and the value.</summary>
        public static void CheckSetting(string setting, string value) =>
            Native.Check(Native.apid_pool_check_setting(Native.Utf8(setting ?? throw new ArgumentNullException("setting"), "setting"),
                                                        Native.Utf8(value ?? throw new ArgumentNullException("value"), "value")));

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
                // The SID lives inside the identity: one reference across both calls.
                IntPtr t = Native.With(Handle, h =>
                {
                    Native.Check(Native.apid_sid_to_string(Native.apid_identity_get_sid(h), out IntPtr text));
                    return text;
                });
                return Native.Take(t);
            }
        }

        public string Account => Native.With(Handle, h => Native.FromUtf8(Native.apid_identity_get_account(h)));
        public string User => Native.With(Handle, h => Native.FromUtf8(Native.apid_identity_get_user(h)));
        public uint Uid => Native.apid_identity_get_uid(Handle);
        public uint Gid => Native.apid_identity_get_gid(Handle);
        /// <summary>The pool's own group (gid == the pool's own uid), whatever
        /// the identity type the workers run as: what "IIS AppPool\name" grants reach.</summary>
        public uint PoolGid => Native.apid_identity_get_pool_gid(Handle);
        /// <summary>The name of that group (the pool's own user name).</summary>
        public string PoolGroup => Native.With(Handle, h => Native.FromUtf8(Native.apid_identity_get_pool_group(h)));
        /// <summary>The pool's name (null for a built-in account).</summary>
        public string PoolName => Native.With(Handle, h => Native.FromUtf8(Native.apid_identity_get_pool_name(h)));
        /// <summary>The profile directory, or null.</summary>
        public string Profile => Native.With(Handle, h => Native.FromUtf8(Native.apid_identity_get_profile_dir(h)));
        /// <summary>"ApplicationPoolIdentity", "NetworkService", ... (IIS's identityType).</summary>
        public string IdentityType => TypeName(Native.Check(Native.apid_identity_get_type(Handle)));
        /// <summary>0 when the uid is the SID's first choice.</summary>
        public uint UidProbe => Native.apid_identity_get_uid_probe(Handle);
        /// <summary>The shared group every pool identity carries, or null when none is configured.</summary>
        public uint? SharedGid
        {
            get
            {
                uint gid = Native.apid_identity_get_shared_gid(Handle);
                return gid == uint.MaxValue ? (uint?)null : gid;
            }
        }

        static readonly string[] typeNames = { "LocalSystem", "LocalService", "NetworkService", "SpecificUser",
                                               "ApplicationPoolIdentity" };
        internal static string TypeName(int type) => typeNames[type];

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
        /// <summary>Also edit a file with several hard links that a pool may have planted.</summary>
        public const uint FollowHardlinks = 16;
        readonly AclEditHandle handle;

        internal AclEdit(AclEditHandle h) { handle = h; }

        public AclEdit Add(int op, string spec)
        {
            Native.Check(Native.apid_acl_edit_add(handle, op, Native.Utf8(spec, "spec")));
            return this;
        }

        /// <summary>Check the grammar of an icacls spec without resolving the trustee;
        /// throws AppPoolIdException quoting the spec and pointing at the character.</summary>
        public static void CheckSpec(string spec) =>
            Native.Check(Native.apid_acl_spec_check(Native.Utf8(spec ?? throw new ArgumentNullException("spec"), "spec")));

        /// <summary>Also reset each path to what it inherits (icacls /reset).</summary>
        public AclEdit Reset()
        {
            Native.Check(Native.apid_acl_edit_reset(handle));
            return this;
        }

        /// <summary>Keep a journal of the old ACLs in a file (null: none): an
        /// interrupted apply is rolled back by Context.RestoreAcls() of the journal,
        /// or finished by applying the same edit again.</summary>
        public AclEdit SetJournal(string path)
        {
            Native.Check(Native.apid_acl_edit_set_journal(handle, Native.Utf8(path, "path")));
            return this;
        }

        /// <summary>The deepest recursive walk SetMaxDepth() and Context.SaveAcls() take,
        /// asked of the loaded library (apid_acl_max_depth(): APID_ACL_MAX_DEPTH, 4096), so
        /// that the binding's range check and message never drift from its.</summary>
        public static readonly int MaxDepthLimit = checked((int)Native.apid_acl_max_depth());

        /// <summary>How many directory levels below the path a Recursive apply
        /// enters (1 to MaxDepthLimit; the library's default is 256). A directory
        /// deeper than that has its own ACL edited but is not entered: Apply()
        /// then throws AppPoolIdException with Status -9 (APID_ERANGE; with
        /// Continue after the rest of the tree is done) and a message naming the
        /// directory and the limit ("depth: nested deeper than the limit of 2
        /// directory levels"). The setting stays for later applies of this edit.
        /// A depth out of range throws AppPoolIdException (Status -1) naming it,
        /// and changes nothing.</summary>
        public AclEdit SetMaxDepth(int depth)
        {
            uint d = Depth(depth);
            Native.With(handle, h => Native.Check(Native.apid_acl_edit_set_max_depth(h, d)));
            return this;
        }

        /// A negative depth cannot reach C's unsigned as given (it would wrap to
        /// 4294967295): refused here in the library's words, naming the value.
        /// 0 and 4097 reach the library, which refuses them.
        internal static uint Depth(int depth)
        {
            if (depth < 0)
                throw new AppPoolIdException(-1, "ACL walk depth " + depth + ": not between 1 and " + MaxDepthLimit, 0);
            return (uint)depth;
        }

        /// <summary>Apply to a path (Recursive, Strict, Continue, DryRun,
        /// FollowHardlinks); returns how many paths changed (Unchanged, Skipped,
        /// Failed, Approximated: the rest of this apply's counts). maxDepth: as
        /// SetMaxDepth() (set before this apply and kept for later ones).
        /// report(event, path, detail): each path changed, skipped or failed and
        /// each approximation, as it happens (path relative to the one given,
        /// "." for itself; detail what happened, or ""). progress(visited,
        /// changed): about every 1000 paths. The callbacks hold for this apply
        /// only; an exception one throws is thrown by Apply() when the walk is
        /// over (the walk cannot be stopped half-way).</summary>
        public ulong Apply(string path, uint flags = 0, int? maxDepth = null,
                           Action<AclEvent, string, string> report = null, Action<ulong, ulong> progress = null)
        {
            byte[] p = Native.Utf8(path, "path");
            uint? depth = maxDepth.HasValue ? Depth(maxDepth.Value) : (uint?)null;
            Exception thrown = null;
            Native.ReportFn onReport = null;
            Native.ProgressFn onProgress = null;
            if (report != null)
                onReport = (ev, rel, detail, _) =>
                {
                    if (thrown != null)
                        return;
                    try { report((AclEvent)ev, Native.FromUtf8(rel), Native.FromUtf8(detail) ?? ""); }
                    catch (Exception e) { thrown = e; } // never across the C frames
                };
            if (progress != null)
                onProgress = (visited, changed, _) =>
                {
                    if (thrown != null)
                        return;
                    try { progress(visited, changed); }
                    catch (Exception e) { thrown = e; }
                };
            ulong n = Native.With(handle, h =>
            {
                if (depth.HasValue)
                    Native.Check(Native.apid_acl_edit_set_max_depth(h, depth.Value));
                Native.Check(Native.apid_acl_edit_set_flags(h, flags));
                Native.Check(Native.apid_acl_edit_set_report_fn(h, onReport, IntPtr.Zero));
                Native.Check(Native.apid_acl_edit_set_progress_fn(h, onProgress, IntPtr.Zero));
                int status;
                try { status = Native.apid_acl_edit_apply(h, p); }
                finally
                {
                    // The C side must not keep delegates about to be collected.
                    Native.apid_acl_edit_set_report_fn(h, null, IntPtr.Zero);
                    Native.apid_acl_edit_set_progress_fn(h, null, IntPtr.Zero);
                    GC.KeepAlive(onReport);
                    GC.KeepAlive(onProgress);
                }
                if (thrown != null)
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(thrown).Throw();
                Native.Check(status);
                return Native.apid_acl_edit_count(h, 1);
            });
            return n;
        }

        /// <summary>The last apply: paths whose ACL already said the same.</summary>
        public ulong Unchanged => Native.apid_acl_edit_count(handle, 2);
        /// <summary>The last apply: paths skipped (links, special files, changes during the walk).</summary>
        public ulong Skipped => Native.apid_acl_edit_count(handle, 3);
        /// <summary>The last apply: paths that failed (a directory past the depth limit among them).</summary>
        public ulong Failed => Native.apid_acl_edit_count(handle, 4);
        /// <summary>The last apply: paths where POSIX ACLs could only approximate the rights.</summary>
        public ulong Approximated => Native.apid_acl_edit_count(handle, 5);

        public void Dispose() => handle.Dispose();
    }

    /// <summary>A restricted token (no capabilities, no_new_privs, seccomp, clean environment).</summary>
    public sealed class Token : IDisposable
    {
        internal readonly TokenHandle Handle;

        internal Token(TokenHandle h) { Handle = h; }

        public Token KeepCapability(string name)
        {
            Native.Check(Native.apid_token_keep_cap(Handle, Native.Utf8(name, "name")));
            return this;
        }

        /// <summary>Add, replace or (with null) remove a variable of the worker's environment.</summary>
        public Token SetEnvironmentVariable(string name, string value)
        {
            Native.Check(Native.apid_token_setenv(Handle, Native.Utf8(name ?? throw new ArgumentNullException("name"), "name"),
                                                  Native.Utf8(value, "value")));
            return this;
        }

        /// <summary>What a worker gets, one item a line.</summary>
        public string Describe()
        {
            Native.Check(Native.apid_token_describe(Handle, out IntPtr text));
            return Native.Take(text);
        }

        /// <summary>Turn the seccomp filter on (the default) or off.</summary>
        public Token SetSeccomp(bool enable)
        {
            Native.Check(Native.apid_token_set_seccomp(Handle, enable ? 1 : 0));
            return this;
        }

        /// <summary>Make a system call ("socket") fail with EPERM in the worker.</summary>
        public Token DenySyscall(string name)
        {
            Native.Check(Native.apid_token_deny_syscall(Handle, Native.Utf8(name ?? throw new ArgumentNullException("name"), "name")));
            return this;
        }

        /// <summary>Unlimited, for SetRlimit().</summary>
        public const ulong RlimInfinity = ulong.MaxValue;

        /// <summary>A resource limit for the worker: an RLIMIT_* number (RLIMIT_NOFILE
        /// is 7 on Linux), soft and hard (RlimInfinity: unlimited; hard null: soft).</summary>
        public Token SetRlimit(int resource, ulong soft, ulong? hard = null)
        {
            Native.Check(Native.apid_token_set_rlimit(Handle, resource, soft, hard ?? soft));
            return this;
        }

        /// <summary>The worker's umask (027 by default; at most 0777).</summary>
        public Token SetUmask(uint mask)
        {
            Native.Check(Native.apid_token_set_umask(Handle, mask));
            return this;
        }

        /// <summary>Whether the worker carries the shared group (on by default, when one is configured).</summary>
        public Token SetSharedGroup(bool include)
        {
            Native.Check(Native.apid_token_set_groups(Handle, include ? 1 : 0));
            return this;
        }

        /// <summary>Launch a program under this token; fds maps the worker's
        /// descriptor numbers to the caller's (null: stdio inherited).</summary>
        public Process Launch(string[] argv, IDictionary<int, int> fds = null)
        {
            return Launch(new LaunchOptions { Fds = fds }, argv);
        }

        /// <summary>Launch a program under this token with the options given
        /// (descriptors, a terminal, the launch timeout). The options come
        /// first so that Launch(argv, null) still means the overload above.</summary>
        public Process Launch(LaunchOptions options, params string[] argv)
        {
            if (options == null)
                throw new ArgumentNullException("options");
            uint timeoutMs = 0;
            if (options.Timeout.HasValue)
            {
                double ms = Math.Ceiling(options.Timeout.Value.TotalMilliseconds);
                if (ms < 1)
                    throw new ArgumentOutOfRangeException("options", "Timeout " + options.Timeout.Value + ": must be more than 0");
                // Beyond the library's bound (1 h) it refuses, naming the value.
                timeoutMs = ms > uint.MaxValue ? uint.MaxValue : (uint)ms;
            }
            IDictionary<int, int> fds = options.Fds;
            if (argv == null || argv.Length == 0)
                throw new ArgumentException("argv must not be empty");
            var utf8 = new byte[argv.Length][];
            for (int i = 0; i < argv.Length; i++)
                utf8[i] = Native.Utf8(argv[i] ?? throw new ArgumentNullException("argv"), "argv[" + i + "]");
            var dirs = new List<KeyValuePair<IntPtr, string>>(); // opendir()'d cgroups, closed after
            var pinned = new List<IntPtr>();
            IntPtr attr = IntPtr.Zero;
            try
            {
                foreach (string cgroup in options.Cgroups ?? (IList<string>)new string[0])
                    dirs.Add(new KeyValuePair<IntPtr, string>(OpenCgroup(cgroup), cgroup));
                Native.Check(Native.apid_launch_attr_new(out attr));
                if (fds != null)
                    foreach (var kv in fds)
                        Native.Check(Native.apid_launch_attr_pass_fd(attr, kv.Value, kv.Key));
                if (options.WorkingDirectory != null)
                    Native.Check(Native.apid_launch_attr_set_cwd(attr, Native.Utf8(options.WorkingDirectory, "WorkingDirectory")));
                if (options.ParentDeathSignal != 0)
                    Native.Check(Native.apid_launch_attr_set_parent_death_signal(attr, options.ParentDeathSignal));
                if (options.Terminal != -1)
                    Native.Check(Native.apid_launch_attr_set_terminal(attr, options.Terminal));
                if (timeoutMs != 0)
                    Native.Check(Native.apid_launch_attr_set_timeout(attr, timeoutMs));
                foreach (var dir in dirs)
                    CheckCgroup(Native.apid_launch_attr_add_cgroup(attr, Native.dirfd(dir.Key)), dirs);
                // Descriptors the caller opened: used as they are, never closed
                // here (the library's message names them: "cgroup 7: ...").
                foreach (int cgroupFd in options.CgroupFds ?? (IList<int>)new int[0])
                    Native.Check(Native.apid_launch_attr_add_cgroup(attr, cgroupFd));
                var args = new IntPtr[argv.Length + 1];
                for (int i = 0; i < argv.Length; i++)
                {
                    byte[] b = utf8[i];
                    args[i] = Marshal.AllocHGlobal(b.Length);
                    Marshal.Copy(b, 0, args[i], b.Length);
                    pinned.Add(args[i]);
                }
                CheckCgroup(Native.apid_launch(Handle, attr, utf8[0], args, out IntPtr p), dirs);
                return new Process(new ProcessHandle(p));
            }
            finally
            {
                foreach (IntPtr p in pinned)
                    Marshal.FreeHGlobal(p);
                if (attr != IntPtr.Zero)
                    Native.apid_launch_attr_free(attr);
                foreach (var dir in dirs)
                    Native.closedir(dir.Key);
            }
        }

        static IntPtr OpenCgroup(string path)
        {
            IntPtr dir = Native.opendir(Native.Utf8(path ?? throw new ArgumentNullException("options", "Cgroups: a null path"), "Cgroups"));
            if (dir != IntPtr.Zero)
                return dir;
            int errno = Marshal.GetLastWin32Error();
            string message = "cgroup " + path + ": " + Native.FromUtf8(Native.strerror(errno));
            if (errno == 2) // ENOENT
                throw new DirectoryNotFoundException(message);
            if (errno == 13) // EACCES
                throw new UnauthorizedAccessException(message);
            throw new IOException(message);
        }

        /// Native.Check(), with the path of a cgroup put before the library's
        /// message, which names only the descriptor ("cgroup 7: ...").
        static void CheckCgroup(int status, List<KeyValuePair<IntPtr, string>> dirs)
        {
            try
            {
                Native.Check(status);
            }
            catch (AppPoolIdException e)
            {
                foreach (var dir in dirs)
                    if (e.Message.StartsWith("cgroup " + Native.dirfd(dir.Key) + ":", StringComparison.Ordinal))
                        throw new AppPoolIdException(e.Status, dir.Value + ": " + e.Message, e.Errno);
                throw;
            }
        }

        public void Dispose() => Handle.Dispose();
    }

    /// <summary>How Token.Launch() starts a worker.</summary>
    public sealed class LaunchOptions
    {
        /// <summary>The worker's descriptor numbers mapped to the caller's (null: stdio inherited).</summary>
        public IDictionary<int, int> Fds { get; set; }
        /// <summary>A terminal descriptor (the slave of a pty the caller opened for
        /// this worker alone) that becomes the worker's 0, 1 and 2 (those not in
        /// Fds) and its controlling terminal; -1: none (the default).</summary>
        public int Terminal { get; set; } = -1;
        /// <summary>How long the launch waits for the child to reach execve before
        /// killing it and failing (null: the library's 5 s; at most 1 h).</summary>
        public TimeSpan? Timeout { get; set; }
        /// <summary>The cgroup directories the worker is born in (clone3
        /// CLONE_INTO_CGROUP), so that their limits hold from its first
        /// instruction: at most one cgroup v2 directory, plus cgroup v1
        /// hierarchies' (new LaunchOptions { Cgroups = { "/sys/fs/cgroup/web" } }).
        /// Each is opened for the launch and closed after it; making the cgroup
        /// and setting its limits is the caller's part. A directory that is not
        /// a cgroup throws AppPoolIdException (Status -1) naming it, the path
        /// before the library's message ("/tmp/x: cgroup 7: not a directory of
        /// a cgroup file system"); one that cannot be opened throws
        /// DirectoryNotFoundException, UnauthorizedAccessException or IOException.</summary>
        public IList<string> Cgroups { get; set; } = new List<string>();
        /// <summary>Cgroup directories by open descriptor, as apid_launch_attr_add_cgroup()
        /// takes them (O_RDONLY | O_DIRECTORY, not O_PATH: clone3 refuses it), after
        /// those in Cgroups: for a caller that holds its cgroups open (opened
        /// relative to a directory it trusts, or passed by a parent). Each is used
        /// as it is and stays the caller's to close. A descriptor that is not open
        /// or not a cgroup directory throws AppPoolIdException (Status -1) naming
        /// it ("cgroup 7: not a directory of a cgroup file system").</summary>
        public IList<int> CgroupFds { get; set; } = new List<int>();
        /// <summary>The worker's working directory (null: the pool's profile
        /// directory, else /; never the caller's).</summary>
        public string WorkingDirectory { get; set; }
        /// <summary>The signal the worker gets when the thread that launched it
        /// exits (15 for SIGTERM; 0: none, the default).</summary>
        public int ParentDeathSignal { get; set; }
    }

    /// <summary>A launched worker.</summary>
    public sealed class Process : IDisposable
    {
        readonly ProcessHandle handle;

        internal Process(ProcessHandle h) { handle = h; }

        public int Pid => Native.With(handle, h => Native.apid_process_get_pid(h));

        /// <summary>The pidfd (owned by this object; readable once the worker exits):
        /// for poll/epoll in an event loop.</summary>
        public int Fd => Native.With(handle, h => Native.apid_process_get_fd(h));

        /// <summary>Wait for it to exit; the exit code, or -N when signal N killed it.</summary>
        /// Dispose() from another thread during Wait() neither frees nor kills
        /// the worker before Wait() returns.
        public int Wait()
        {
            return Native.With(handle, h =>
            {
                Native.Check(Native.apid_process_wait(h, -1));
                int code = Native.apid_process_exit_code(h);
                return code >= 0 ? code : -Native.apid_process_term_signal(h);
            });
        }

        /// <summary>Send a signal through the pidfd (no pid reuse race).</summary>
        public void Signal(int signal) => Native.With(handle, h => Native.Check(Native.apid_process_signal(h, signal)));

        public void Dispose() => handle.Dispose();
    }
}
