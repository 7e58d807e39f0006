/**
 * The shell program that turns a fresh private mount namespace (already inside the pod's network
 * namespace) into the pod's file view, then execs the app. It runs as root there (real root, or
 * root of the mesh's user namespace) and drops to the app's uid last.
 *
 * Why a new root instead of mounting over the host's paths: a volume's mountPath (`/certs`,
 * `/var/run/secrets/kubernetes.io/serviceaccount`) usually does not exist on the host, and creating
 * it there would touch the host (and is impossible rootless). The new root is a tmpfs holding the
 * host's top-level entries bound in; a missing directory is made by "shadowing" its deepest existing
 * parent (a tmpfs copy whose entries are bound back in), so nothing is ever created on the host.
 * Everything mounted here lives only in this process's mount namespace.
 *
 * Arguments: root-mountpoint shadow-mountpoint hosts resolv uid gid cwd nMounts
 *            (hostPath mountPath ro)×nMounts -- argv…
 */
export const POD_ENTRY_SCRIPT = `set -eu
R=$1 SH=$2 HOSTS=$3 RESOLV=$4 U=$5 G=$6 CWD=$7 N=$8
shift 8
mount -t tmpfs -o mode=0755 tessera-pod "$R"
mount -t tmpfs -o mode=0700 tessera-shadow "$SH"
RDEV=$(stat -c %d "$R")
SDEV=$(stat -c %d "$SH")
k=0
copy_entries() {
  for p in "$1"/* "$1"/.[!.]* "$1"/..?*; do
    [ -e "$p" ] || [ -L "$p" ] || continue
    n=\${p##*/}
    if [ -L "$p" ]; then ln -s "$(readlink "$p")" "$2/$n"
    elif [ -d "$p" ]; then mkdir "$2/$n"; mount --rbind "$p" "$2/$n"
    else : > "$2/$n"; mount --bind "$p" "$2/$n"; fi
  done
}
ours() {
  d=$(stat -c %d "$1")
  [ "$d" = "$RDEV" ] || [ "$d" = "$SDEV" ]
}
shadow() {
  k=$((k + 1))
  t=$SH/$k
  mkdir "$t"
  chmod "$(stat -c %a "$1")" "$t"
  copy_entries "$1" "$t"
  mount --rbind "$t" "$1"
}
# makepath PATH dir|file: sets cur to PATH inside the new root, following symlinks, creating what is missing
makepath() {
  cur=$R
  rest=\${1#/}
  hops=0
  while [ -n "$rest" ]; do
    c=\${rest%%/*}
    if [ "$c" = "$rest" ]; then rest=; else rest=\${rest#*/}; fi
    case $c in
      ''|.) continue ;;
      ..) [ "$cur" = "$R" ] || cur=\${cur%/*}; continue ;;
    esac
    next=$cur/$c
    if [ -L "$next" ]; then
      hops=$((hops + 1))
      [ $hops -lt 40 ] || { echo "tessera-pod: too many symlinks in $1" >&2; exit 70; }
      t=$(readlink "$next")
      case $t in
        /*) cur=$R; rest=\${t#/}\${rest:+/$rest} ;;
        *) rest=$t\${rest:+/$rest} ;;
      esac
      continue
    fi
    if [ ! -e "$next" ]; then
      ours "$cur" || shadow "$cur"
      if [ -z "$rest" ] && [ "$2" = file ]; then : > "$next"; else mkdir "$next"; fi
    fi
    cur=$next
  done
}
copy_entries / "$R"
makepath /etc/hosts file
mount --bind "$HOSTS" "$cur"
makepath /etc/resolv.conf file
mount --bind "$RESOLV" "$cur"
i=0
while [ $i -lt "$N" ]; do
  hp=$1 mp=$2 ro=$3
  shift 3
  if [ -d "$hp" ]; then makepath "$mp" dir; mount --rbind "$hp" "$cur"
  else makepath "$mp" file; mount --bind "$hp" "$cur"; fi
  [ "$ro" = ro ] && mount -o remount,bind,ro "$cur"
  i=$((i + 1))
done
[ "$1" = -- ] && shift
cd /
if [ -n "$U" ]; then
  exec /usr/sbin/chroot "$R" /usr/bin/setpriv --reuid="$U" --regid="$G" --clear-groups -- /usr/bin/env -C "$CWD" -- "$@"
fi
exec /usr/sbin/chroot "$R" /usr/bin/env -C "$CWD" -- "$@"
`;
