/**
 * `host:port` addresses, as every eraft listener and dialer takes them.
 * @module
 */

/**
 * Splits `host:port` (IPv6 hosts in brackets keep their colons); an empty
 * host means 127.0.0.1, port 0 means any free port when listening. Throws
 * on a missing or out-of-range port.
 */
export function splitHostPort(addr: string): { hostname: string; port: number } {
  const i = addr.lastIndexOf(":");
  const port = Number(addr.slice(i + 1));
  if (i < 0 || addr.slice(i + 1) === "" || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`address must be host:port, got '${addr}'`);
  }
  return { hostname: addr.slice(0, i) || "127.0.0.1", port };
}

/** Accepts connections until the listener is closed, handing each to `serve`. */
export async function acceptEach(
  listener: Deno.TcpListener,
  serve: (conn: Deno.TcpConn) => void,
): Promise<void> {
  for (;;) {
    let conn: Deno.TcpConn;
    try {
      conn = await listener.accept();
    } catch {
      return; // the listener was closed
    }
    serve(conn);
  }
}
