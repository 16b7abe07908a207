// Registry text never reaches the terminal raw (issue 13.2): a real registry (distribution) holds
// an index and images whose platform fields, media types, annotations and config fields carry
// ESC/OSC/CSI, CR, BEL, C1 controls and bidi overrides, pushed raw by the test; every view of
// `inspect` and `platforms`, and the error lines, must show them escaped.
import assert from "node:assert/strict";
import { startRegistry } from "../scripts/harness/mod.ts";
import { errorLine, jsonText } from "../lib/format/escape.ts";
import { ANSI } from "../lib/format/colors.ts";
import { formatHuman } from "../lib/format/human.ts";
import type { InspectedImage } from "../lib/inspect.ts";
import { pushBlob, putManifest } from "./_helpers/oci_push.ts";
import { runCli } from "./_helpers/cli.ts";

const enc = new TextEncoder();
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";

// One of each kind of character a terminal acts on.
const OSC = "\x1b]0;pwned\x07"; // retitles the terminal (ESC … BEL)
const CSI = "\x1b[2J"; // clears the screen
const CR = "\r"; // rewrites the line
const C1 = "\x9b31m"; // one-byte CSI
const BIDI = "\u202e\u061c"; // right-to-left override, Arabic letter mark
const DEL = "\x7f";

/** Any character that acts on a terminal, except the line feeds between lines. */
// deno-lint-ignore no-control-regex -- control characters are what is looked for
const RAW = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;

async function hostileContent(base: string, repo: string) {
  const config = await pushBlob(
    base,
    repo,
    enc.encode(JSON.stringify({
      os: `linux${CSI}`,
      architecture: `amd64${CR}`,
      variant: `v1${OSC}`,
      "os.version": `10${C1}`,
      rootfs: { type: "layers", diff_ids: [] },
    })),
    OCI_CONFIG,
  );
  const layer = await pushBlob(base, repo, enc.encode("layer"), `application/x-layer${OSC}`);
  const image = await putManifest(base, repo, "image", {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config,
    layers: [layer],
  });
  const index = await putManifest(base, repo, "index", {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [
      {
        mediaType: OCI_MANIFEST,
        digest: image.digest,
        size: image.size,
        platform: {
          os: `linux${BIDI}`,
          architecture: `arm${CSI}`,
          variant: `v7${OSC}`,
          "os.version": `1${C1}`,
          "os.features": [`win32k${CR}`],
          features: [`sse4${DEL}`],
        },
      },
      // An entry of a type inspect cannot show: its media type is printed as it is named.
      { mediaType: `application/x-unknown${CSI}`, digest: image.digest, size: image.size },
      {
        mediaType: OCI_MANIFEST,
        digest: image.digest,
        size: image.size,
        platform: { os: "unknown", architecture: "unknown" },
        annotations: {
          "vnd.docker.reference.type": "attestation-manifest",
          "vnd.docker.reference.digest": `sha256:${OSC}`,
        },
      },
    ],
  });
  return { image, index };
}

function assertEscaped(text: string, label: string): void {
  const m = RAW.exec(text);
  assert.equal(m, null, `${label}: raw U+${m?.[0].codePointAt(0)?.toString(16)} in ${text}`);
}

Deno.test("inspect and platforms print every registry-sourced field escaped", async () => {
  await using reg = await startRegistry();
  const repo = "hostile/app";
  await hostileContent(reg.url, repo);
  const ref = `${reg.host}/${repo}`;

  const human = await runCli(["inspect", `${ref}:index`]);
  assert.equal(human.code, 0, human.stderr);
  assertEscaped(human.stdout, "inspect (index)");
  for (
    const shown of [
      "OS: linux\\u{202e}\\u{61c}",
      "Arch: arm\\u{1b}[2J",
      "Variant: v7\\u{1b}]0;pwned\\u{7}",
      "OS Vers: 1\\u{9b}31m",
      "OS Feat: [win32k\\u{d}]",
      "Feature: sse4\\u{7f}",
      "type = application/x-layer\\u{1b}]0;pwned\\u{7}",
      "Unknown media type for further display: application/x-unknown\\u{1b}[2J",
      "Attestation for digest: sha256:\\u{1b}]0;pwned\\u{7}",
    ]
  ) assert.ok(human.stdout.includes(shown), `missing ${shown} in\n${human.stdout}`);

  const image = await runCli(["inspect", `${ref}:image`]);
  assert.equal(image.code, 0, image.stderr);
  assertEscaped(image.stdout, "inspect (image)");
  assert.ok(image.stdout.includes("OS: linux\\u{1b}[2J"), image.stdout);
  assert.ok(image.stdout.includes("Arch: amd64\\u{d}"), image.stdout);

  for (const args of [["--raw"], ["--expand-config"]]) {
    const raw = await runCli(["inspect", ...args, `${ref}:index`]);
    assert.equal(raw.code, 0, raw.stderr);
    assertEscaped(raw.stdout, `inspect ${args[0]}`);
    // Still JSON, and the values parse back exactly as the registry sent them.
    const doc = JSON.parse(raw.stdout);
    assert.equal(doc.manifests[0].platform.os, `linux${BIDI}`);
    assert.equal(doc.manifests[0].platform["os.version"], `1${C1}`);
    assert.equal(doc.manifests[0].platform.features[0], `sse4${DEL}`);
  }

  const platforms = await runCli(["platforms", `${ref}:index`, `${ref}:image`]);
  assert.equal(platforms.code, 0, platforms.stderr);
  assertEscaped(platforms.stdout, "platforms");
  assert.ok(
    platforms.stdout.includes("- linux\\u{202e}\\u{61c}/arm\\u{1b}[2J/v7"),
    platforms.stdout,
  );
  const json = await runCli(["platforms", "--json", `${ref}:index`, `${ref}:image`]);
  assert.equal(json.code, 0, json.stderr);
  assertEscaped(json.stdout, "platforms --json");
  assert.equal(JSON.parse(json.stdout)[1].platforms[0], `linux${CSI}/amd64${CR}/v1${OSC}:10${C1}`);

  // manifest inspect prints docker's JSON: the same documents, nothing raw.
  const store = await Deno.makeTempDir({ prefix: "mt-escape-store-" });
  try {
    for (const args of [["inspect"], ["inspect", "-v"]]) {
      for (const tag of ["index", "image"]) {
        const r = await runCli(["manifest", ...args, `${ref}:${tag}`], {
          env: { DOCKER_CONFIG: store },
        });
        assert.equal(r.code, 0, r.stderr);
        // docker indents an image's own bytes with tabs: JSON whitespace, not content.
        assertEscaped(r.stdout.replace(/^\t+/gm, ""), `manifest ${args.join(" ")} ${tag}`);
        JSON.parse(r.stdout);
      }
    }
  } finally {
    await Deno.remove(store, { recursive: true });
  }

  // verify's JSON quotes registry text in its problems: exact JSON, nothing raw.
  const verified = await runCli(["verify", "--json", `${ref}:index`]);
  assertEscaped(verified.stdout, "verify --json");
  assert.ok(verified.stdout.includes("\\u202e\\u061c"), verified.stdout);
  JSON.parse(verified.stdout);
});

Deno.test("inspect --platform error lines quoting registry platforms are escaped", async () => {
  await using reg = await startRegistry();
  const repo = "hostile/err";
  await hostileContent(reg.url, repo);
  const ref = `${reg.host}/${repo}`;
  const missing = await runCli(["inspect", "--platform", "linux/s390x", `${ref}:index`]);
  assert.equal(missing.code, 1);
  assertEscaped(missing.stderr, "inspect --platform (index)");
  assert.ok(missing.stderr.includes("it has linux\\u{202e}\\u{61c}/arm\\u{1b}[2J"), missing.stderr);
  const single = await runCli(["inspect", "--platform", "linux/s390x", `${ref}:image`]);
  assert.equal(single.code, 1);
  assertEscaped(single.stderr, "inspect --platform (image)");
  assert.ok(single.stderr.includes("single image for linux\\u{1b}[2J"), single.stderr);
});

Deno.test("formatHuman() in colour escapes the values and keeps only its own colour codes", () => {
  const result: InspectedImage = {
    kind: "image",
    descriptor: { mediaType: `${OCI_MANIFEST}${CSI}`, digest: `sha256:${OSC}`, size: 1 },
    manifest: {
      schemaVersion: 2,
      config: { mediaType: OCI_CONFIG, digest: "sha256:cc", size: 2 },
      layers: [{ mediaType: `x${BIDI}`, digest: `sha256:${C1}`, size: 3 }],
    },
    bytes: new Uint8Array(1),
    config: { os: `linux${CR}`, architecture: `arm${DEL}`, variant: `v7${OSC}` },
  };
  const text = formatHuman(`r.example/app${CSI}`, result, ANSI);
  // deno-lint-ignore no-control-regex -- our own colour codes are what is removed
  const withoutOurs = text.replace(/\x1b\[(1;3[1-4]|0)m/g, "");
  assertEscaped(withoutOurs, "formatHuman(ANSI)");
  assert.ok(withoutOurs.includes("Variant: v7\\u{1b}]0;pwned\\u{7}"), withoutOurs);
});

Deno.test("errorLine() escapes every control character of a message and folds its lines", () => {
  const e = new Error(`unsupported media type "a${OSC}b${C1}${BIDI}"\n  in ${CR}x`);
  assert.equal(
    errorLine(e),
    'unsupported media type "a\\u{1b}]0;pwned\\u{7}b\\u{9b}31m\\u{202e}\\u{61c}" in \\u{d}x',
  );
  assert.equal(errorLine("x".repeat(5000)).length, 5000, "messages are not cut");
});

Deno.test("jsonText() writes DEL, C1 and bidi characters as \\u escapes and stays exact", () => {
  const value = { a: `x${DEL}${C1}${BIDI}\u2066\u2028`, b: [1, `${CSI}`] };
  const text = jsonText(value, 2);
  assertEscaped(text.replaceAll("\n", ""), "jsonText");
  assert.deepEqual(JSON.parse(text), value);
  assert.ok(text.includes("x\\u007f\\u009b31m\\u202e\\u061c\\u2066\\u2028"));
});

Deno.test("makeLogger() prints warnings (each once) and debug lines escaped, one line each; --quiet drops warnings", async () => {
  const { makeLogger } = await import("../cli/context.ts");
  const hostile = "mount of a\u001b]0;pwned\u0007\nb refused\u202e";
  const lines = (globals: { debug: boolean; quiet: boolean }) => {
    let stderr = "";
    const all = {
      insecure: false,
      plainHttp: false,
      caFiles: [],
      progress: "none" as const,
      noColor: true,
      ...globals,
    };
    const ctx = {
      args: [],
      globals: all,
      out: () => {},
      err: (s: string) => stderr += s,
      isTerminal: false,
      env: () => undefined,
    };
    const logger = makeLogger(ctx, all);
    logger.warn(hostile);
    logger.warn(hostile); // said once
    logger.debug(hostile);
    return stderr;
  };
  const escaped = "mount of a\\u{1b}]0;pwned\\u{7} b refused\\u{202e}";
  assert.equal(
    lines({ debug: true, quiet: false }),
    `warning: ${escaped}\ndebug: ${escaped}\n`,
  );
  assert.equal(lines({ debug: true, quiet: true }), `debug: ${escaped}\n`);
  assert.equal(lines({ debug: false, quiet: false }), `warning: ${escaped}\n`);
});
