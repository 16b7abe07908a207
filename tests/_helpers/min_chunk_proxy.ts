/**
 * A registry that asks for chunks of at least `min` bytes (`OCI-Chunk-Min-Length`, which
 * distribution never sends): a proxy in front of a harness registry adds the header to the answers
 * that open upload sessions and refuses (416, as the spec says) a `PATCH` that follows a shorter
 * one in the same session: only the last chunk may be short.
 */
import { startProxy } from "../../scripts/harness/mod.ts";
import type { RunningProxy } from "../../scripts/harness/proxy.ts";

/** The proxy, and what the client sent: each `PATCH` as its length, `-1` for one without range. */
export interface MinChunkRegistry {
  proxy: RunningProxy;
  patches: number[];
}

/** Starts the proxy in front of `upstream` (a harness registry's URL). */
export async function startMinChunkRegistry(
  upstream: string,
  min: number,
): Promise<MinChunkRegistry> {
  const patches: number[] = [];
  const shortSeen = new Set<string>();
  const proxy = await startProxy({
    upstream,
    async intercept({ request, forward }) {
      const url = new URL(request.url);
      if (request.method === "POST" && /\/blobs\/uploads\/$/.test(url.pathname)) {
        const res = await forward();
        const headers = new Headers(res.headers);
        headers.set("oci-chunk-min-length", String(min));
        return new Response(res.body, { status: res.status, headers });
      }
      if (request.method !== "PATCH") return undefined;
      const range = /^(\d+)-(\d+)$/.exec(request.headers.get("content-range") ?? "");
      const length = range ? Number(range[2]) - Number(range[1]) + 1 : -1;
      patches.push(length);
      if (shortSeen.has(url.pathname)) {
        await request.body?.cancel();
        return Response.json({
          errors: [{ code: "BLOB_UPLOAD_INVALID", message: `chunk after one under ${min} bytes` }],
        }, { status: 416 });
      }
      if (length >= 0 && length < min) shortSeen.add(url.pathname);
      return undefined;
    },
  });
  return { proxy, patches };
}
