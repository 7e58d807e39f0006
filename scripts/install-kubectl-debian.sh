#!/bin/sh
# Installs Debian's kubectl (package kubernetes-client, kubectl 1.20) WITHOUT installing the package:
# the package conflicts with a newer /usr/bin/kubectl (e.g. google-cloud-sdk's dispatcher), so it is
# downloaded with `apt-get download` and unpacked with `dpkg -x` into a cache folder,
#   ${TESSERA_KUBECTL_CACHE:-$HOME/.cache/tessera/kubectl}/kubernetes-client/usr/bin/kubectl
# Idempotent: when that kubectl already runs, nothing is downloaded. Prints the kubectl's path on
# stdout (and nothing else); progress goes to stderr. Needs network access to the Debian archive;
# run `apt-get update` first when the package lists are empty (done here when running as root).
# test/support/kubectl.ts looks for the binary at the same place.
set -eu

CACHE="${TESSERA_KUBECTL_CACHE:-${HOME:-/root}/.cache/tessera/kubectl}"
ROOT="$CACHE/kubernetes-client"
BIN="$ROOT/usr/bin/kubectl"

if [ -x "$BIN" ] && "$BIN" version --client >/dev/null 2>&1; then
  echo "$BIN"
  exit 0
fi

command -v apt-get >/dev/null 2>&1 || { echo "install-kubectl-debian: apt-get not found (not a Debian system)" >&2; exit 1; }
command -v dpkg >/dev/null 2>&1 || { echo "install-kubectl-debian: dpkg not found" >&2; exit 1; }

mkdir -p "$CACHE"
DL="$CACHE/download"
rm -rf "$DL"
mkdir -p "$DL"

if ! apt-cache show kubernetes-client >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "install-kubectl-debian: apt-get update (no kubernetes-client in the package lists)" >&2
    apt-get update >&2
  else
    echo "install-kubectl-debian: kubernetes-client is not in the package lists; run 'apt-get update' as root" >&2
    exit 1
  fi
fi

echo "install-kubectl-debian: apt-get download kubernetes-client into $DL" >&2
# apt-get download writes into the current directory; as root it drops privileges to _apt, which
# must be able to write there.
( cd "$DL" && { chown _apt "$DL" 2>/dev/null || true; } && apt-get download kubernetes-client >&2 )
DEB=$(ls "$DL"/kubernetes-client_*.deb 2>/dev/null | head -n 1)
[ -n "$DEB" ] || { echo "install-kubectl-debian: no kubernetes-client_*.deb downloaded" >&2; exit 1; }

TMP="$CACHE/kubernetes-client.tmp"
rm -rf "$TMP"
mkdir -p "$TMP"
dpkg -x "$DEB" "$TMP"
[ -x "$TMP/usr/bin/kubectl" ] || { echo "install-kubectl-debian: $DEB has no usr/bin/kubectl" >&2; exit 1; }
rm -rf "$ROOT"
mv "$TMP" "$ROOT"
cp "$DEB" "$CACHE/" 2>/dev/null || true
rm -rf "$DL"

"$BIN" version --client >&2 || { echo "install-kubectl-debian: $BIN does not run" >&2; exit 1; }
echo "$BIN"
