/**
 * Certificates for the whole-host boot's stand-ins: each signed by the cached root's test CA
 * (test/boot/image.ts), which the booted image trusts, for the real service names it answers for.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

export interface Certificate {
  readonly cert: string;
  readonly key: string;
}

/** A server certificate for `names` (DNS) and `ips`, written into `dir` as <label>.crt and <label>.key. */
export function serverCertificate(
  dir: string,
  label: string,
  ca: { caCert: string; caKey: string },
  names: readonly string[],
  ips: readonly string[] = [],
): Certificate {
  const key = path.join(dir, `${label}.key`);
  const csr = path.join(dir, `${label}.csr`);
  const cert = path.join(dir, `${label}.crt`);
  const ext = path.join(dir, `${label}.ext`);
  const san = [...names.map((n) => `DNS:${n}`), ...ips.map((i) => `IP:${i}`)].join(",");
  fs.writeFileSync(
    ext,
    `subjectAltName=${san}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n`,
  );
  const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "pipe", timeout: 60000 });
  openssl(
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    key,
    "-out",
    csr,
    "-subj",
    `/CN=${label} stand-in`,
  );
  openssl(
    "x509",
    "-req",
    "-in",
    csr,
    "-CA",
    ca.caCert,
    "-CAkey",
    ca.caKey,
    "-CAcreateserial",
    "-CAserial",
    path.join(dir, "ca.srl"),
    "-out",
    cert,
    "-days",
    "2",
    "-extfile",
    ext,
  );
  return { cert, key };
}
