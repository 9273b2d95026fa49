# Sourced by podman-check.sh and test-on-arm64.sh: waits for a server of the example model (fraud-mlp) on
# 127.0.0.1:<port> to answer /ping, then sends one request of each protocol and prints the answers.
# Returns non-zero, saying which and what came back, when /ping never answers or a request fails.
#
# Usage: smoke_server <port> <seconds to wait for /ping> [command that prints the server's logs]
smoke_server() {
  local port="$1" wait_s="$2" logs="${3:-}" i
  for i in $(seq 1 "$wait_s"); do
    if curl -fsS "http://127.0.0.1:$port/ping" >/dev/null 2>&1; then break; fi
    if [ "$i" = "$wait_s" ]; then
      echo "no /ping after $wait_s s" >&2
      [ -z "$logs" ] || $logs | tail -20 >&2
      return 1
    fi
    sleep 1
  done
  echo "   /ping: $(curl -sS "http://127.0.0.1:$port/ping")"
  smoke_post "$port" /invocations '{"instances":[[1,0,0,0,0,0,1,1]]}' || return 1
  smoke_post "$port" /v2/models/fraud-mlp/infer '{"inputs":[{"name":"features","shape":[1,8],"datatype":"FP32","data":[0,0,0,0,0,0,0,0]}]}' || return 1
}

# POSTs a JSON body and prints the answer; a 503 (the server sheds load, as a slow emulated start can
# make it) is tried again after a second, up to five times.
smoke_post() {
  local port="$1" path="$2" body="$3" try answer status
  for try in 1 2 3 4 5; do
    answer="$(curl -sS -X POST "http://127.0.0.1:$port$path" -H 'content-type: application/json' -d "$body" -w '\n%{http_code}')" \
      || { echo "POST $path failed: no answer" >&2; return 1; }
    status="${answer##*$'\n'}"
    answer="${answer%$'\n'*}"
    [ "$status" = 503 ] && [ "$try" -lt 5 ] || break
    sleep 1
  done
  if [ "$status" != 200 ]; then
    echo "POST $path failed: $status $answer" >&2
    return 1
  fi
  echo "   $path: $answer"
}
