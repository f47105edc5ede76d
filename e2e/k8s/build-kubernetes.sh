#!/usr/bin/env bash
# Builds the Kubernetes 1.20.2 control-plane and node binaries (kube-apiserver, kube-controller-manager,
# kube-scheduler, kubelet) from Debian bookworm's `kubernetes` source package, once, and caches them
# outside the repository, with `pause` (the pod sandbox's process, compiled statically from
# build/pause/linux/pause.c of the same source, for a pause image built FROM scratch). Idempotent: when
# the cache holds all five it prints the directory and exits at once; a cache from before `pause` was
# added fetches the source again and compiles only `pause`. Tests find the binaries through the same directory (see docs/kubernetes-test-cluster.md).
#
#   e2e/k8s/build-kubernetes.sh            build if missing, print the binary directory
#   e2e/k8s/build-kubernetes.sh --check    exit 0 if cached, 1 if not (no build)
#
# Environment: SLIPSTREAM_KUBE_CACHE (default /var/cache/slipstream/kubernetes) is the cache root; the
# binaries land in $SLIPSTREAM_KUBE_CACHE/1.20.2/. Needs root for apt-get on a fresh machine
# (golang-go etcd-server rsync jq dpkg-dev); the system's apt sources are left untouched: the source
# package is fetched with a private apt configuration holding a deb-src line.
# Exit codes: 0 ok, 1 not cached (--check), 2 cannot build here (not root / no source reachable), 3 build failed.
set -euo pipefail

version=1.20.2
cache_root="${SLIPSTREAM_KUBE_CACHE:-/var/cache/slipstream/kubernetes}"
bin_dir="$cache_root/$version"
binaries=(kube-apiserver kube-controller-manager kube-scheduler kubelet)
packages=(golang-go etcd-server rsync jq dpkg-dev gcc libc6-dev)

log() { echo "build-kubernetes: $*" >&2; }

go_cached() {
  local b
  for b in "${binaries[@]}"; do [ -x "$bin_dir/$b" ] || return 1; done
  [ -f "$bin_dir/VERSION" ] && grep -qx "v$version" "$bin_dir/VERSION"
}
cached() { go_cached && [ -x "$bin_dir/pause" ]; }

if [ "${1:-}" = "--check" ]; then cached && { echo "$bin_dir"; exit 0; }; exit 1; fi
if cached; then echo "$bin_dir"; exit 0; fi

mkdir -p "$cache_root" 2>/dev/null || { log "cannot create $cache_root (set SLIPSTREAM_KUBE_CACHE to a writable directory)"; exit 2; }
# One build at a time (several test runs may start together).
exec 9>"$cache_root/.build.lock"
flock 9
if cached; then echo "$bin_dir"; exit 0; fi

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    log "need root to install ${missing[*]} (or install them yourself and rerun)"
    exit 2
  fi
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 || { log "apt-get update failed (no network?)"; exit 2; }
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || { log "apt-get install ${missing[*]} failed"; exit 2; }
fi

work="$cache_root/build-$version"
rm -rf "$work"
mkdir -p "$work/apt/lists/partial" "$work/apt/archives/partial" "$work/src"
started=$(date +%s)

# The Debian mirror and keyring the system already uses for bookworm main, as a deb-src line in a private
# sources list (deb822 .sources files first, then one-line .list files).
mirror="" keyring=""
for f in /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] || continue
  read -r mirror keyring < <(awk -v RS='' '
    /(^|\n)Suites:[^\n]*bookworm([ \n]|$)/ && /(^|\n)Components:[^\n]*main/ && /(^|\n)Types:[^\n]*deb/ {
      u=""; k="";
      n=split($0, L, "\n");
      for (i=1;i<=n;i++) { if (L[i] ~ /^URIs:/) { split(L[i], a, /[ \t]+/); u=a[2] } if (L[i] ~ /^Signed-By:/) { split(L[i], b, /[ \t]+/); k=b[2] } }
      if (u != "") { print u, k; exit }
    }' "$f") || true
  [ -n "$mirror" ] && break
done
if [ -z "$mirror" ]; then
  mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
    | awk '$1=="deb" && $0 ~ / bookworm / && $0 ~ / main/ { for (i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }')
fi
if [ -z "$mirror" ]; then
  log "no bookworm main source found in the system's apt configuration to derive a deb-src line from"
  exit 2
fi
opts=""
[ -n "$keyring" ] && opts="[signed-by=$keyring] "
echo "deb-src ${opts}${mirror} bookworm main" > "$work/apt/sources.list"
apt_private=(-o "APT::Sandbox::User=root" -o "Dir::Etc::sourcelist=$work/apt/sources.list" -o "Dir::Etc::sourceparts=-"
             -o "Dir::State::Lists=$work/apt/lists" -o "Dir::Cache::archives=$work/apt/archives"
             -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache=" -o "APT::Get::List-Cleanup=0")
log "fetching the kubernetes source package (deb-src from $mirror, private apt configuration)"
apt-get "${apt_private[@]}" update -qq >&2 || { log "apt-get update of the private deb-src list failed (no network?)"; exit 2; }
(cd "$work/src" && apt-get "${apt_private[@]}" source --download-only kubernetes >&2) \
  || { log "could not download the kubernetes $version source package"; exit 2; }

log "unpacking and applying debian/patches"
# bookworm ships 1.20.2 as "1.20.5+really1.20.2-...": accept only a source whose upstream is $version.
dsc=$(ls "$work"/src/kubernetes_*.dsc | head -n 1)
case "$(basename "$dsc")" in
  kubernetes_"$version"-*|kubernetes_*really"$version"-*) ;;
  *) log "the bookworm kubernetes source is $(basename "$dsc"), expected upstream $version"; exit 3 ;;
esac
(cd "$work/src" && dpkg-source --no-check -x "$dsc" tree >/dev/null) || { log "dpkg-source -x failed"; exit 3; }
tree="$work/src/tree"

rm -rf "$bin_dir.tmp"
mkdir -p "$bin_dir.tmp"
if go_cached; then
  cp -p "$bin_dir"/* "$bin_dir.tmp/"
else
  log "building ${binaries[*]} (about 6 minutes cold on 2 cores)"
  (
    cd "$tree"
    mkdir -p .go/src/k8s.io
    ln -sfn ../../.. .go/src/k8s.io/kubernetes
    export GOPATH="$tree/.go" GOCACHE="$work/go-build" \
           CGO_ENABLED=0 GOPROXY=off KUBE_GIT_VERSION="v$version" KUBE_GIT_TREE_STATE=clean \
           KUBE_GIT_COMMIT="debian-$version" KUBE_BUILD_PLATFORMS=linux/amd64
    cd .go/src/k8s.io/kubernetes
    make WHAT="cmd/kube-apiserver cmd/kube-controller-manager cmd/kube-scheduler cmd/kubelet"
  ) > "$work/build.log" 2>&1 || { log "make failed; last lines of $work/build.log:"; tail -n 30 "$work/build.log" >&2; exit 3; }
  out="$tree/_output/bin"
  [ -d "$out" ] || out="$tree/_output/local/bin/linux/amd64"
  for b in "${binaries[@]}"; do
    [ -x "$out/$b" ] || { log "build finished but $out/$b is missing"; exit 3; }
    cp "$out/$b" "$bin_dir.tmp/$b"
  done
fi
log "compiling pause (static) from build/pause/linux/pause.c"
gcc -Os -Wall -Werror -static -DVERSION="v$version-slipstream" -o "$bin_dir.tmp/pause" "$tree/build/pause/linux/pause.c" \
  || { log "compiling pause.c failed"; exit 3; }
strip "$bin_dir.tmp/pause" 2>/dev/null || true
echo "v$version" > "$bin_dir.tmp/VERSION"
rm -rf "$bin_dir"
mv "$bin_dir.tmp" "$bin_dir"
rm -rf "$work"
log "built in $(( $(date +%s) - started )) s; binaries in $bin_dir"
echo "$bin_dir"
