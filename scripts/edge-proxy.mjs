#!/usr/bin/env node
// A minimal TCP failover proxy in front of ib-stream edges, for trying the
// scale-out on one machine (README "Scale-out"): each connection goes to
// the first edge, in the order given, that accepts it; an edge that is down
// is skipped. In production put a real load balancer (haproxy, nginx,
// a cloud LB) in front of the edges instead; any will do, since a client
// may resume on any edge.
//
//   node scripts/edge-proxy.mjs --listen 127.0.0.1:8000 127.0.0.1:8101 127.0.0.1:8102
//
// Prints one JSON line {"event":"listening","host":..,"port":..} on stdout,
// then one line per connection on stderr (which edge took it).
import net from "node:net";

function parseHostPort(s, what) {
  const m = /^(.+):(\d+)$/.exec(s || "");
  if (!m || Number(m[2]) > 65535) {
    console.error(`edge-proxy: ${what} '${s}' is not HOST:PORT`);
    process.exit(2);
  }
  return { host: m[1], port: Number(m[2]) };
}

const args = process.argv.slice(2);
const at = args.indexOf("--listen");
if (at < 0 || args.length < at + 3) {
  console.error("usage: edge-proxy.mjs --listen HOST:PORT EDGE_HOST:PORT [EDGE_HOST:PORT ...]");
  process.exit(2);
}
const listen = parseHostPort(args[at + 1], "--listen");
const edges = args.filter((_, i) => i !== at && i !== at + 1).map((e) => parseHostPort(e, "edge"));

/** Connects to the first edge from `i` on that accepts; null when none does. */
function connectFrom(i, tried = 0) {
  return new Promise((resolve) => {
    if (tried >= edges.length) return resolve(null);
    const edge = edges[i % edges.length];
    const s = net.connect(edge.port, edge.host);
    s.once("connect", () => resolve({ socket: s, edge }));
    s.once("error", () => {
      s.destroy();
      resolve(connectFrom(i + 1, tried + 1));
    });
  });
}

const server = net.createServer(async (client) => {
  client.pause();
  client.on("error", () => {});
  const up = await connectFrom(0);
  if (!up) {
    client.end("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    return;
  }
  console.error(`edge-proxy: ${client.remoteAddress}:${client.remotePort} -> ` +
                `${up.edge.host}:${up.edge.port}`);
  up.socket.on("error", () => client.destroy());
  client.on("close", () => up.socket.destroy());
  up.socket.on("close", () => client.destroy());
  client.pipe(up.socket);
  up.socket.pipe(client);
  client.resume();
});
server.listen(listen.port, listen.host, () => {
  const a = server.address();
  console.log(JSON.stringify({ event: "listening", host: a.address, port: a.port }));
});
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(0));
