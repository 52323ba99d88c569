# Sourced by the bench scripts: one nginx on 127.0.0.1 serving a 612-byte file (about nginx's
# default page), in the foreground with no master process, so its PID is the server's and it is
# stopped by PID.
#   start_nginx DIR DRIVER   sets nginx_pid, nginx_port and nginx_url (http://127.0.0.1:PORT/index.html)
#   nginx_environment FILE   writes a faultline environment whose service `target` is that nginx
#   stop_nginx               (idempotent; call it from the script's EXIT trap)
# DRIVER is build/bench/loadgen_driver (it picks the free port and waits for the server).

nginx_pid=
start_nginx() {
  local dir=$1 driver=$2
  nginx_port=$("$driver" --free-port)
  mkdir -p "$dir/www" "$dir/logs"
  head -c 612 /dev/zero | tr '\0' 'x' > "$dir/www/index.html"
  cat > "$dir/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 120s;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  server {
    listen 127.0.0.1:$nginx_port;
    root $dir/www;
  }
}
CONF
  nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log" &
  nginx_pid=$!
  nginx_url=http://127.0.0.1:$nginx_port/index.html
  if ! "$driver" --wait-url "$nginx_url"; then
    echo "nginx did not answer on $nginx_url:" >&2
    cat "$dir/logs/error.log" >&2
    return 3
  fi
}

nginx_environment() {
  cat > "$1" <<ENV
version: 1
name: bench-nginx
services:
  target:
    url: http://127.0.0.1:$nginx_port
    ready: {path: /index.html}
ENV
}

stop_nginx() {
  if [[ -n "$nginx_pid" ]]; then
    kill "$nginx_pid" 2>/dev/null || true
    wait "$nginx_pid" 2>/dev/null || true
    nginx_pid=
  fi
}
