/**
 * The registry implementations the harness can start ("kinds"), what each can do, and whether it
 * is installed here. Tests pick kinds by capability and skip, saying why, when one is missing:
 *
 * | kind             | binary                                          | auth | tls | delete | referrers | mount |
 * | ---------------- | ----------------------------------------------- | ---- | --- | ------ | --------- | ----- |
 * | `distribution-2` | Debian's `docker-registry` (distribution 2.8)   | yes  | yes | yes    | no        | yes   |
 * | `distribution-3` | `distribution-registry` (distribution v3.1.2)   | yes  | yes | yes    | no        | yes   |
 * | `ggcr`           | `crane registry serve` (go-containerregistry)   | no   | no  | yes    | no        | no    |
 * | `ggcr-referrers` | `ggcr-referrers-registry` (pkg/registry, ours)  | no   | no  | yes    | yes       | no    |
 *
 * The Go-built kinds live in `.tools/go/bin` (`scripts/install-go-tools.sh` puts them there; the
 * referrers registry is also built on first use when `go` is on `PATH`). Environment overrides:
 * `HARNESS_DISTRIBUTION3_BIN`, `HARNESS_CRANE_BIN`, `HARNESS_GGCR_REFERRERS_BIN`.
 *
 * Run it to see the table for this machine: `deno run -A scripts/harness/kinds.ts`.
 *
 * @module
 */

/** A registry implementation the harness can start. */
export type RegistryKind = "distribution-2" | "distribution-3" | "ggcr" | "ggcr-referrers";

/** Every kind, in the order tests run them. */
export const REGISTRY_KINDS: readonly RegistryKind[] = Object.freeze([
  "distribution-2",
  "distribution-3",
  "ggcr",
  "ggcr-referrers",
]);

/** A feature a test may need from a registry. */
export type Capability = "auth" | "tls" | "delete" | "referrers" | "mount";

/** What a kind can do: `auth` and `tls` are modes the harness can start it in. */
export type Capabilities = Readonly<Record<Capability, boolean>>;

/**
 * Measured here, not assumed: `mount` is a `201` to a cross-repository mount of a blob the source
 * repository has (go-containerregistry answers `202` to every mount); `referrers` is a `200` from
 * `GET /v2/<name>/referrers/<digest>` (the others answer `404`); `delete` is `DELETE` of a manifest
 * by digest (go-containerregistry also deletes by tag; distribution refuses that with `400`).
 */
export const KIND_CAPABILITIES: Readonly<Record<RegistryKind, Capabilities>> = Object.freeze({
  "distribution-2": { auth: true, tls: true, delete: true, referrers: false, mount: true },
  "distribution-3": { auth: true, tls: true, delete: true, referrers: false, mount: true },
  "ggcr": { auth: false, tls: false, delete: true, referrers: false, mount: false },
  "ggcr-referrers": { auth: false, tls: false, delete: true, referrers: true, mount: false },
});

/** Whether a kind is installed here, with its binary or the reason it is not. */
export interface KindStatus {
  /** The kind. */
  kind: RegistryKind;
  /** Whether {@link startRegistry} can start it on this machine. */
  installed: boolean;
  /** Its binary, when installed. */
  binary?: string;
  /** Why it is not installed, in one line that says how to install it. */
  reason?: string;
  /** What it can do. */
  capabilities: Capabilities;
}

/** `.tools/go/bin` of this checkout, where `scripts/install-go-tools.sh` installs. */
export const GO_TOOLS_BIN: string = new URL("../../.tools/go/bin", import.meta.url).pathname;
const REFERRERS_SRC = new URL("./referrers-registry", import.meta.url).pathname;
const INSTALL_GO = "run scripts/install-go-tools.sh (needs go and the Go module proxy)";

async function stat(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.stat(path);
  } catch {
    return undefined;
  }
}

/** The first executable file named `name` on `PATH`. */
export async function onPath(name: string): Promise<string | undefined> {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir && (await stat(`${dir}/${name}`))?.isFile) return `${dir}/${name}`;
  }
  return undefined;
}

/** A binary named by an environment variable, in `.tools/go/bin`, or (optionally) on `PATH`. */
async function goTool(env: string, name: string, path: boolean): Promise<string | undefined> {
  const named = Deno.env.get(env);
  if (named) return (await stat(named))?.isFile ? named : undefined;
  const local = `${GO_TOOLS_BIN}/${name}`;
  if ((await stat(local))?.isFile) return local;
  return path ? await onPath(name) : undefined;
}

/**
 * A peer CLI used as a judge (`crane`, `regctl`, `oras`, `skopeo`…): in `.tools/go/bin`, where
 * `scripts/install-go-tools.sh` puts the pinned ones, else on `PATH`.
 *
 * @example
 * ```ts ignore
 * const crane = await findTool("crane"); // undefined: skip, saying "crane not installed"
 * ```
 */
export async function findTool(name: string): Promise<string | undefined> {
  const local = `${GO_TOOLS_BIN}/${name}`;
  return (await stat(local))?.isFile ? local : await onPath(name);
}

/** Newest modification time of the referrers registry's sources. */
async function sourceMtime(): Promise<number> {
  let newest = 0;
  for await (const e of Deno.readDir(REFERRERS_SRC)) {
    const t = (await stat(`${REFERRERS_SRC}/${e.name}`))?.mtime?.getTime() ?? 0;
    if (t > newest) newest = t;
  }
  return newest;
}

let referrersBuild: Promise<string | undefined> | undefined;

/**
 * Builds `.tools/go/bin/ggcr-referrers-registry` with `go build` when `go` is on `PATH` and the
 * binary is missing or older than its sources; once per process. Written to a temporary name and
 * renamed, so parallel test processes never run a half-written binary.
 */
export function buildReferrersRegistry(): Promise<string | undefined> {
  return referrersBuild ??= (async () => {
    const out = `${GO_TOOLS_BIN}/ggcr-referrers-registry`;
    const have = await stat(out);
    if (have?.mtime && have.mtime.getTime() >= await sourceMtime()) return out;
    const go = await onPath("go");
    if (!go) return have ? out : undefined;
    await Deno.mkdir(GO_TOOLS_BIN, { recursive: true });
    const tmp = `${out}.${Deno.pid}.tmp`;
    const built = await new Deno.Command(go, {
      args: ["build", "-o", tmp, "."],
      cwd: REFERRERS_SRC,
      env: { GOFLAGS: "-mod=mod", CGO_ENABLED: "0" },
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
    if (!built.success) {
      await Deno.remove(tmp).catch(() => {});
      return have ? out : undefined;
    }
    await Deno.rename(tmp, out);
    return out;
  })();
}

/** Finds the binary of `kind`, or says why there is none. */
async function locate(kind: RegistryKind): Promise<{ binary?: string; reason?: string }> {
  switch (kind) {
    case "distribution-2": {
      const binary = Deno.env.get("REGISTRY_BIN") ?? await onPath("docker-registry") ??
        await onPath("registry");
      return binary ? { binary } : {
        reason: "distribution-2 not installed: apt-get install -y docker-registry",
      };
    }
    case "distribution-3": {
      const binary = await goTool("HARNESS_DISTRIBUTION3_BIN", "distribution-registry", false);
      return binary ? { binary } : { reason: `distribution-3 not installed: ${INSTALL_GO}` };
    }
    case "ggcr": {
      const binary = await goTool("HARNESS_CRANE_BIN", "crane", true);
      return binary ? { binary } : { reason: `ggcr (crane) not installed: ${INSTALL_GO}` };
    }
    case "ggcr-referrers": {
      const named = Deno.env.get("HARNESS_GGCR_REFERRERS_BIN");
      const binary = named
        ? ((await stat(named))?.isFile ? named : undefined)
        : await buildReferrersRegistry();
      return binary ? { binary } : {
        reason:
          "ggcr-referrers not built: needs go on PATH (scripts/install-go-tools.sh builds it)",
      };
    }
  }
}

const statuses = new Map<RegistryKind, Promise<KindStatus>>();

/**
 * Whether `kind` is installed here (cached per process).
 *
 * @example
 * ```ts ignore
 * const s = await kindStatus("ggcr");
 * if (!s.installed) console.log(`skipped: ${s.reason}`);
 * ```
 */
export function kindStatus(kind: RegistryKind): Promise<KindStatus> {
  let s = statuses.get(kind);
  if (!s) {
    s = locate(kind).then(({ binary, reason }) => ({
      kind,
      installed: binary !== undefined,
      ...(binary ? { binary } : { reason }),
      capabilities: KIND_CAPABILITIES[kind],
    }));
    statuses.set(kind, s);
  }
  return s;
}

/** Every kind with whether it is installed here. */
export function registryKinds(): Promise<KindStatus[]> {
  return Promise.all(REGISTRY_KINDS.map(kindStatus));
}

/**
 * Why a test that needs `needs` cannot run on `kind`, or `undefined` when it can: the kind is not
 * installed, or lacks a capability.
 *
 * @example
 * ```ts ignore
 * const why = await skipReason("ggcr", ["mount"]); // "ggcr has no mount"
 * ```
 */
export async function skipReason(
  kind: RegistryKind,
  needs: readonly Capability[] = [],
): Promise<string | undefined> {
  const s = await kindStatus(kind);
  if (!s.installed) return s.reason;
  const missing = needs.filter((c) => !s.capabilities[c]);
  return missing.length ? `${kind} has no ${missing.join(", ")}` : undefined;
}

/** The kinds installed here that have every capability in `needs`. */
export async function installedKinds(
  needs: readonly Capability[] = [],
): Promise<RegistryKind[]> {
  const out: RegistryKind[] = [];
  for (const kind of REGISTRY_KINDS) if (!await skipReason(kind, needs)) out.push(kind);
  return out;
}

if (import.meta.main) {
  // One line per kind, for .ci/run and for people: "kind: installed BINARY" or "kind: skipped …".
  for (const s of await registryKinds()) {
    console.log(
      s.installed ? `${s.kind}: installed ${s.binary}` : `${s.kind}: skipped: ${s.reason}`,
    );
  }
}
