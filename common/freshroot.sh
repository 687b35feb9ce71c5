# freshroot.sh: sourced by fresh.sh and platforms.sh: a fresh minimal Debian root (debootstrap, cached), entered with chroot.
# shellcheck shell=bash disable=SC2016
# The caller sets ROOT, FRESH (the cache folder) and R (where the root goes), and defines ok, bad and since.
# fresh_suite: which distribution, from which mirror: the host's own (sets ID, suite, mirror).
fresh_suite() {
  . /etc/os-release
  suite=${FRESH_SUITE:-${VERSION_CODENAME:-}}
  mirror=${FRESH_MIRROR:-}
  if [ -z "$mirror" ]; then
    # The first source that serves the suite itself (not -security or -updates).
    mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk -v s="$suite" '
      /^URIs:/ {u = $2} /^Suites:/ {for (i = 2; i <= NF; i++) if ($i == s && !m) m = u} END {print m}')
    [ -n "$mirror" ] || mirror=$(awk -v s="$suite" '$1 == "deb" && $3 == s {print $2; exit}' \
      /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null)
  fi
  if [ -z "$suite" ] || [ -z "$mirror" ]; then
    echo "ipclab: cannot tell this host's Debian suite and mirror; set FRESH_SUITE and FRESH_MIRROR" >&2
    exit 2
  fi
}

# fresh_base: the base root: debootstrap once, then reuse the tarball (sets base; 1 on failure).
fresh_base() {
  base=$FRESH/base-$suite.tar
  mkdir -p "$FRESH"
  if [ ! -s "$base" ]; then
    t=$(date +%s)
    tmp=$FRESH/base-tmp
    rm -rf "$tmp"
    # shellcheck disable=SC2086 # FRESH_DEBOOTSTRAP_OPTS: extra options, one word each
    if ! debootstrap --variant=minbase --include=git,make,ca-certificates ${FRESH_DEBOOTSTRAP_OPTS:-} "$suite" "$tmp" "$mirror" \
         >"$FRESH/debootstrap.log" 2>&1; then
      tail -n 15 "$FRESH/debootstrap.log" | sed 's/^/        /'
      bad "debootstrap $suite from the host's mirror failed (log: $FRESH/debootstrap.log)"
      return 1
    fi
    rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/lib/apt/lists/*_Packages
    tar -C "$tmp" -cf "$base.part" . && mv "$base.part" "$base"
    rm -rf "$tmp"
    ok "debootstrap --variant=minbase $suite ($(since "$t"), cached in $(basename "$base"))"
  else
    ok "base root from the cache ($(basename "$base"); delete it to build anew)"
  fi
}

# remove_root: removes $R, after killing what still runs in it.
remove_root() {
  # Processes still running inside (a daemon of a test, a stray browser) would pin it.
  local p
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/root" 2>/dev/null)" = "$R" ] && kill -9 "${p#/proc/}" 2>/dev/null
  done
  rm -rf --one-file-system "$R"
}

# fresh_root: a fresh copy of the base in $R, with the host's package sources, CA certificates and npm configuration.
# FRESH_OWN_SOURCES=1 keeps the root's own package sources (another distribution than the host's).
fresh_root() {
  remove_root
  mkdir -p "$R"
  tar -C "$R" -xf "$base"
  cp -L /etc/resolv.conf "$R"/etc/resolv.conf 2>/dev/null
  [ -z "${FRESH_OWN_SOURCES:-}" ] || return 0
  rm -f "$R"/etc/apt/sources.list
  cp -a /etc/apt/sources.list "$R"/etc/apt/ 2>/dev/null
  cp -a /etc/apt/sources.list.d/. "$R"/etc/apt/sources.list.d/ 2>/dev/null
  cp -a /etc/apt/apt.conf.d/. "$R"/etc/apt/apt.conf.d/ 2>/dev/null
  cp -a /etc/apt/trusted.gpg.d/. "$R"/etc/apt/trusted.gpg.d/ 2>/dev/null
  cp -aL /usr/share/keyrings/. "$R"/usr/share/keyrings/ 2>/dev/null
  cp -L /etc/resolv.conf "$R"/etc/resolv.conf 2>/dev/null
  cp -L /etc/hosts "$R"/etc/hosts 2>/dev/null
  # Local CAs stay trusted when the root's ca-certificates rebuilds its bundle.
  cp -a /usr/local/share/ca-certificates/. "$R"/usr/local/share/ca-certificates/ 2>/dev/null
  cp -L /etc/ssl/certs/ca-certificates.crt "$R"/etc/ssl/certs/ca-certificates.crt
  for f in /etc/npmrc /usr/etc/npmrc; do
    [ -f "$f" ] && mkdir -p "$R$(dirname "$f")" && cp "$f" "$R$f"
  done
  [ -f "$HOME/.npmrc" ] && cp "$HOME/.npmrc" "$R/root/.npmrc"
  return 0
}

# Runs a command in the root: private mounts of /proc, /dev, /dev/pts and /dev/shm that vanish
# with the namespace, no /sys (so no cgroup hierarchy), and a clean environment.
# FRESH_UNSHARE adds namespaces (platforms.sh: --ipc, the private IPC namespace Docker gives a container).
in_root() {
  # shellcheck disable=SC2086 # flags, one word each
  unshare --mount --propagation private ${FRESH_UNSHARE:-} -- /bin/sh -c '
    R=$1; shift
    mount -t proc proc "$R/proc" &&
    mount --rbind /dev "$R/dev" && mount --make-rslave "$R/dev" &&
    mount -t tmpfs -o mode=1777,nosuid,nodev shm "$R/dev/shm" &&
    exec chroot "$R" "$@"' sh "$R" \
    env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 TERM=dumb CI=true "$@"
}

