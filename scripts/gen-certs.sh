#!/usr/bin/env bash
# Development certificates for running meshchat over TLS: a CA and one certificate per
# node, signed by it, naming 127.0.0.1 and localhost. Not for production: there, use your
# own CA and give each node a certificate naming its advertised host (docs/operations.md).
set -euo pipefail

usage() {
  cat <<'EOF_USAGE'
usage: scripts/gen-certs.sh [--out DIR] [--days N] [--san LIST] [NAME ...]

Writes into DIR (default config/tls):
  ca.crt, ca.key            the development CA (kept and reused when present)
  NAME.crt, NAME.key        a certificate per NAME (default node-a node-b node-c), signed
                            by the CA, for both server and client use (peers use mutual TLS)

  --days N     validity of the certificates (default 365)
  --san LIST   subjectAltName of the certificates (default IP:127.0.0.1,DNS:localhost);
               add the addresses nodes advertise, e.g. IP:10.0.0.1,DNS:chat-a.example
EOF_USAGE
}

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
out="$ROOT/config/tls"
days=365
san="IP:127.0.0.1,DNS:localhost"
names=()
while (($# > 0)); do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --days) days=$2; shift 2 ;;
    --san) san=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    -*) usage >&2; exit 2 ;;
    *) names+=("$1"); shift ;;
  esac
done
((${#names[@]} > 0)) || names=(node-a node-b node-c)
command -v openssl >/dev/null 2>&1 || {
  echo "gen-certs: openssl not found (Debian: apt-get install -y openssl)" >&2
  exit 1
}
mkdir -p "$out"
umask 077

# P-256 keys: small and fast to handshake, accepted everywhere TLS 1.2+ is.
readonly CURVE=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)

if [[ ! -f $out/ca.crt || ! -f $out/ca.key ]]; then
  openssl req -x509 "${CURVE[@]}" -keyout "$out/ca.key" -out "$out/ca.crt" -days "$((days * 2))" \
    -subj "/CN=meshchat development CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  echo "gen-certs: wrote $out/ca.crt (the CA clients and peers trust) and $out/ca.key"
fi

ext=$(mktemp)
trap 'rm -f "$ext" "$out"/*.csr' EXIT
cat >"$ext" <<EOF_EXT
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=$san
EOF_EXT

for name in "${names[@]}"; do
  openssl req -new "${CURVE[@]}" -keyout "$out/$name.key" -out "$out/$name.csr" -subj "/CN=$name" 2>/dev/null
  openssl x509 -req -in "$out/$name.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" -CAcreateserial \
    -days "$days" -sha256 -extfile "$ext" -out "$out/$name.crt" 2>/dev/null
  echo "gen-certs: wrote $out/$name.crt and $out/$name.key ($san, $days days)"
done
chmod 644 "$out"/*.crt
