/**
 * The types a {@link RegistryClient}'s public surface refers to, in one place: each module of
 * the library that takes a client re-exports them (`export type * from`), so that its documentation
 * links every type it names.
 *
 * @module
 */

export type { Authenticator, AuthRequest } from "./auth.ts";
export type {
  FetchedManifest,
  RegistryClient,
  Repository,
  RequestOptions,
  UploadSession,
} from "./client.ts";
export type { Logger, RequestBody, Transport, TransportRequest } from "./transport.ts";
