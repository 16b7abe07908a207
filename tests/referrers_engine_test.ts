// push --referrers on the write engine: a referrer is one more node of the run's transfer graph,
// so what it shares with the images of the index is handled once per target repository and run.
// Counted by the harness proxy in front of a real registry.
import assert from "node:assert/strict";
import { pushFixtures, startProxy, startRegistry } from "../scripts/harness/mod.ts";
import { fallbackIndex, pushBlob, putManifest } from "./_helpers/oci_push.ts";
import { runCli } from "./_helpers/cli.ts";

const SBOM = "application/spdx+json";
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const EMPTY = "application/vnd.oci.empty.v1+json";

Deno.test("push --referrers mounts a blob an image shares with its referrer once per target repository", async () => {
  await using reg = await startRegistry();
  const set = await pushFixtures(reg, {
    repository: "src/app",
    platforms: [{ os: "linux", architecture: "amd64" }],
    seed: "shared",
  });
  const img = set.images[0];
  const layer = JSON.parse(new TextDecoder().decode(img.manifest)).layers[0];
  // A referrer whose one layer is the image's own layer (an artifact may name any blob).
  const config = await pushBlob(reg.url, "src/app", new TextEncoder().encode("{}"), EMPTY);
  const sbom = await putManifest(reg.url, "src/app", undefined, {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: SBOM,
    config,
    layers: [layer],
    subject: { mediaType: img.mediaType, digest: img.digest, size: img.size },
  });
  await putManifest(reg.url, "src/app", img.digest.replace(":", "-"), {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [{
      mediaType: OCI_MANIFEST,
      digest: sbom.digest,
      size: sbom.size,
      artifactType: SBOM,
    }],
  });
  const mounts: string[] = [];
  await using proxy = await startProxy({
    upstream: reg.url,
    intercept: ({ request }) => {
      const from = new URL(request.url).searchParams.get("mount");
      if (request.method === "POST" && from) mounts.push(from);
      return undefined;
    },
  });
  const spec = await Deno.makeTempFile({ prefix: "mt-spec-", suffix: ".yaml" });
  try {
    await Deno.writeTextFile(
      spec,
      `image: ${proxy.host}/dst/app:1\nmanifests:\n  - image: ${proxy.host}/src/app:${img.tag}\n`,
    );
    const r = await runCli(["push", "--type", "oci", "from-spec", "--referrers", spec]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(`Referrers: 1 in ${proxy.host}/dst/app, 1 copied`), r.stdout);
  } finally {
    await Deno.remove(spec);
  }
  assert.equal(mounts.filter((d) => d === layer.digest).length, 1, `mounts: ${mounts}`);
  assert.equal(mounts.filter((d) => d === config.digest).length, 1, `mounts: ${mounts}`);
  const fb = await fallbackIndex(reg.url, "dst/app", img.digest);
  assert.deepEqual(fb?.manifests.map((d) => d.digest), [sbom.digest]);
  const res = await fetch(`${reg.url}/v2/dst/app/blobs/${layer.digest}`, { method: "HEAD" });
  assert.equal(res.status, 200);
});
