// Uploads a generated blob of the given size as a stream and reports peak RSS growth as JSON.
// Run as a separate process so that other tests cannot move its RSS.
import { RegistryClient } from "../../lib/registry/client.ts";
import { Digester } from "../../lib/content.ts";

const [host, sizeArg] = Deno.args;
const size = Number(sizeArg);
const chunk = 1024 * 1024;

function generate(): ReadableStream<Uint8Array> {
  let sent = 0;
  let seed = 12345;
  return new ReadableStream({
    pull(controller) {
      if (sent >= size) return controller.close();
      const n = Math.min(chunk, size - sent);
      const buf = new Uint8Array(n);
      for (let i = 0; i < n; i += 4) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        buf[i] = seed & 255;
        buf[i + 1] = (seed >> 8) & 255;
      }
      sent += n;
      controller.enqueue(buf);
    },
  });
}

// The digest first (streamed too), so the upload can be monolithic.
const d = await Digester.create();
for await (const c of generate()) d.update(c);
const digest = d.digest();

const base = Deno.memoryUsage().rss;
let peak = base;
const timer = setInterval(() => peak = Math.max(peak, Deno.memoryUsage().rss), 20);
await using client = new RegistryClient();
const repo = client.repository(host, "big/blob");
await repo.uploadBlob(() => generate(), { digest, size });
const head = await repo.headBlob(digest);
// Read it back as a stream too: download is verified as it flows.
const back = await Digester.create();
for await (const c of await repo.fetchBlob({ digest, size })) back.update(c);
clearInterval(timer);
peak = Math.max(peak, Deno.memoryUsage().rss);
if (back.digest() !== digest) throw new Error("read-back digest differs");
console.log(JSON.stringify({ digest, size, remoteSize: head?.size, growth: peak - base }));
