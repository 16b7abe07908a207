// The inspect views as pure functions of hand-built inspect results: manifest-tool v2's human
// format line by line, the raw JSON field names, mquery's platform summary, colours.
import assert from "node:assert/strict";
import { ANSI, PLAIN } from "../lib/format/colors.ts";
import { formatHuman } from "../lib/format/human.ts";
import { formatPlatformSummary, summarizePlatforms } from "../lib/format/platforms.ts";
import { formatRaw } from "../lib/format/raw.ts";
import {
  entryName,
  type InspectedImage,
  type InspectedIndex,
  PlatformNotFoundError,
  platformOfConfig,
} from "../lib/inspect.ts";
import type { Descriptor, ImageConfig } from "../lib/manifest.ts";
import type { Platform } from "../lib/platform.ts";
import type { Referrer } from "../lib/referrers.ts";

const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";
const DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
const IN_TOTO = "application/vnd.in-toto+json";

/** A fake digest made of one repeated hex character, easy to spot in expected output. */
const dg = (c: string) => `sha256:${c.repeat(64)}`;
// deno-lint-ignore no-control-regex -- ANSI escape sequences are what is stripped
const stripAnsi = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, "");

function image(
  digest: string,
  options: {
    mediaType?: string;
    platform?: Platform;
    config?: ImageConfig;
    layers?: Descriptor[];
    annotations?: Record<string, string>;
    configMediaType?: string;
  } = {},
): InspectedImage {
  const mediaType = options.mediaType ?? OCI_MANIFEST;
  return {
    kind: "image",
    descriptor: {
      mediaType,
      digest,
      size: 500,
      ...(options.platform ? { platform: options.platform } : {}),
      ...(options.annotations ? { annotations: options.annotations } : {}),
    },
    manifest: {
      schemaVersion: 2,
      mediaType,
      config: { mediaType: options.configMediaType ?? OCI_CONFIG, digest: dg("c"), size: 300 },
      layers: options.layers ??
        [{ mediaType: OCI_LAYER, digest: dg("1"), size: 10 }, {
          mediaType: OCI_LAYER,
          digest: dg("2"),
          size: 20,
        }],
    },
    bytes: new Uint8Array(500),
    ...(options.config ? { config: options.config } : {}),
  };
}

function index(
  entries: (InspectedImage | InspectedIndex | undefined)[],
  descriptors: Descriptor[] = entries.map((e) => e!.descriptor),
  mediaType = OCI_INDEX,
): InspectedIndex {
  return {
    kind: "index",
    descriptor: { mediaType, digest: dg("f"), size: 900 },
    index: { schemaVersion: 2, mediaType, manifests: descriptors },
    bytes: new Uint8Array(900),
    children: entries,
  };
}

const AMD64 = image(dg("a"), {
  platform: { os: "linux", architecture: "amd64" },
  config: { os: "linux", architecture: "amd64" },
});
const ARMV7 = image(dg("b"), {
  platform: { os: "linux", architecture: "arm", variant: "v7" },
  config: { os: "linux", architecture: "arm", variant: "v7" },
});
const WINDOWS = image(dg("d"), {
  platform: {
    os: "windows",
    architecture: "amd64",
    "os.version": "10.0.17763.1234",
    "os.features": ["win32k"],
  },
  config: { os: "windows", architecture: "amd64", "os.version": "10.0.17763.1234" },
});
const ATTESTATION = image(dg("e"), {
  platform: { os: "unknown", architecture: "unknown" },
  annotations: {
    "vnd.docker.reference.type": "attestation-manifest",
    "vnd.docker.reference.digest": dg("a"),
  },
  layers: [{ mediaType: IN_TOTO, digest: dg("9"), size: 30 }],
});

Deno.test("formatHuman() renders an index in manifest-tool v2's layout, line by line", () => {
  const out = formatHuman("r.example/app:1", index([AMD64, ARMV7, WINDOWS, ATTESTATION]));
  const layers = [
    `     layer 01: digest = ${dg("1")}`,
    `                 type = ${OCI_LAYER}`,
    `     layer 02: digest = ${dg("2")}`,
    `                 type = ${OCI_LAYER}`,
  ];
  assert.equal(
    out,
    [
      `Name:   r.example/app:1 (Type: ${OCI_INDEX})`,
      `Digest: ${dg("f")}`,
      ` * Contains 4 manifest references (3 images, 1 attestation):`,
      `[1]     Type: ${OCI_MANIFEST}`,
      `[1]   Digest: ${dg("a")}`,
      `[1]   Length: 500`,
      `[1] Platform:`,
      `[1]    -      OS: linux`,
      `[1]    -    Arch: amd64`,
      `[1] # Layers: 2`,
      ...layers,
      ``,
      `[2]     Type: ${OCI_MANIFEST}`,
      `[2]   Digest: ${dg("b")}`,
      `[2]   Length: 500`,
      `[2] Platform:`,
      `[2]    -      OS: linux`,
      `[2]    -    Arch: arm`,
      `[2]    - Variant: v7`,
      `[2] # Layers: 2`,
      ...layers,
      ``,
      `[3]     Type: ${OCI_MANIFEST}`,
      `[3]   Digest: ${dg("d")}`,
      `[3]   Length: 500`,
      `[3] Platform:`,
      `[3]    -      OS: windows`,
      `[3]    - OS Vers: 10.0.17763.1234`,
      `[3]    - OS Feat: [win32k]`,
      `[3]    -    Arch: amd64`,
      `[3] # Layers: 2`,
      ...layers,
      ``,
      `[4]     Type: ${OCI_MANIFEST} (vnd.docker.reference.type=attestation-manifest)`,
      `[4]   Digest: ${dg("e")}`,
      `[4]   Length: 500`,
      `[4]       >>> Attestation for digest: ${dg("a")}`,
      ``,
      ``,
    ].join("\n"),
  );
});

Deno.test("formatHuman() counts images and attestations with singular and plural words", () => {
  const cases: [InspectedImage[], string][] = [
    [[AMD64], "(1 image, 0 attestation)"],
    [[AMD64, ATTESTATION], "(1 image, 1 attestation)"],
    [[AMD64, ARMV7], "(2 images, 0 attestation)"],
    [[ATTESTATION, ATTESTATION], "(0 image, 2 attestations)"],
    [[], "(0 image, 0 attestation)"],
  ];
  for (const [entries, want] of cases) {
    const out = formatHuman("x", index(entries));
    assert.ok(out.includes(` * Contains ${entries.length} manifest references ${want}:\n`), out);
  }
});

Deno.test("formatHuman() shows a Docker list's entries with their own media types", () => {
  const a = image(dg("a"), {
    mediaType: DOCKER_MANIFEST,
    platform: { os: "linux", architecture: "arm64", variant: "v8" },
  });
  const out = formatHuman("r/x", index([a], undefined, DOCKER_LIST));
  assert.ok(out.startsWith(`Name:   r/x (Type: ${DOCKER_LIST})\n`));
  assert.ok(out.includes(`[1]     Type: ${DOCKER_MANIFEST}\n`));
  assert.ok(out.includes(`[1]    - Variant: v8\n`));
});

Deno.test("formatHuman() labels an attestation without a subject digest as unknown", () => {
  const att = image(dg("e"), {
    annotations: { "vnd.docker.reference.type": "attestation-manifest" },
  });
  assert.ok(formatHuman("x", index([att])).includes(">>> Attestation for digest: unknown\n"));
});

Deno.test("formatHuman() shows a nested index indented under its entry, named by digest", () => {
  const inner = index([ARMV7]);
  inner.descriptor = { mediaType: OCI_INDEX, digest: dg("7"), size: 300 };
  const out = formatHuman("r/x@" + dg("f"), index([AMD64, inner]));
  assert.ok(out.includes(`[2]     Type: ${OCI_INDEX}\n[2]   Digest: ${dg("7")}\n`), out);
  assert.ok(
    out.includes(`[2] Nested index:\n    Name:   r/x@${dg("7")} (Type: ${OCI_INDEX})\n`),
    out,
  );
  assert.ok(out.includes(`    [1]    - Variant: v7\n`), out);
  assert.ok(out.includes(`         layer 01: digest = ${dg("1")}\n`), out);
});

Deno.test("formatHuman() says what it cannot show: unknown types, indexes nested too deep", () => {
  const helm: Descriptor = {
    mediaType: "application/vnd.cncf.helm.chart.v1",
    digest: dg("8"),
    size: 5,
  };
  const deep: Descriptor = { mediaType: OCI_INDEX, digest: dg("6"), size: 5 };
  const out = formatHuman("x", index([undefined, undefined], [helm, deep]));
  assert.ok(
    out.includes(`[1]   Length: 5\nUnknown media type for further display: ${helm.mediaType}\n`),
    out,
  );
  assert.ok(out.includes(`[2]   Length: 5\n[2] (not fetched: nested too deep)\n`), out);
});

Deno.test("formatHuman() renders a single image with OS Vers and Variant only when set", () => {
  const typeLines = [
    `      layer 01: digest = ${dg("1")}`,
    `                  type = ${OCI_LAYER}`,
    `      layer 02: digest = ${dg("2")}`,
    `                  type = ${OCI_LAYER}`,
  ];
  assert.equal(
    formatHuman("r/x:linux-amd64", AMD64),
    [
      `Name: r/x:linux-amd64 (Type: ${OCI_MANIFEST})`,
      `      Digest: ${dg("a")}`,
      `        Size: 500`,
      `          OS: linux`,
      `        Arch: amd64`,
      `    # Layers: 2`,
      ...typeLines,
      ``,
    ].join("\n"),
  );
  const arm = formatHuman("r/x", ARMV7);
  assert.ok(arm.includes(`        Arch: arm\n     Variant: v7\n    # Layers: 2\n`), arm);
  const win = formatHuman("r/x", WINDOWS);
  assert.ok(
    win.includes(`          OS: windows\n     OS Vers: 10.0.17763.1234\n        Arch: amd64\n`),
  );
  // An artifact (or a config not fetched) has no OS and Arch to show, and is not an error.
  const bare = formatHuman("r/x", ATTESTATION);
  assert.ok(bare.includes(`ArtifactType: ${OCI_CONFIG}\n    # Layers: 1\n`), bare);
});

Deno.test("formatHuman() shows an artifact's type, never empty OS and Arch lines", () => {
  const EMPTY = "application/vnd.oci.empty.v1+json";
  const sbom = image(dg("5"), { configMediaType: EMPTY });
  sbom.manifest.artifactType = "application/spdx+json";
  const helm = image(dg("6"), { configMediaType: "application/vnd.cncf.helm.config.v1+json" });
  for (
    const [r, type] of [[sbom, "application/spdx+json"], [helm, helm.manifest.config.mediaType]]
  ) {
    const out = formatHuman("r/x", r as InspectedImage);
    assert.ok(out.includes(`        Size: 500\nArtifactType: ${type}\n    # Layers: 2\n`), out);
    assert.doesNotMatch(out, /OS:|Arch:/);
  }
  // As an entry of an index (no platform): its type, no Platform block.
  const out = formatHuman("r/x", index([AMD64, sbom]));
  assert.ok(out.includes(`[2]   Length: 500\n[2] ArtifactType: application/spdx+json\n`), out);
  assert.doesNotMatch(out, /OS: *\n/);
  // An image (an image config) the index lists without a platform is no artifact.
  const { platform: _, ...bare } = AMD64.descriptor;
  const noPlatform = formatHuman("r/x", index([AMD64], [bare]));
  assert.ok(noPlatform.includes(`[1] Platform: none given by the index\n`), noPlatform);
  assert.doesNotMatch(noPlatform, /ArtifactType/);
});

Deno.test("formatHuman() counts a nested index as an index, not an image", () => {
  const inner = index([AMD64, ARMV7]);
  inner.descriptor = { mediaType: OCI_INDEX, digest: dg("7"), size: 300 };
  const out = formatHuman("r/x", index([WINDOWS, inner, ATTESTATION]));
  assert.ok(
    out.startsWith(
      `Name:   r/x (Type: ${OCI_INDEX})\nDigest: ${dg("f")}\n` +
        ` * Contains 3 manifest references (1 image, 1 index, 1 attestation):\n`,
    ),
    out,
  );
  // The nested index has its own count.
  assert.ok(
    out.includes(`     * Contains 2 manifest references (2 images, 0 attestation):\n`),
    out,
  );
  const two = formatHuman("r/x", index([inner, inner]));
  assert.ok(two.includes(`(0 image, 2 indexes, 0 attestation)`), two);
});

Deno.test("summarizePlatforms() lists a nested index's platforms in its place", () => {
  const inner = index([AMD64, ARMV7, ATTESTATION]);
  inner.descriptor = { mediaType: OCI_INDEX, digest: dg("7"), size: 300 };
  const s = summarizePlatforms("r/x", index([inner, WINDOWS]));
  assert.deepEqual(s.platforms, [
    "linux/amd64",
    "linux/arm/v7",
    "windows/amd64:10.0.17763.1234",
  ]);
  // Not fetched (too deep): the entry's own platform if it has one, else nothing.
  const unfetched = index([undefined, WINDOWS], [inner.descriptor, WINDOWS.descriptor]);
  assert.deepEqual(summarizePlatforms("r/x", unfetched).platforms, [
    "windows/amd64:10.0.17763.1234",
  ]);
});

Deno.test("formatHuman() colours values only, so stripping the codes gives the plain text", () => {
  for (const r of [index([AMD64, WINDOWS, ATTESTATION]), AMD64, WINDOWS]) {
    const plain = formatHuman("r/x:1", r, PLAIN);
    const coloured = formatHuman("r/x:1", r, ANSI);
    assert.notEqual(coloured, plain);
    assert.equal(stripAnsi(coloured), plain);
    assert.ok(!plain.includes("\x1b["));
  }
  const out = formatHuman("r/x:1", index([AMD64]), ANSI);
  assert.ok(out.includes(`Digest: \x1b[1;33m${dg("f")}\x1b[0m\n`), "digests yellow");
  assert.ok(out.includes(`Length: \x1b[1;34m500\x1b[0m\n`), "sizes blue");
  assert.ok(out.includes(`Contains \x1b[1;31m1\x1b[0m manifest`), "counts red");
  assert.ok(out.includes(`(Type: \x1b[1;32m${OCI_INDEX}\x1b[0m)`), "types green");
});

Deno.test("formatRaw() of an index keeps manifest-tool's fields and adds each entry's descriptor", () => {
  const r = index([AMD64, ATTESTATION]);
  r.index.annotations = { "org.opencontainers.image.created": "2026-01-01T00:00:00Z" };
  const doc = JSON.parse(JSON.stringify(formatRaw("r/x:1", r, false)));
  assert.deepEqual(Object.keys(doc), [
    "name",
    "digest",
    "size",
    "schemaVersion",
    "mediaType",
    "manifests",
    "annotations",
  ]);
  assert.equal(doc.name, "r/x:1");
  assert.equal(doc.digest, dg("f"));
  assert.equal(doc.size, 900);
  assert.equal(doc.schemaVersion, 2);
  assert.equal(doc.mediaType, OCI_INDEX);
  assert.deepEqual(doc.annotations, r.index.annotations);
  const [first, att] = doc.manifests;
  // manifest-tool v2's entry is the child manifest itself.
  assert.equal(first.schemaVersion, 2);
  assert.deepEqual(first.config, AMD64.manifest.config);
  assert.deepEqual(first.layers, AMD64.manifest.layers);
  // What it lacks (manifest-tool issue #223).
  assert.equal(first.digest, dg("a"));
  assert.equal(first.size, 500);
  assert.equal(first.mediaType, OCI_MANIFEST);
  assert.deepEqual(first.platform, { os: "linux", architecture: "amd64" });
  assert.deepEqual(first.descriptor, AMD64.descriptor);
  assert.equal(att.descriptor.annotations["vnd.docker.reference.digest"], dg("a"));
  assert.equal(att.layers[0].mediaType, IN_TOTO);
});

Deno.test("formatRaw() leaves out annotations when the index has none", () => {
  assert.ok(!("annotations" in formatRaw("x", index([AMD64]), false)));
});

Deno.test("formatRaw() with expandConfig embeds each image's config, for an index too", () => {
  const doc = formatRaw("x", index([ARMV7, WINDOWS, ATTESTATION]), true) as {
    manifests: Record<string, Record<string, unknown>>[];
  };
  assert.deepEqual(doc.manifests[0].config, ARMV7.config);
  assert.deepEqual(doc.manifests[0].configDescriptor, ARMV7.manifest.config);
  assert.equal(doc.manifests[1].config["os.version"], "10.0.17763.1234");
  // An attestation's config is not fetched: the descriptor stays.
  assert.deepEqual(doc.manifests[2].config, ATTESTATION.manifest.config);
  const plain = formatRaw("x", index([ARMV7]), false) as typeof doc;
  assert.ok(!("configDescriptor" in plain.manifests[0]));
  assert.deepEqual(plain.manifests[0].config, ARMV7.manifest.config);
});

Deno.test("formatRaw() of a nested index and of an entry of unknown type", () => {
  const inner = index([ARMV7]);
  inner.descriptor = { mediaType: OCI_INDEX, digest: dg("7"), size: 300 };
  const helm: Descriptor = {
    mediaType: "application/vnd.cncf.helm.chart.v1",
    digest: dg("8"),
    size: 5,
  };
  const doc = formatRaw("r/x:1", index([inner, undefined], [inner.descriptor, helm]), false) as {
    manifests: Record<string, unknown>[];
  };
  assert.equal(doc.manifests[0].name, `r/x:1@${dg("7")}`);
  assert.equal((doc.manifests[0].manifests as unknown[]).length, 1);
  assert.equal(doc.manifests[0].mediaType, OCI_INDEX);
  assert.deepEqual(doc.manifests[1], {
    digest: dg("8"),
    size: 5,
    mediaType: helm.mediaType,
    descriptor: helm,
  });
});

Deno.test("formatRaw() of an image: name, digest, os, architecture, then the manifest", () => {
  const doc = formatRaw("r/x:w", WINDOWS, false);
  assert.deepEqual(Object.keys(doc), [
    "name",
    "digest",
    "size",
    "os",
    "architecture",
    "os.version",
    "schemaVersion",
    "mediaType",
    "config",
    "layers",
  ]);
  assert.equal(doc.os, "windows");
  assert.deepEqual(doc.config, WINDOWS.manifest.config);
  assert.equal((formatRaw("r/x", ARMV7, false)).variant, "v7");
  const expanded = formatRaw("r/x:w", WINDOWS, true);
  assert.deepEqual(expanded.config, WINDOWS.config);
  assert.deepEqual(expanded.configDescriptor, WINDOWS.manifest.config);
  assert.ok(!("os" in formatRaw("r/x", ATTESTATION, false)), "no os when the config names none");
});

Deno.test("summarizePlatforms() lists platforms, leaving attestations and bare entries out", () => {
  const bare = image(dg("3"));
  const s = summarizePlatforms("r/x:1", index([AMD64, ARMV7, WINDOWS, ATTESTATION, bare]));
  assert.deepEqual(s, {
    reference: "r/x:1",
    isIndex: true,
    mediaType: OCI_INDEX,
    digest: dg("f"),
    platforms: ["linux/amd64", "linux/arm/v7", "windows/amd64:10.0.17763.1234"],
  });
  const cases: [InspectedImage, string[]][] = [
    [ARMV7, ["linux/arm/v7"]],
    [WINDOWS, ["windows/amd64:10.0.17763.1234"]],
    [ATTESTATION, []],
    [image(dg("4"), { config: { os: "linux" } }), []],
  ];
  for (const [r, want] of cases) {
    const one = summarizePlatforms("r/x", r);
    assert.equal(one.isIndex, false);
    assert.equal(one.digest, r.descriptor.digest);
    assert.deepEqual(one.platforms, want);
  }
});

Deno.test("formatPlatformSummary() prints mquery's answer", () => {
  assert.equal(
    formatPlatformSummary(summarizePlatforms("r/x:1", index([AMD64, WINDOWS]))),
    [
      "Image: r/x:1",
      ` * Manifest List: Yes (Image type: ${OCI_INDEX})`,
      ` * Digest: ${dg("f")}`,
      " * Supported platforms:",
      "   - linux/amd64",
      "   - windows/amd64:10.0.17763.1234",
      "",
    ].join("\n"),
  );
  assert.ok(
    formatPlatformSummary(summarizePlatforms("r/x", ARMV7)).includes(
      ` * Manifest List: No (Image type: ${OCI_MANIFEST})\n`,
    ),
  );
});

Deno.test("entryName() puts the entry's digest in place of the reference's", () => {
  const cases: [string, string][] = [
    ["r/x", `r/x@${dg("b")}`],
    ["r/x:1", `r/x:1@${dg("b")}`],
    [`localhost:5000/x@${dg("a")}`, `localhost:5000/x@${dg("b")}`],
    [`r/x:1@${dg("a")}`, `r/x:1@${dg("b")}`],
  ];
  for (const [name, want] of cases) assert.equal(entryName(name, dg("b")), want, name);
});

Deno.test("platformOfConfig() reads os, architecture, variant and os.version", () => {
  assert.deepEqual(platformOfConfig({ os: "linux", architecture: "arm", variant: "v7" }), {
    os: "linux",
    architecture: "arm",
    variant: "v7",
  });
  assert.deepEqual(platformOfConfig(WINDOWS.config), {
    os: "windows",
    architecture: "amd64",
    "os.version": "10.0.17763.1234",
  });
  assert.equal(platformOfConfig({ os: "linux" }), undefined);
  assert.equal(platformOfConfig(undefined), undefined);
});

Deno.test("PlatformNotFoundError names the reference, the platform and what there is", () => {
  const want = { os: "linux", architecture: "riscv64" };
  const cases: [PlatformNotFoundError, string][] = [
    [
      new PlatformNotFoundError("r/x:1", want, [
        { os: "linux", architecture: "amd64" },
        { os: "windows", architecture: "amd64", "os.version": "10.0.17763.1234" },
      ], true),
      `"r/x:1" has no entry for platform linux/riscv64: it has linux/amd64, windows/amd64:10.0.17763.1234`,
    ],
    [
      new PlatformNotFoundError("r/x:1", want, [], true),
      `"r/x:1" has no entry for platform linux/riscv64: it has none`,
    ],
    [
      new PlatformNotFoundError("r/x:a", want, [{ os: "linux", architecture: "amd64" }], false),
      `"r/x:a" is a single image for linux/amd64, not linux/riscv64`,
    ],
    [
      new PlatformNotFoundError("r/x:a", want, [], false),
      `"r/x:a" is a single image for no platform (its config names none), not linux/riscv64`,
    ],
  ];
  for (const [err, message] of cases) {
    assert.equal(err.message, message);
    assert.equal(err.name, "PlatformNotFoundError");
    assert.ok(!(err instanceof TypeError));
  }
});

const SIG_TYPE = "application/vnd.dev.cosign.artifact.sig.v1+json";
const SBOM_TYPE = "application/spdx+json";
const REFERRERS: Referrer[] = [{
  descriptor: {
    mediaType: OCI_MANIFEST,
    digest: dg("5"),
    size: 700,
    artifactType: SBOM_TYPE,
    annotations: { "org.opencontainers.image.created": "2026-01-02T03:04:05Z" },
  },
  artifactType: SBOM_TYPE,
  created: "2026-01-02T03:04:05Z",
  referrers: [{
    descriptor: { mediaType: OCI_MANIFEST, digest: dg("6"), size: 600 },
    artifactType: SIG_TYPE,
    referrers: [],
  }],
}];

Deno.test("formatHuman() lists referrers under the index and each entry, nested, or none", () => {
  const amd = { ...AMD64, referrers: REFERRERS };
  const arm = { ...ARMV7, referrers: [] };
  const r = { ...index([amd, arm]), referrers: [] };
  const text = formatHuman("r/x:1", r);
  assert.ok(text.includes(`Digest: ${dg("f")}\n * Referrers: none\n * Contains 2`), text);
  assert.ok(
    text.includes(
      [
        `                 type = ${OCI_LAYER}`,
        "[1] Referrers (1):",
        `     - ${SBOM_TYPE} ${dg("5")} (700 bytes, created 2026-01-02T03:04:05Z)`,
        `       - ${SIG_TYPE} ${dg("6")} (600 bytes)`,
        "",
        "[2]     Type:",
      ].join("\n"),
    ),
    text,
  );
  assert.ok(text.includes("[2] Referrers: none\n"), text);
  // Not asked for: manifest-tool v2's view, unchanged.
  assert.ok(!formatHuman("r/x:1", index([AMD64, ARMV7])).includes("Referrers"));
});

Deno.test("formatHuman() of a single image ends with its referrers", () => {
  const text = formatHuman("r/x:1", { ...AMD64, referrers: REFERRERS });
  assert.ok(
    text.endsWith(
      `   Referrers (1):\n      - ${SBOM_TYPE} ${
        dg("5")
      } (700 bytes, created 2026-01-02T03:04:05Z)\n` +
        `        - ${SIG_TYPE} ${dg("6")} (600 bytes)\n`,
    ),
    text,
  );
});

Deno.test("formatRaw() adds a referrers array to the top object and each entry when inspected", () => {
  const doc = formatRaw("r/x:1", {
    ...index([{ ...AMD64, referrers: REFERRERS }, { ...ARMV7, referrers: [] }]),
    referrers: [],
  }, false) as { referrers: unknown[]; manifests: { referrers: unknown[] }[] };
  assert.deepEqual(doc.referrers, []);
  assert.deepEqual(doc.manifests[1].referrers, []);
  assert.deepEqual(doc.manifests[0].referrers, [{
    artifactType: SBOM_TYPE,
    mediaType: OCI_MANIFEST,
    digest: dg("5"),
    size: 700,
    created: "2026-01-02T03:04:05Z",
    annotations: { "org.opencontainers.image.created": "2026-01-02T03:04:05Z" },
    referrers: [{
      artifactType: SIG_TYPE,
      mediaType: OCI_MANIFEST,
      digest: dg("6"),
      size: 600,
      referrers: [],
    }],
  }]);
  const image = formatRaw("r/x:1", { ...AMD64, referrers: REFERRERS }, false);
  assert.equal((image.referrers as unknown[]).length, 1);
  assert.ok(!("referrers" in formatRaw("r/x:1", index([AMD64]), false)));
});
