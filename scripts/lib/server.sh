# Shared by scripts/load-test and scripts/soak (sourced, not run): finds the
# oncall binary and wrk, serves a throwaway store holding the bundled incident
# with `oncall serve`, and samples the server's memory and open files.
#
# The caller defines say(), sets bin (empty, or an absolute path made before
# changing to the repository root) and runs these from the repository root.
# They set tmp, pid, port and base.

# The binary: the caller's, else target/release/oncall, else target/debug/oncall.
server_binary() {
  if [[ -z "$bin" ]]; then
    bin=target/release/oncall
    [[ -x "$bin" ]] || bin=target/debug/oncall
  fi
  if [[ ! -x "$bin" ]]; then
    say "no oncall binary at $bin: build one (cargo build --release) or pass --binary PATH"
    exit 1
  fi
}

# wrk (installed from Debian's packages when root) and curl.
server_tools() {
  if ! command -v wrk >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1 && [[ $(id -u) -eq 0 ]]; then
      say "installing wrk from Debian's packages"
      export DEBIAN_FRONTEND=noninteractive
      apt-get install -y -q wrk >&2 || { apt-get update -q >&2 && apt-get install -y -q wrk >&2; }
    else
      say "wrk is missing and cannot be installed here (needs root and apt-get)"
      exit 1
    fi
  fi
  command -v curl >/dev/null 2>&1 || { say "curl is missing"; exit 1; }
}

# A scratch directory, removed with the server on exit. A caller with more to
# stop sets its own EXIT trap and calls server_cleanup from it.
server_tmp() {
  tmp=$(mktemp -d)
  pid=
  trap server_cleanup EXIT
  trap 'exit 130' INT TERM
}
server_cleanup() {
  if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}

# Ingests $1 into $tmp/home.
server_ingest() {
  local data=$1 rc=0
  say "ingesting $data with $bin"
  "$bin" --home "$tmp/home" ingest "$data" >"$tmp/ingest.log" 2>&1 || rc=$?
  # 3 only means some malformed lines were quarantined, which the data has on purpose.
  if [[ $rc -ne 0 && $rc -ne 3 ]]; then
    say "ingest failed (exit $rc):"; tail -n 20 "$tmp/ingest.log" >&2; exit 1
  fi
}

# Serves $tmp/home on a free port and waits until it answers.
server_start() {
  local p i
  # Nothing answering is taken as free; a rare race only makes the server fail
  # to bind, which the wait below reports.
  port=
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
  done
  [[ -n "$port" ]] || { say "found no free port"; exit 1; }
  base="http://127.0.0.1:$port"

  # --llm off pins evidence mode even when the environment configures an LLM.
  # Rate limits would turn the measured load into 429s; they are tested apart.
  ONCALL_RATE_LIMIT=0 "$bin" --home "$tmp/home" serve --port "$port" --llm off >"$tmp/server.log" 2>&1 &
  pid=$!
  for i in $(seq 600); do
    [[ "$(curl -fsS "$base/healthz" 2>/dev/null)" == ok ]] && break
    if ! kill -0 "$pid" 2>/dev/null || [[ $i -eq 600 ]]; then
      say "server did not come up on $base:"; tail -n 20 "$tmp/server.log" >&2; exit 1
    fi
    sleep 0.1
  done
  say "server $pid on $base"
}

# Fails unless "GET PATH", or "POST PATH" with the JSON body $2, answers 2xx.
server_expect_2xx() {
  local req=$1 body=${2:-} code
  if [[ $req == GET* ]]; then
    code=$(curl -sS -o "$tmp/warm" -w '%{http_code}' "$base${req#GET }")
  else
    code=$(curl -sS -o "$tmp/warm" -w '%{http_code}' -H 'content-type: application/json' -d "$body" "$base${req#POST }")
  fi
  if [[ $code != 2* ]]; then
    say "$req answered $code:"; head -c 500 "$tmp/warm" >&2; echo >&2; exit 1
  fi
}

# Fails, with the end of its log, if the server has died.
server_alive() {
  if ! kill -0 "$pid" 2>/dev/null; then
    say "the server died during the test:"; tail -n 20 "$tmp/server.log" >&2; exit 1
  fi
}

# The server's resident memory in kB, and its open file descriptors.
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$pid/status"; }
fds() { ls "/proc/$pid/fd" | wc -l; }

# A Lua string literal of $1.
lua_string() { printf '"%s"' "$(printf '%s' "$1" | sed 's/[\\"]/\\&/g')"; }
