#!/usr/bin/env bash
# c_java.sh — Java: com.sun.net.httpserver.HttpServer (8-thread executor) under A
# (namespace with no network), java.net.http.HttpClient under B. Java opens IPv6 sockets
# by default (dual-stack AF_INET6): the server listens on [::] and the client connects
# AF_INET6 to ::ffff:10.89.0.1, both virtual (no -Djava.net.preferIPv4Stack=true).
# program: java (default-jdk-headless): HttpServer + HttpClient
# packages: default-jdk-headless
# checks: 200 async requests from HttpClient over HTTP/1.1, bodies exact; a 4 MiB response sha256; Java's default AF_INET6 sockets (no preferIPv4Stack)
# timeout: 240
. "$(dirname "$0")/lib.sh"
require_built
compat_pkgs default-jdk-headless
start_pair "$COMPAT_NET"
P=$(free_tcp_port)
src=$NC_TMP/java; mkdir -p "$src"
cat >"$src/Srv.java" <<'J'
import com.sun.net.httpserver.*;
import java.net.*;
import java.util.concurrent.*;
public class Srv {
  public static void main(String[] a) throws Exception {
    HttpServer s = HttpServer.create(new InetSocketAddress("0.0.0.0", Integer.parseInt(a[0])), 64);
    byte[] big = new byte[4 << 20];
    for (int i = 0; i < big.length; i++) big[i] = (byte) (i * 31 + 7);
    s.createContext("/", x -> {
      byte[] b = x.getRequestURI().getPath().equals("/big") ? big : ("hello " + x.getRequestURI() + "\n").getBytes();
      x.sendResponseHeaders(200, b.length);
      try (var o = x.getResponseBody()) { o.write(b); }
    });
    s.setExecutor(Executors.newFixedThreadPool(8));
    s.start();
    System.out.println("listening");
  }
}
J
cat >"$src/Cli.java" <<'J'
import java.net.URI;
import java.net.http.*;
import java.security.MessageDigest;
import java.util.*;
import java.util.concurrent.*;
public class Cli {
  public static void main(String[] a) throws Exception {
    HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .executor(Executors.newFixedThreadPool(4)).build();
    List<CompletableFuture<HttpResponse<String>>> fs = new ArrayList<>();
    for (int i = 0; i < 200; i++)
      fs.add(c.sendAsync(HttpRequest.newBuilder(URI.create(a[0] + "/r" + i)).build(), HttpResponse.BodyHandlers.ofString()));
    int ok = 0;
    for (int i = 0; i < 200; i++) {
      var r = fs.get(i).get(60, TimeUnit.SECONDS);
      if (r.statusCode() == 200 && r.body().equals("hello /r" + i + "\n")) ok++;
    }
    System.out.println("http ok " + ok);
    var r = c.send(HttpRequest.newBuilder(URI.create(a[0] + "/big")).build(), HttpResponse.BodyHandlers.ofByteArray());
    byte[] want = new byte[4 << 20];
    for (int i = 0; i < want.length; i++) want[i] = (byte) (i * 31 + 7);
    System.out.println("big " + r.statusCode() + " " + Arrays.equals(want, r.body()));
    System.exit(0);
  }
}
J
log javac -d "$src" "$src/Srv.java" "$src/Cli.java"
spawn_in_ns A java java -cp "$src" Srv "$P"
wait_port B "$COMPAT_NET.1" "$P"
out=$(NC_TIMEOUT=120 log under B java -cp "$src" Cli "http://$COMPAT_NET.1:$P")
printf '%s\n' "$out" >&2
assert_contains "$out" "http ok 200" "java client"
assert_contains "$out" "big 200 true" "java client"
compat_note "Java's default IPv6 stack: dual-stack AF_INET6 server and client"
compat_note "$(java -version 2>&1 | head -n 1)"
note PASS
