// npm run start: serves the production build in the foreground at WEB_ADDR
// (host:port, default 127.0.0.1:3000) and stops on SIGTERM/SIGINT. The api
// and cable URLs are read per request by the root layout (src/lib/runtime.ts),
// so one build serves any environment.
import http from "node:http";
import next from "next";

process.env.NEXT_TELEMETRY_DISABLED = "1";
const addr = process.env.WEB_ADDR || "127.0.0.1:3000";
const at = addr.lastIndexOf(":");
const hostname = at > 0 ? addr.slice(0, at) : "127.0.0.1";
const port = Number(at >= 0 ? addr.slice(at + 1) : addr);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error(`WEB_ADDR: want host:port, got ${JSON.stringify(addr)}`);
  process.exit(2);
}

const app = next({ dev: false, hostname, port, dir: new URL("..", import.meta.url).pathname });
const handle = app.getRequestHandler();
await app.prepare();
const server = http.createServer((req, res) => handle(req, res));
server.listen(port, hostname, () => console.log(`web: listening on http://${hostname}:${port}`));

let stopping = false;
for (const sig of ["SIGTERM", "SIGINT"]) {
  process.on(sig, () => {
    if (stopping) process.exit(1);
    stopping = true;
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 3000).unref();
  });
}
