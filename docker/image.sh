#!/usr/bin/env bash
# Builds Slipstream's container image with the local engine (called by `bin/slipstream image ...`).
#
#   image.sh build [--base IMAGE] [--tag TAG] [--jar PATH]
#       the image from docker/Dockerfile and the prebuilt jar (default dist/target/slipstream.jar, plus
#       dist/target/slipstream.jsa when present). Without --base: local/slipstream-base:bookworm, built first
#       when it is missing (see `base`). Default tag: local/slipstream:dev. APPCDS=off in the environment
#       builds without a class-data-sharing archive (default auto: see docker/Dockerfile).
#   image.sh base [--tag TAG] [--mirror URL]
#       the offline base: a debootstrap'ed Debian bookworm (minbase) imported as local/debian:bookworm, then
#       Debian's openjdk-17-jre-headless on top (default tag local/slipstream-base:bookworm).
#   image.sh save [--tag TAG] [--out FILE]
#       writes the image as a tar archive (for `ctr -n k8s.io images import FILE` on a Kubernetes node).
#   image.sh import-containerd [--tag TAG] [--address SOCKET]
#       saves the image and imports it into a containerd's k8s.io namespace (pods then use the fully qualified
#       name docker.io/local/slipstream:dev with imagePullPolicy: Never).
# The engine: DOCKER_HOST, else the local socket; docker/engine.sh starts Debian's dockerd when none answers.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"

base_default=local/slipstream-base:bookworm
tag=local/slipstream:dev
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

die() { echo "slipstream image: $*" >&2; exit 2; }

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

build_base() {
  local base_tag="$1"
  command -v debootstrap >/dev/null || die "debootstrap is not installed (expected: apt-get install -y debootstrap)"
  [ "$(id -u)" -eq 0 ] || die "building the base with debootstrap needs root"
  local work
  work="$(mktemp -d "${TMPDIR:-/tmp}/slipstream-rootfs.XXXXXX")"
  trap 'rm -rf "$work"' RETURN
  echo "slipstream image: debootstrap bookworm (minbase) from $mirror ..." >&2
  debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -n 20 "$work/debootstrap.log" >&2; die "debootstrap failed (log above)"; }
  rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"*
  tar -C "$work/rootfs" -c . | docker import - local/debian:bookworm >/dev/null
  echo "slipstream image: adding openjdk-17-jre-headless -> $base_tag ..." >&2
  docker build --network host -q --build-arg ROOTFS_IMAGE=local/debian:bookworm \
    --build-arg DEBIAN_MIRROR="$mirror" -t "$base_tag" "$here/base" >/dev/null
  echo "slipstream image: base $base_tag built" >&2
}

cmd="${1:-}"
[ -n "$cmd" ] || die "usage: bin/slipstream image build|base|save|import-containerd [options] (see docker/image.sh)"
shift

base=""
jar="$root/dist/target/slipstream.jar"
out=""
address=/run/containerd/containerd.sock
base_tag="$base_default"
while [ $# -gt 0 ]; do
  case "$1" in
    --base) [ $# -ge 2 ] || die "--base needs an image name"; base="$2"; shift 2 ;;
    --tag) [ $# -ge 2 ] || die "--tag needs an image name"; tag="$2"; base_tag="$2"; shift 2 ;;
    --jar) [ $# -ge 2 ] || die "--jar needs a path"; jar="$2"; shift 2 ;;
    --mirror) [ $# -ge 2 ] || die "--mirror needs a URL"; mirror="$2"; shift 2 ;;
    --out) [ $# -ge 2 ] || die "--out needs a file"; out="$2"; shift 2 ;;
    --address) [ $# -ge 2 ] || die "--address needs a socket path"; address="$2"; shift 2 ;;
    *) die "unknown option '$1' for '$cmd' (expected: --base, --tag, --jar, --mirror, --out, --address)" ;;
  esac
done

case "$cmd" in
  base|build|save|import-containerd) ;;
  *) die "unknown command '$cmd' (expected: build, base, save, import-containerd)" ;;
esac
"$here/engine.sh" || die "no container engine (see the message above)"

case "$cmd" in
  base)
    [ "$base_tag" != local/slipstream:dev ] || base_tag="$base_default"
    build_base "$base_tag" ;;
  build)
    [ -f "$jar" ] || die "$jar is missing (build it first: mvn -B -q -DskipTests package -pl dist -am)"
    if [ -z "$base" ]; then
      base="$base_default"
      have_image "$base" || build_base "$base"
    fi
    ctx="$(mktemp -d "${TMPDIR:-/tmp}/slipstream-image.XXXXXX")"
    trap 'rm -rf "$ctx"' EXIT
    cp -p "$jar" "$ctx/slipstream.jar"
    jsa="$(dirname "$jar")/slipstream.jsa"
    [ -f "$jsa" ] && cp -p "$jsa" "$ctx/slipstream.jsa"
    cp -p "$here/entrypoint.sh" "$ctx/entrypoint.sh"
    previous="$(docker image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)"
    echo "slipstream image: building $tag FROM $base ..." >&2
    log="$ctx.log"
    if ! docker build --network host --build-arg BASE_IMAGE="$base" --build-arg APPCDS="${APPCDS:-auto}" \
        -f "$here/Dockerfile" -t "$tag" "$ctx" >"$log" 2>&1; then
      tail -n 30 "$log" >&2
      rm -f "$log"
      die "docker build failed (output above)"
    fi
    grep -h '^AppCDS:' "$log" >&2 || true
    rm -f "$log"
    # The image this tag named before is now untagged: remove it (and its build layers), unless in use.
    current="$(docker image inspect -f '{{.Id}}' "$tag")"
    if [ -n "$previous" ] && [ "$previous" != "$current" ]; then
      docker rmi "$previous" >/dev/null 2>&1 || true
    fi
    docker images -q -f dangling=true -f label=io.slipstream.stage=assemble | xargs -r docker rmi >/dev/null 2>&1 || true
    echo "slipstream image: built $tag ($(docker image inspect -f '{{.Size}}' "$tag") bytes)" >&2
    echo "$tag" ;;
  save)
    have_image "$tag" || die "no image $tag (build it first: bin/slipstream image build)"
    [ -n "$out" ] || out="${TMPDIR:-/tmp}/$(echo "$tag" | tr '/:' '__').tar"
    docker save -o "$out" "$tag"
    echo "$out" ;;
  import-containerd)
    have_image "$tag" || die "no image $tag (build it first: bin/slipstream image build)"
    command -v ctr >/dev/null || die "ctr is not installed (expected: apt-get install -y containerd)"
    archive="$(mktemp "${TMPDIR:-/tmp}/slipstream-image.XXXXXX.tar")"
    trap 'rm -f "$archive"' EXIT
    docker save -o "$archive" "$tag"
    ctr --address "$address" -n k8s.io images import "$archive" >&2
    echo "docker.io/$tag" ;;
  *) die "unknown command '$cmd' (expected: build, base, save, import-containerd)" ;;
esac
