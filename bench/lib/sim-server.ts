import http from "node:http";
import type { AddressInfo } from "node:net";
import type { SimulatedAws } from "./simulated-aws";

export interface SimServer {
  /** `http://127.0.0.1:<port>`: the value of `AWS_ENDPOINT_URL` for SDK clients in other processes. */
  url: string;
  /** Requests the server could not answer (a bug in the simulation, not an AWS error). */
  failures(): string[];
  close(): Promise<void>;
}

/**
 * The simulated AWS behind a loopback HTTP server, so that SDK clients in other processes — the
 * deployed handlers, bundled, each phase in a process of its own — reach it over real HTTP: each
 * request is read whole, handed to {@link SimulatedAws.serveHttp} and its answer written back.
 * Listens on 127.0.0.1 only, on a free port.
 */
export async function startSimServer(sim: SimulatedAws): Promise<SimServer> {
  const failures: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("error", () => res.destroy());
    req.on("end", () => {
      sim
        .serveHttp({
          method: req.method ?? "GET",
          url: req.url ?? "/",
          headers: req.headers,
          body: Buffer.concat(chunks),
        })
        .then((answer) => {
          const body = typeof answer.body === "string" ? Buffer.from(answer.body, "utf8") : answer.body;
          res.writeHead(answer.status, { "content-length": String(body.length), ...answer.headers });
          res.end(req.method === "HEAD" ? undefined : body);
        })
        .catch((e: unknown) => {
          if (failures.length < 20) failures.push(`${req.method} ${req.url}: ${(e as Error).stack ?? String(e)}`);
          res.writeHead(500, { "content-type": "text/plain" });
          res.end(String(e));
        });
    });
  });
  // Many keep-alive connections from many processes; none should be cut while a client still holds it.
  server.keepAliveTimeout = 60_000;
  server.headersTimeout = 65_000;
  server.requestTimeout = 0;
  server.maxRequestsPerSocket = 0;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    failures: () => [...failures],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
