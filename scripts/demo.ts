/**
 * `deno task demo`: the main job on an embedded default. Starts a local registry (Debian's
 * docker-registry) on 127.0.0.1, pushes six per-arch images into six repositories, pushes a
 * multi-platform OCI index from them with the CLI (cross-repository mounts), then inspects it and
 * prints its platforms. Everything it starts is stopped at the end.
 */

import { HarnessError, pushFixtures, startRegistry } from "./harness/mod.ts";
import { main } from "../cli.ts";

const say = (s: string) => console.log(`\n\x1b[1m== ${s}\x1b[0m`);

let reg;
try {
  reg = await startRegistry();
} catch (e) {
  if (e instanceof HarnessError) {
    console.error(`demo: ${e.message}`);
    Deno.exit(1);
  }
  throw e;
}
try {
  say(`Registry up at ${reg.host}; pushing one image per platform, one repository each`);
  const set = await pushFixtures(reg, {
    layout: "repos",
    repository: "demo/app",
    format: "docker",
  });
  for (const img of set.images) {
    console.log(`  ${reg.host}/${img.repository}:${img.tag}  ${img.digest}`);
  }

  const spec = await Deno.makeTempFile({ prefix: "demo-", suffix: ".yaml" });
  await Deno.writeTextFile(
    spec,
    [
      `image: ${reg.host}/demo/multi:1.0`,
      `tags: [latest]`,
      `annotations:`,
      `  org.opencontainers.image.description: manifest-tool demo`,
      `manifests:`,
      ...set.images.map((i) => `  - image: ${reg!.host}/${i.repository}:${i.tag}`),
      "",
    ].join("\n"),
  );
  say(
    `manifest-tool push --type oci from-spec ${spec}   (platforms read from each image's config)`,
  );
  console.log(await Deno.readTextFile(spec));
  let code = await main(["--plain-http", "push", "--type", "oci", "from-spec", spec]);
  if (code !== 0) throw new Error(`push failed with exit code ${code}`);
  await Deno.remove(spec);

  say(`manifest-tool inspect ${reg.host}/demo/multi:1.0`);
  code = await main(["--plain-http", "inspect", `${reg.host}/demo/multi:1.0`]);
  if (code !== 0) throw new Error(`inspect failed with exit code ${code}`);

  say(`manifest-tool platforms ${reg.host}/demo/multi:latest`);
  code = await main(["--plain-http", "platforms", `${reg.host}/demo/multi:latest`]);
  if (code !== 0) throw new Error(`platforms failed with exit code ${code}`);
  say("Done: the registry is stopped and its storage removed");
} finally {
  await reg.stop();
}
