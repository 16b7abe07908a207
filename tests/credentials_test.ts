import assert from "node:assert/strict";
import { CredentialStore } from "../lib/registry/credentials.ts";

Deno.test("CredentialStore gives flag credentials only to the registries they are for", async () => {
  const store = new CredentialStore({
    username: "u",
    password: "p",
    flagRegistries: ["127.0.0.1:5000"],
    noConfig: true,
  });
  assert.deepEqual(await store.get("127.0.0.1:5000"), { username: "u", password: "p" });
  assert.equal(await store.get("127.0.0.1:5001"), undefined);
  assert.equal(await store.get("docker.io"), undefined);
  // How to log in, in error messages: the flags only where they go.
  assert.equal(
    store.loginHint("127.0.0.1:5000"),
    "--username/--password or docker login 127.0.0.1:5000",
  );
  assert.equal(
    store.loginHint("127.0.0.1:5001"),
    "docker login 127.0.0.1:5001; --username/--password go to 127.0.0.1:5000 only",
  );
  assert.equal(new CredentialStore({ noConfig: true }).loginHint("r.io"), "docker login r.io");
});

Deno.test("CredentialStore reads Docker Hub's https://index.docker.io/v1/ key for docker.io", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${dir}/config.json`,
    JSON.stringify({ auths: { "https://index.docker.io/v1/": { auth: btoa("hub:pw") } } }),
  );
  const store = new CredentialStore({ env: (n) => (n === "DOCKER_CONFIG" ? dir : undefined) });
  assert.deepEqual(await store.get("docker.io"), { username: "hub", password: "pw" });
  assert.equal(await store.get("ghcr.io"), undefined);
  await Deno.remove(dir, { recursive: true });
});
