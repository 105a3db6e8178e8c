# Sourced by the scripts: puts a Node.js new enough for the front end (20.19+) on PATH.
# Debian 13's nodejs is; Debian 12's (18) is not, and then the project installs the official
# Node binary that the npm registry carries as a package (node-linux-<arch>) under .tools/.

node_tools="$PWD/.tools/node/node_modules/node-linux-$(uname -m | sed 's/x86_64/x64/;s/aarch64/arm64/')/bin"
[ -x "$node_tools/node" ] && PATH="$node_tools:$PATH"
export PATH

node_new_enough() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'
}
