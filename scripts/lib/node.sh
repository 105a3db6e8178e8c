# shellcheck shell=bash
# Sourced by the scripts: puts a Node.js new enough for the front end on PATH. Vite needs
# 20.19+ or 22.12+: Debian 13's nodejs is; Debian 12's (18) is not, and then scripts/setup
# installs the official binary of the current LTS line, which the npm registry carries as a
# package (node-linux-<arch>), and a current npm beside it, under .tools/node.

# The LTS line to install where the system's Node is too old, and an npm made for it (Debian
# 12's npm 9.2 predates it and warns on every run).
node_tools_version=26.12.1
npm_tools_version=12.2.3
# shellcheck disable=SC2034 # read by scripts/setup
node_tools_arch=$(uname -m | sed 's/x86_64/x64/;s/aarch64/arm64/')
node_tools_bin="$PWD/.tools/node/node_modules/.bin"

if [ -x "$node_tools_bin/node" ]; then
  PATH="$node_tools_bin:$PATH"
  # The official binary trusts only the CA list compiled into it, unlike Debian's Node, which
  # reads /etc/ssl/certs; behind a TLS-inspecting proxy whose CA the system trusts, npm would
  # then fail with SELF_SIGNED_CERT_IN_CHAIN. This adds the system's store to the built-in one.
  export NODE_USE_SYSTEM_CA=1
fi
export PATH

node_new_enough() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 12) || (a === 20 && b >= 19) ? 0 : 1)'
}

# True when .tools/node holds the pinned Node and npm (an older install is replaced).
node_tools_current() {
  [ -x "$node_tools_bin/node" ] && [ -x "$node_tools_bin/npm" ] &&
    [ "$("$node_tools_bin/node" --version 2>/dev/null)" = "v$node_tools_version" ] &&
    [ "$("$node_tools_bin/npm" --version 2>/dev/null)" = "$npm_tools_version" ]
}
