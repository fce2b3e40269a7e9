#!/usr/bin/env bash
# c_nodejs.sh — Node.js: an http server and a net (raw TCP) server under A (namespace with
# no network), an http client program and a net client under B. libuv makes its sockets
# with libc and accepts with accept4.
# program: nodejs (http server + client, net server)
# packages: nodejs
# checks: http: 200 requests from a node client, 20 concurrent, bodies exact; 4 MiB response sha256; net: 3 clients each echo 2 MiB, sha256 equal
# timeout: 180
. "$(dirname "$0")/lib.sh"
require_built
compat_pkgs nodejs
NODE=$(command -v node || command -v nodejs) || skip "node not installed"
start_pair "$COMPAT_NET"
HP=$(free_tcp_port); NP=$(free_tcp_port)
cat >"$NC_TMP/server.js" <<'JS'
const http = require('http'), net = require('net'), crypto = require('crypto');
const [hp, np] = process.argv.slice(2).map(Number);
const big = crypto.createHash('sha256').update('seed').digest();
const bigBody = Buffer.alloc(4 << 20);
for (let i = 0; i < bigBody.length; i += 32) big.copy(bigBody, i);
http.createServer((req, res) => {
  if (req.url === '/big') { res.end(bigBody); return; }
  res.end('hello ' + req.url + '\n');
}).listen(hp, '0.0.0.0', () => console.log('http listening', hp));
net.createServer(s => s.pipe(s)).listen(np, '0.0.0.0', () => console.log('net listening', np));
JS
cat >"$NC_TMP/client.js" <<'JS'
const http = require('http'), net = require('net'), crypto = require('crypto');
const [host, hp, np] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const agent = new http.Agent({ keepAlive: true, maxSockets: 20 });
function get(path) {
  return new Promise((ok, ko) => http.get({ host, port: hp, path, agent }, res => {
    const parts = []; res.on('data', d => parts.push(d));
    res.on('end', () => ok([res.statusCode, Buffer.concat(parts)]));
  }).on('error', ko));
}
function echo(n) {
  return new Promise((ok, ko) => {
    const data = crypto.randomBytes(n), got = [];
    const s = net.connect(np, host, () => { s.end(data); });
    s.on('data', d => got.push(d)); s.on('error', ko);
    s.on('end', () => {
      const h = b => crypto.createHash('sha256').update(b).digest('hex');
      ok(h(data) === h(Buffer.concat(got)));
    });
  });
}
(async () => {
  const rs = await Promise.all([...Array(200).keys()].map(i => get('/r' + i)));
  let good = rs.filter(([c, b], i) => c === 200 && b.toString() === 'hello /r' + i + '\n').length;
  console.log('http ok', good);
  const [c, b] = await get('/big');
  console.log('big', c, b.length, crypto.createHash('sha256').update(b).digest('hex'));
  const e = await Promise.all([echo(2 << 20), echo(2 << 20), echo(2 << 20)]);
  console.log('echo ok', e.filter(x => x).length);
  agent.destroy();
})().catch(e => { console.error('client error', e); process.exit(1); });
JS
spawn_in_ns A node "$NODE" "$NC_TMP/server.js" "$HP" "$NP"
wait_port B "$COMPAT_NET.1" "$HP"
wait_port B "$COMPAT_NET.1" "$NP"
out=$(NC_TIMEOUT=90 log under B "$NODE" "$NC_TMP/client.js" "$COMPAT_NET.1" "$HP" "$NP")
printf '%s\n' "$out" >&2
want=$("$NODE" -e "const c=require('crypto');const s=c.createHash('sha256').update('seed').digest();const b=Buffer.alloc(4<<20);for(let i=0;i<b.length;i+=32)s.copy(b,i);console.log(c.createHash('sha256').update(b).digest('hex'))")
assert_contains "$out" "http ok 200" "node client"
assert_contains "$out" "big 200 4194304 $want" "node client"
assert_contains "$out" "echo ok 3" "node net client"
compat_note "node $("$NODE" --version)"
note PASS
