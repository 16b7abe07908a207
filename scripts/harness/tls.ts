/**
 * Certificates for the harness, made with the `openssl` CLI in a directory of the caller's: a CA
 * and a server certificate for 127.0.0.1, localhost and ::1 signed by it (TLS variant), and a
 * self-signed RSA key and certificate for signing registry tokens (token variant).
 *
 * @module
 */

/** Paths and PEM text of generated material. */
export interface TlsMaterial {
  /** CA certificate (PEM file). */
  caFile: string;
  /** CA certificate PEM. */
  caPem: string;
  /** Server certificate (PEM file). */
  certFile: string;
  /** Server key (PEM file). */
  keyFile: string;
}

/** A token signing key and its certificate. */
export interface SigningMaterial {
  /** PKCS#8 private key PEM. */
  keyPem: string;
  /** Certificate PEM (goes into the registry's rootcertbundle). */
  certPem: string;
  /** Certificate file. */
  certFile: string;
  /** Base64 DER of the certificate, for the JWT `x5c` header. */
  certDerBase64: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("openssl", { args, cwd, stdout: "piped", stderr: "piped" })
      .output();
  } catch (e) {
    throw new Error(`Cannot run openssl (apt-get install -y openssl): ${(e as Error).message}`);
  }
  if (!out.success) {
    throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
}

/** Generates a CA and a server certificate for loopback names in `dir`. */
export async function makeServerTls(dir: string): Promise<TlsMaterial> {
  await openssl([
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=harness-ca",
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ], dir);
  await openssl([
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    "/CN=127.0.0.1",
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
  ], dir);
  await Deno.writeTextFile(
    `${dir}/server.ext`,
    "subjectAltName=IP:127.0.0.1,DNS:localhost,IP:::1\nextendedKeyUsage=serverAuth\n",
  );
  await openssl([
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-days",
    "2",
    "-out",
    "server.crt",
    "-extfile",
    "server.ext",
  ], dir);
  return {
    caFile: `${dir}/ca.crt`,
    caPem: await Deno.readTextFile(`${dir}/ca.crt`),
    certFile: `${dir}/server.crt`,
    keyFile: `${dir}/server.key`,
  };
}

/** Generates the token signing key and certificate in `dir`. */
export async function makeSigningKey(dir: string): Promise<SigningMaterial> {
  await openssl([
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=harness-token",
    "-keyout",
    "token.key",
    "-out",
    "token.crt",
  ], dir);
  const certPem = await Deno.readTextFile(`${dir}/token.crt`);
  const b64 = certPem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  return {
    keyPem: await Deno.readTextFile(`${dir}/token.key`),
    certPem,
    certFile: `${dir}/token.crt`,
    certDerBase64: b64,
  };
}
