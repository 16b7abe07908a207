/**
 * manifest-tool for Deno: inspect container image manifests and create and push multi-platform
 * manifest lists / OCI image indexes in any registry that speaks the OCI distribution API.
 *
 * The library is usable without the CLI: it never prints, reads `Deno.args` or exits; it logs
 * through an injected {@link Logger}.
 *
 * @example
 * ```ts ignore
 * import { parseReference, RegistryClient } from "jsr:@manifest-tool/manifest-tool";
 *
 * await using client = new RegistryClient();
 * const ref = parseReference("127.0.0.1:5000/app:latest");
 * const { descriptor } = await client.repositoryOf(ref).getManifest(ref.identifier);
 * console.log(descriptor.digest);
 * ```
 *
 * @module
 */

export * from "./lib/errors.ts";
export * from "./lib/digest.ts";
export * from "./lib/reference.ts";
export * from "./lib/platform.ts";
export * from "./lib/media_types.ts";
export * from "./lib/manifest.ts";
export * from "./lib/content.ts";
export * from "./lib/pool.ts";
export * from "./lib/version.ts";
export {
  type ClientOptions,
  type FetchedManifest,
  RegistryClient,
  Repository,
  type RequestOptions,
  UploadSession,
} from "./lib/registry/client.ts";
export {
  Authenticator,
  type AuthRequest,
  type Challenge,
  parseChallenge,
  repositoryScope,
} from "./lib/registry/auth.ts";
export {
  type Credential,
  type CredentialOptions,
  CredentialStore,
} from "./lib/registry/credentials.ts";
export {
  type Logger,
  redact,
  type RequestBody,
  SILENT,
  Transport,
  type TransportOptions,
  type TransportRequest,
} from "./lib/registry/transport.ts";
export * from "./lib/push.ts";
export * from "./lib/image_config.ts";
export * from "./lib/spec_args.ts";
export * from "./lib/inspect.ts";
export * from "./lib/inspect_platforms.ts";
export * from "./lib/referrers.ts";
export * from "./lib/spec.ts";
export * from "./lib/spec_parse.ts";
export * from "./lib/check_registry.ts";
export * from "./lib/local_store.ts";
export * from "./lib/list_sources.ts";
export * from "./lib/list_annotate.ts";
export * from "./lib/list_push.ts";
export * from "./lib/list_inspect.ts";
export * from "./lib/format/docker_json.ts";
export * from "./lib/format/colors.ts";
export * from "./lib/format/human.ts";
export * from "./lib/format/raw.ts";
export * from "./lib/format/platforms.ts";
export * from "./lib/format/check.ts";
export * from "./lib/format/push.ts";
export * from "./lib/verify.ts";
export * from "./lib/format/verify.ts";
export * from "./lib/format/escape.ts";
