# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared by the farm tests (source it after setting ctl, moddir, statedir,
# schemadir): slapd in a network namespace of its own, and "hosts", each a
# network namespace joined to slapd's by a veth pair the test makes
# (link-local addresses, inside those namespaces only) plus a private mount
# namespace with its own /var/lib (state directory), /run and
# nsswitch.conf. Nothing of the machine is changed; cleanup on exit.
# farm_start HOST... makes the namespaces and starts slapd; farm_nslcd N and
# farm_sssd N give host N its name service; on N CMD runs CMD there.
. "$(dirname "${BASH_SOURCE[0]}")/../cli/testlib.sh"
base=dc=farm,dc=test
tmp=$(mktemp -d /tmp/apid-farm-XXXXXX)
pids=()
cleanup() {
        local f daemons=()
        for f in "$tmp/slapd.pid" "$tmp"/h*/run/nslcd/nslcd.pid "$tmp"/h*/run/sssd.pid; do
                [ -f "$f" ] && daemons+=("$(cat "$f")")
        done
        kill "${daemons[@]}" "${pids[@]}" 2>/dev/null
        wait 2>/dev/null
        # The daemons are not our children: wait for them (sssd's children
        # leave after their monitor) to be gone before their directories go.
        for f in "${daemons[@]}"; do
                for _ in $(seq 100); do kill -0 "$f" 2>/dev/null || break; sleep 0.1; done
        done
        rm -rf "$tmp"
}
trap cleanup EXIT
# Every wait is bounded: 20 s for anything (a busy machine), then a failure.
wait_for() { local i; for i in $(seq 200); do eval "$1" && return 0; sleep 0.1; done; echo "FAIL: timed out: $1"; exit 1; }
netns_of() { readlink "/proc/$1/ns/net"; }
# Host N's addresses: slapd's end 169.254.213.(4N-3), the host's 4N-2.
slapd_addr() { echo "169.254.213.$((4 * $1 - 3))"; }
host_addr() { echo "169.254.213.$((4 * $1 - 2))"; }
declare -A hostpid

farm_start() {
        local me spid h p listen=""
        me=$(netns_of $$)
        unshare --net sleep 600 & spid=$!; pids+=($spid)
        for h in "$@"; do
                unshare --net --mount --propagation private sleep 600 & hostpid[$h]=$!; pids+=($!)
        done
        for p in $spid "${hostpid[@]}"; do wait_for "[ \"\$(netns_of $p)\" != \"$me\" ]"; done
        nsenter -t $spid -n ip link set lo up || exit 1
        for h in "$@"; do
                ip link add fa$h netns $spid type veth peer name fb$h netns ${hostpid[$h]} || exit 1
                nsenter -t $spid -n sh -c "ip addr add $(slapd_addr $h)/30 dev fa$h && ip link set fa$h up" || exit 1
                nsenter -t ${hostpid[$h]} -n sh -c "ip link set lo up && ip addr add $(host_addr $h)/30 dev fb$h && ip link set fb$h up" || exit 1
                listen="$listen ldap://$(slapd_addr $h)/"
        done
        # ---- slapd: throwaway cn=config (mdb, sizelimit unlimited); root over
        # ldapi (SASL EXTERNAL) is the rootdn ----
        mkdir -p "$tmp/db" "$tmp/shared"
        chmod 755 "$tmp"
        ldapi="ldapi://$(printf %s "$tmp/ldapi" | sed 's|/|%2F|g')"
        # The schema in both shipped forms: the .schema file must pass slaptest
        # with slapd.conf, and slapd runs from a cn=config built with the LDIF form.
        printf 'include /etc/ldap/schema/core.schema\ninclude /etc/ldap/schema/cosine.schema\ninclude /etc/ldap/schema/nis.schema\ninclude %s\n' \
                "$schemadir/apppoolid-sid.schema" > "$tmp/check.conf"
        slaptest -u -f "$tmp/check.conf" >/dev/null 2>&1; check "apppoolid-sid.schema loads" 0 $?
        mkdir -p "$tmp/slapd.d"
        {
                printf 'dn: cn=config\nobjectClass: olcGlobal\ncn: config\nolcPidFile: %s\nolcSizeLimit: unlimited\n\n' "$tmp/slapd.pid"
                printf 'dn: cn=module{0},cn=config\nobjectClass: olcModuleList\ncn: module{0}\nolcModulePath: /usr/lib/ldap\nolcModuleLoad: back_mdb\n\n'
                printf 'dn: cn=schema,cn=config\nobjectClass: olcSchemaConfig\ncn: schema\n\n'
                for f in /etc/ldap/schema/core.ldif /etc/ldap/schema/cosine.ldif /etc/ldap/schema/nis.ldif \
                        "$schemadir/apppoolid-sid.ldif"; do
                        cat "$f"; printf '\n'
                done
                printf 'dn: olcDatabase={-1}frontend,cn=config\nobjectClass: olcDatabaseConfig\nobjectClass: olcFrontendConfig\nolcDatabase: {-1}frontend\nolcSizeLimit: unlimited\nolcAccess: to * by * read\n\n'
                printf 'dn: olcDatabase={0}config,cn=config\nobjectClass: olcDatabaseConfig\nolcDatabase: {0}config\nolcAccess: to * by * none\n\n'
                printf 'dn: olcDatabase={1}mdb,cn=config\nobjectClass: olcDatabaseConfig\nobjectClass: olcMdbConfig\nolcDatabase: {1}mdb\nolcSuffix: %s\nolcRootDN: gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth\nolcDbDirectory: %s\nolcDbMaxSize: 104857600\nolcDbIndex: objectClass,uid,uidNumber,gidNumber,memberUid eq\nolcDbIndex: sambaSID eq\nolcSizeLimit: unlimited\nolcAccess: to attrs=userPassword by anonymous auth by * none\nolcAccess: to * by dn.exact=cn=publisher,%s write by * read\n' \
                        $base "$tmp/db" $base
        } > "$tmp/config.ldif"
        slapadd -q -n 0 -F "$tmp/slapd.d" -l "$tmp/config.ldif" || { echo "FAIL: cn=config with apppoolid-sid.ldif"; exit 1; }
        printf 'dn: %s\nobjectClass: dcObject\nobjectClass: organization\ndc: farm\no: farm\n\ndn: ou=People,%s\nobjectClass: organizationalUnit\nou: People\n\ndn: ou=Group,%s\nobjectClass: organizationalUnit\nou: Group\n' \
                $base $base $base > "$tmp/base.ldif"
        slapadd -q -F "$tmp/slapd.d" -n 1 -l "$tmp/base.ldif" || exit 1
        nsenter -t $spid -n slapd -F "$tmp/slapd.d" -h "${listen# } $ldapi" || exit 1
        wait_for "ldapsearch -LLL -Q -Y EXTERNAL -H '$ldapi' -b $base -s base dn >/dev/null 2>&1"
}
ldap_add() { ldapadd -Q -Y EXTERNAL -H "$ldapi" "$@" >/dev/null; }

# host_mounts N NSSWITCH-SOURCES: host N's own /run, /var/lib (the state
# directory), nsswitch.conf, and /mnt (the shared storage).
host_mounts() {
        mkdir -p "$tmp/h$1/run" "$tmp/h$1/lib"
        sed -E "s/^(passwd|group):.*\$/\\1: $2/" /etc/nsswitch.conf > "$tmp/h$1/nsswitch.conf"
        nsenter -t ${hostpid[$1]} -m sh -c "mount --bind '$tmp/h$1/run' /run &&
                mount --bind '$tmp/h$1/lib' /var/lib && mkdir -m 755 -p '$statedir' &&
                mount --bind '$tmp/h$1/nsswitch.conf' /etc/nsswitch.conf && mount --bind '$tmp/shared' /mnt" || exit 1
}
# farm_nslcd N: "files apppoolid ldap", nslcd with its own config and socket.
farm_nslcd() {
        host_mounts $1 "files apppoolid ldap"
        printf 'uid nslcd\ngid nslcd\nuri ldap://%s/\nbase %s\nbase passwd ou=People,%s\nbase group ou=Group,%s\n' \
                "$(slapd_addr $1)" $base $base $base > "$tmp/h$1/nslcd.conf"
        chown root:nslcd "$tmp/h$1/nslcd.conf"; chmod 640 "$tmp/h$1/nslcd.conf"
        nsenter -t ${hostpid[$1]} -m sh -c "mkdir -p /run/nslcd && chown nslcd:nslcd /run/nslcd &&
                mount --bind '$tmp/h$1/nslcd.conf' /etc/nslcd.conf" || exit 1
        nsenter -t ${hostpid[$1]} -m -n nslcd || exit 1
        wait_for "[ -S '$tmp/h$1/run/nslcd/socket' ]"
}
# Run a command on host N, as its processes would run (the module in LD_LIBRARY_PATH).
on() { local pid=${hostpid[$1]}; shift; nsenter -t "$pid" -m -n env -u APPPOOLID_STATE_DIR LD_LIBRARY_PATH="$moddir" "$@"; }
uid_of() { on "$1" "$ctl" pool show --json "$2" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["user"], d["uid"], d["gid"], d["sid"])'; }
# farm_sssd N: "files sss", sssd (NSS responder, LDAP id provider; uidNumber,
# not SSSD's id mapping, and the SID from sambaSID) with its own config,
# databases, memory cache, pipes and logs: /etc/sssd, /var/log/sssd and
# /var/lib/sss (in the host's own /var/lib) are host N's own. sssd refuses a
# config not 0600 root.
farm_sssd() {
        host_mounts $1 "files sss"
        local d=$tmp/h$1/sss l=$tmp/h$1/lib/sss
        mkdir -p "$d/etc" "$d/log" "$l/db" "$l/mc" "$l/pipes/private" "$l/pubconf" \
                "$l/gpo_cache" "$l/secrets" "$l/deskprofile" "$l/keytabs"
        chmod 700 "$d/etc" "$l/db" "$l/secrets"; chmod 750 "$l/pipes/private" "$d/log"
        cat > "$d/etc/sssd.conf" <<CONF
[sssd]
services = nss
domains = farm

[domain/farm]
id_provider = ldap
ldap_uri = ldap://$(slapd_addr $1)/
ldap_search_base = $base
ldap_user_search_base = ou=People,$base
ldap_group_search_base = ou=Group,$base
ldap_schema = rfc2307
ldap_id_mapping = false
ldap_user_objectsid = sambaSID
ldap_group_objectsid = sambaSID
CONF
        chmod 600 "$d/etc/sssd.conf"
        nsenter -t ${hostpid[$1]} -m sh -c "mount --bind '$d/etc' /etc/sssd && mount --bind '$d/log' /var/log/sssd" || exit 1
        # sssd that cannot run here (it checks its environment: capabilities,
        # files, the kernel's keyring...) skips the test, with its own words.
        local i
        if nsenter -t ${hostpid[$1]} -m -n sssd -D --logger=files 2>"$d/start.err"; then
                for i in $(seq 200); do [ -S "$l/pipes/nss" ] && return 0; sleep 0.1; done
        fi
        echo "SKIP: sssd cannot run here: $(cat "$d/start.err" "$d"/log/*.log 2>/dev/null | grep -v '^$' | tail -n 5)"
        exit 77
}
