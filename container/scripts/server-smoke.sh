# Sourced by podman-check.sh and test-on-arm64.sh: waits for a server of the example model (fraud-mlp) on
# 127.0.0.1:<port> to answer /ping, then sends one request of each protocol and prints the answers.
# Returns non-zero, saying which, when /ping never answers or a request fails.
#
# Usage: smoke_server <port> <seconds to wait for /ping> [command that prints the server's logs]
smoke_server() {
  local port="$1" wait_s="$2" logs="${3:-}" i answer
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
  answer="$(curl -fsS -X POST "http://127.0.0.1:$port/invocations" -H 'content-type: application/json' \
    -d '{"instances":[[1,0,0,0,0,0,1,1]]}')" || { echo "POST /invocations failed" >&2; return 1; }
  echo "   /invocations: $answer"
  answer="$(curl -fsS -X POST "http://127.0.0.1:$port/v2/models/fraud-mlp/infer" -H 'content-type: application/json' \
    -d '{"inputs":[{"name":"features","shape":[1,8],"datatype":"FP32","data":[0,0,0,0,0,0,0,0]}]}')" \
    || { echo "POST /v2/models/fraud-mlp/infer failed" >&2; return 1; }
  echo "   /v2/models/fraud-mlp/infer: $answer"
}
